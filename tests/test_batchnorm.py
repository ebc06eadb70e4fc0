import math

import numpy as np
import pytest

from course_utils.batchnorm import (
    LEARNED_LOSS,
    Retrainer,
    SweepRun,
    batchnorm_chi1,
    largest_learned_rate,
    learning_rate_sweep,
    seeded_weights,
)
from course_utils.data import load_digits
from course_utils.gradients import GradientLog
from course_utils.models import deep_mlp


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = load_digits()
    return x[:256], y[:256]


def small_model(**overrides):
    return deep_mlp(**{"depth": 3, "width": 16, "batch_norm": True, **overrides})


def test_batchnorm_chi1_matches_yang_for_relu_and_is_one_for_linear():
    assert batchnorm_chi1("relu") == pytest.approx(math.pi / (math.pi - 1), rel=1e-6)
    assert batchnorm_chi1("linear") == pytest.approx(1.0, rel=1e-9)
    assert 1.1 < batchnorm_chi1("tanh") < 1.25
    with pytest.raises(ValueError, match="activation must be one of"):
        batchnorm_chi1("swish")


def test_retrainer_restarts_from_the_same_weights_and_traces_once(digits):
    x, y = digits
    model = small_model()
    start = [w.copy() for w in model.get_weights()]
    retrainer = Retrainer(model)
    # 256 = 5 x 50 + 6: with the short last batch kept, two batch sizes go through one trace
    first = retrainer.run(x, y, learning_rate=0.1, epochs=2, batch_size=50, drop_remainder=False)
    second = retrainer.run(x, y, learning_rate=0.1, epochs=2, batch_size=50, drop_remainder=False)
    assert first.log.losses == second.log.losses  # same start, same batches, same result
    assert len(first.log.losses) == 12 and first.log.steps_per_epoch == 6
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), start))  # the model is put back
    assert not all(np.array_equal(a, b) for a, b in zip(first.weights, start))  # the run's own end weights differ
    assert retrainer._step.experimental_get_tracing_count() == 1


def test_retrainer_learning_rate_changes_the_run(digits):
    x, y = digits
    retrainer = Retrainer(small_model())
    slow = retrainer.run(x, y, learning_rate=1e-4, epochs=1, batch_size=64)
    fast = retrainer.run(x, y, learning_rate=0.5, epochs=1, batch_size=64)
    assert slow.log.losses[0] == fast.log.losses[0]  # the first loss is before any update
    assert slow.log.losses[-1] != fast.log.losses[-1]


def test_retrainer_matches_the_course_training_loop(digits):
    import keras

    from course_utils.gradients import train_with_gradient_log

    x, y = digits
    reference = train_with_gradient_log(
        small_model(batch_norm=False), x, y, keras.optimizers.SGD(0.1), epochs=1, batch_size=64
    )
    run = Retrainer(small_model(batch_norm=False)).run(x, y, learning_rate=0.1, epochs=1, batch_size=64)
    np.testing.assert_allclose(run.log.losses, reference.losses, rtol=1e-4)


def test_retrainer_drops_the_short_last_batch_by_default(digits):
    x, y = digits
    run = Retrainer(small_model()).run(x, y, learning_rate=0.1, epochs=2, batch_size=50)
    assert run.log.steps_per_epoch == 5 and len(run.log.losses) == 10


@pytest.mark.parametrize("overrides", [{}, {"batch_norm": False, "weight_scale": 4.0}, {"batch_norm": False}])
def test_seeded_weights_are_what_the_builder_draws_for_that_seed(overrides):
    model = small_model(**overrides)
    for seed in (0, 3, 100):
        expected = small_model(seed=seed, **overrides).get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(seeded_weights(model, seed), expected))
    assert not np.array_equal(seeded_weights(model, 3)[0], model.get_weights()[0])


def test_seeded_weights_need_seeded_initialisers_and_a_valid_seed():
    import keras

    unseeded = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    assert len(seeded_weights(unseeded, 0)) == 2  # seed 0: the model's own weights
    with pytest.raises(ValueError, match="unseeded kernel initialiser"):
        seeded_weights(unseeded, 1)
    with pytest.raises(ValueError, match="non-negative int"):
        seeded_weights(small_model(), -1)


def test_retrainer_seed_trains_the_network_of_that_seed(digits):
    import keras

    from course_utils.gradients import train_with_gradient_log

    x, y = digits
    reference = train_with_gradient_log(
        small_model(batch_norm=False, seed=100), x, y, keras.optimizers.SGD(0.1), epochs=1, batch_size=64, seed=100
    )
    retrainer = Retrainer(small_model(batch_norm=False))
    run = retrainer.run(x, y, learning_rate=0.1, epochs=1, batch_size=64, seed=100)
    np.testing.assert_allclose(run.log.losses, reference.losses, rtol=1e-4)
    assert run.log.losses != retrainer.run(x, y, learning_rate=0.1, epochs=1, batch_size=64).log.losses


def test_sweep_and_largest_learned_rate(digits):
    x, y = digits
    runs = learning_rate_sweep(Retrainer(small_model()), x, y, [0.1, 1e4], epochs=3, batch_size=64)
    assert list(runs) == [0.1, 1e4]
    assert not runs[1e4].learned()
    assert largest_learned_rate({lr: run for lr, run in runs.items() if lr != 0.1}) is None


def test_sweep_rejects_bad_arguments(digits):
    x, y = digits
    with pytest.raises(ValueError, match="must be a Retrainer"):
        learning_rate_sweep(small_model(), x, y, [0.1], epochs=1, batch_size=64)
    with pytest.raises(ValueError, match="at least one"):
        learning_rate_sweep(Retrainer(small_model()), x, y, [], epochs=1, batch_size=64)
    with pytest.raises(ValueError, match="learning_rate must be a finite number"):
        Retrainer(small_model()).run(x, y, learning_rate=-0.1, epochs=1, batch_size=64)


def log_with(losses, steps_per_epoch, diverged_at=None):
    return GradientLog(
        losses=losses, grad_norms=[1.0] * len(losses), diverged_at=diverged_at, steps_per_epoch=steps_per_epoch
    )


def test_learned_needs_a_finite_run_ending_below_the_threshold():
    assert SweepRun(log_with([2.3, 2.2, 1.0, 0.8], 2), []).learned()
    assert not SweepRun(log_with([2.3, 2.2, 2.1, 2.1], 2), []).learned()
    assert not SweepRun(log_with([1.0, float("nan")], 2, diverged_at=1), []).learned()
    assert SweepRun(log_with([2.3, 2.2, 2.1, 2.1], 2), []).learned(loss_below=2.5)
    runs = {
        0.1: SweepRun(log_with([1.0, 1.0], 1), []),
        1.0: SweepRun(log_with([1.5, 1.5], 1), []),
        3.0: SweepRun(log_with([9.0, 9.0], 1), []),
    }
    assert largest_learned_rate(runs) == 1.0 and LEARNED_LOSS == 2.0
