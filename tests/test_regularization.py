import keras
import numpy as np
import pytest

from course_utils.data import load_digits
from course_utils.models import deep_mlp, simple_rnn
from course_utils.regularization import (
    gradient_split,
    kernel_norm,
    kernels,
    largest_singular_value,
    recurrent_kernel,
    train_over_seeds,
    train_steps,
    train_tracking_weights,
)


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = load_digits()
    return x[:128], y[:128]


def small_mlp(regularizer=None):
    return deep_mlp(depth=2, width=8, weight_scale=1.0, kernel_regularizer=regularizer)


def test_kernels_are_the_weight_matrices_without_biases():
    assert [tuple(w.shape) for w in kernels(small_mlp())] == [(64, 8), (8, 8), (8, 10)]
    rnn = simple_rnn(units=4, timesteps=5, recurrent_scale=1.5)
    assert [tuple(w.shape) for w in kernels(rnn)] == [(2, 4), (4, 4), (4, 1)]


def test_kernel_norm_is_the_norm_of_all_kernels_together():
    model = small_mlp()
    expected = np.sqrt(sum(np.sum(w.numpy().astype(np.float64) ** 2) for w in kernels(model)))
    assert kernel_norm(model) == pytest.approx(expected, rel=1e-5)


def test_recurrent_kernel_and_its_largest_singular_value():
    assert recurrent_kernel(small_mlp()) is None
    rnn = simple_rnn(units=6, timesteps=5, recurrent_scale=1.5)
    assert tuple(recurrent_kernel(rnn).shape) == (6, 6)
    assert largest_singular_value(recurrent_kernel(rnn)) == pytest.approx(1.5, rel=1e-5)
    assert largest_singular_value(np.diag([3.0, -4.0])) == pytest.approx(4.0)
    assert np.isnan(largest_singular_value(np.array([[np.nan, 0.0], [0.0, 1.0]])))


def test_helpers_reject_what_is_not_a_built_model():
    with pytest.raises(ValueError, match="keras.Model"):
        kernel_norm("model")
    with pytest.raises(ValueError, match="not built yet"):
        recurrent_kernel(keras.Sequential([keras.layers.SimpleRNN(3)]))


def test_gradient_split_without_a_penalty(digits):
    split = gradient_split(small_mlp(), *digits)
    assert split.penalty == 0.0 and split.penalty_norm == 0.0
    assert split.total_norm == pytest.approx(split.data_norm)


def test_gradient_split_finds_the_l2_penalty_and_its_gradient(digits):
    strength = 0.05
    model = small_mlp(keras.regularizers.l2(strength))
    split = gradient_split(model, *digits)
    assert split.penalty == pytest.approx(strength * kernel_norm(model) ** 2, rel=1e-4)
    assert split.penalty_norm == pytest.approx(2 * strength * kernel_norm(model), rel=1e-4)  # d/dW of l*W^2 = 2lW
    assert split.data_norm == pytest.approx(gradient_split(small_mlp(), *digits).data_norm, rel=1e-5)
    assert abs(split.data_norm - split.penalty_norm) <= split.total_norm <= split.data_norm + split.penalty_norm + 1e-6


def test_tracking_records_every_few_steps_and_at_the_end(digits):
    log, history = train_tracking_weights(
        small_mlp(), *digits, keras.optimizers.SGD(0.01), epochs=2, batch_size=32, every=3
    )
    assert len(log.losses) == 8
    assert history.steps == [0, 3, 6, 8]
    assert len(history.kernel_norms) == 4 and history.recurrent_sigma_max == []


def test_a_strong_l2_penalty_shrinks_the_weights_during_training(digits):
    model = small_mlp(keras.regularizers.l2(1.0))
    _, history = train_tracking_weights(model, *digits, keras.optimizers.SGD(0.1), epochs=2, batch_size=32)
    assert history.kernel_norms[-1] < 0.5 * history.kernel_norms[0]  # (1 - 2 * 0.1 * 1.0)^8 = 0.17


def test_tracking_an_rnn_records_the_recurrent_singular_value():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 5, 2)).astype("float32")
    y = rng.uniform(size=(64, 1)).astype("float32")
    rnn = simple_rnn(units=4, timesteps=5, recurrent_scale=1.5, recurrent_regularizer=keras.regularizers.l2(0.5))
    log, history = train_tracking_weights(
        rnn, x, y, keras.optimizers.SGD(0.1), epochs=2, batch_size=16, loss_fn=keras.losses.MeanSquaredError(), every=2
    )
    assert history.recurrent_sigma_max[0] == pytest.approx(1.5, rel=1e-5)
    assert len(history.recurrent_sigma_max) == len(history.steps) == 5
    assert history.recurrent_sigma_max[-1] < 1.5  # the penalty pulled it down


def test_a_diverged_run_gets_no_final_record():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")
    linear = deep_mlp(depth=1, width=3, activation="linear", weight_scale=1.0, input_dim=4, num_classes=2)
    log, history = train_tracking_weights(
        linear,
        x,
        y,
        keras.optimizers.SGD(10.0),
        epochs=50,
        batch_size=16,
        loss_fn=keras.losses.MeanSquaredError(),
        every=1,
    )
    assert log.diverged
    assert history.steps[-1] == log.diverged_at  # recorded before the step that diverged, nothing after


def test_tracking_rejects_bad_arguments(digits):
    with pytest.raises(ValueError, match="every"):
        train_tracking_weights(small_mlp(), *digits, keras.optimizers.SGD(0.1), 1, 32, every=0)
    with pytest.raises(ValueError, match="optimizer"):
        train_tracking_weights(small_mlp(), *digits, "sgd", 1, 32)


def penalised_rnn_config(seed, optimizer=None):
    rnn = simple_rnn(
        units=4, timesteps=5, recurrent_scale=1.5, recurrent_regularizer=keras.regularizers.l2(0.05), seed=seed
    )
    return rnn, optimizer or keras.optimizers.SGD(0.1, clipnorm=1.0)


@pytest.fixture(scope="module")
def sequences():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(64, 5, 2)).astype("float32"), rng.uniform(size=(64, 1)).astype("float32")


def test_train_over_seeds_trains_each_seed_as_train_tracking_weights_would(sequences):
    """One traced step reused across seeds must give each seed the run (log and weights) it would have on its own."""
    mse = keras.losses.MeanSquaredError()
    runs = train_over_seeds(
        penalised_rnn_config,
        *sequences,
        seeds=[0, 3],
        epochs=3,
        batch_size=16,
        loss_fn=mse,
        every=2,
        score=lambda model: float(np.mean(model(sequences[0]))),
    )
    assert [run.seed for run in runs] == [0, 3]
    for run in runs:
        model, optimizer = penalised_rnn_config(run.seed)
        log, history = train_tracking_weights(model, *sequences, optimizer, 3, 16, loss_fn=mse, seed=run.seed, every=2)
        np.testing.assert_allclose(run.log.losses, log.losses, rtol=1e-5)
        np.testing.assert_allclose(run.log.grad_norms, log.grad_norms, rtol=1e-5)
        assert run.history.steps == history.steps == [0, 2, 4, 6, 8, 10, 12]
        np.testing.assert_allclose(run.history.recurrent_sigma_max, history.recurrent_sigma_max, rtol=1e-5)
        np.testing.assert_allclose(run.history.kernel_norms, history.kernel_norms, rtol=1e-5)
        assert run.score == pytest.approx(float(np.mean(model(sequences[0]))), rel=1e-5)
    assert runs[0].history.recurrent_sigma_max[0] == pytest.approx(1.5, rel=1e-5)
    assert runs[0].log.losses != runs[1].log.losses  # the seeds really differ


def test_train_over_seeds_resets_the_optimizer_state_between_seeds(sequences):
    def momentum(seed):  # a stateful optimizer: its velocity must not leak from one seed into the next
        return penalised_rnn_config(seed, keras.optimizers.SGD(0.05, momentum=0.9))

    mse = keras.losses.MeanSquaredError()
    alone = train_over_seeds(momentum, *sequences, seeds=[3], epochs=2, batch_size=16, loss_fn=mse)
    after_another = train_over_seeds(momentum, *sequences, seeds=[0, 3], epochs=2, batch_size=16, loss_fn=mse)
    np.testing.assert_allclose(alone[0].log.losses, after_another[1].log.losses, rtol=1e-5)


def test_train_over_seeds_scores_a_diverged_run_nan_and_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")

    def exploding(seed):
        linear = deep_mlp(
            depth=1, width=3, activation="linear", weight_scale=1.0, input_dim=4, num_classes=2, seed=seed
        )
        return linear, keras.optimizers.SGD(10.0)

    mse = keras.losses.MeanSquaredError()
    runs = train_over_seeds(
        exploding, x, y, seeds=[0], epochs=50, batch_size=16, loss_fn=mse, every=1, score=lambda model: 1.0
    )
    assert runs[0].log.diverged and np.isnan(runs[0].score)
    assert runs[0].history.steps[-1] == runs[0].log.diverged_at  # nothing recorded after the step that diverged
    with pytest.raises(ValueError, match="at least one seed"):
        train_over_seeds(exploding, x, y, seeds=[], epochs=1, batch_size=16, loss_fn=mse)
    with pytest.raises(ValueError, match="every"):
        train_over_seeds(exploding, x, y, seeds=[0], epochs=1, batch_size=16, loss_fn=mse, every=0)

    def seed_dependent_optimizer(seed):
        return exploding(seed)[0], keras.optimizers.SGD(0.1 * (seed + 1))

    with pytest.raises(ValueError, match="only the weights may depend on the seed"):
        train_over_seeds(seed_dependent_optimizer, x, y, seeds=[0, 1], epochs=1, batch_size=16, loss_fn=mse)


def test_per_variable_norms_take_the_logged_gradient_apart(sequences):
    """The per-variable norms add up (in squares) to the logged global norm, and split into data and penalty."""
    mse = keras.losses.MeanSquaredError()
    split, plain = (
        train_over_seeds(penalised_rnn_config, *sequences, seeds=[0], epochs=2, batch_size=16, loss_fn=mse, **kw)[0]
        for kw in (dict(per_variable=True), dict())
    )
    np.testing.assert_allclose(split.log.losses, plain.log.losses, rtol=1e-5)  # the same run, with more logged
    assert plain.variable_norms is None
    norms = split.variable_norms
    assert norms.total.shape == norms.penalty.shape == norms.data.shape == (8, 5)
    np.testing.assert_allclose(np.sqrt((norms.total**2).sum(axis=1)), split.log.grad_norms, rtol=1e-5)
    u = norms.index("recurrent_kernel")
    start = recurrent_kernel(penalised_rnn_config(0)[0]).numpy()
    assert norms.penalty[0, u] == pytest.approx(2 * 0.05 * np.linalg.norm(start), rel=1e-5)  # d/dU of l*U^2 = 2lU
    assert np.all(np.delete(norms.penalty, u, axis=1) == 0.0)  # the penalty is on U only
    assert np.all(norms.data[:, u] + norms.penalty[:, u] >= norms.total[:, u] - 1e-6)  # the triangle inequality
    assert norms.clipped_by_clipnorm(1.0) <= split.log.fraction_above(1.0)  # the global norm bounds each variable's
    np.testing.assert_array_equal(norms.clip_factors("recurrent_kernel", 1.0) < 1, norms.total[:, u] > 1)
    assert split.final_weight("recurrent_kernel").shape == (4, 4)
    with pytest.raises(ValueError, match="exactly one"):
        split.final_weight("kernel")  # the input, recurrent and readout kernels all match
    with pytest.raises(ValueError, match="exactly one"):
        norms.index("bias")


def test_weight_decay_in_sgd_is_the_l2_penalty_step_for_step(sequences):
    """The lesson's claim: SGD(weight_decay=2 lambda) on U only trains what recurrent_regularizer=l2(lambda) does."""
    mse = keras.losses.MeanSquaredError()
    coupled = simple_rnn(units=4, timesteps=5, recurrent_scale=1.5, recurrent_regularizer=keras.regularizers.l2(0.05))
    train_steps(coupled, keras.optimizers.SGD(0.1), *sequences, steps=4, batch_size=16, loss_fn=mse)
    decoupled = simple_rnn(units=4, timesteps=5, recurrent_scale=1.5)
    sgd = keras.optimizers.SGD(0.1, weight_decay=2 * 0.05)
    matrix = recurrent_kernel(decoupled)
    sgd.exclude_from_weight_decay(var_list=[v for v in decoupled.trainable_variables if v is not matrix])
    losses = train_steps(decoupled, sgd, *sequences, steps=4, batch_size=16, loss_fn=mse)
    assert len(losses) == 4
    for a, b in zip(coupled.get_weights(), decoupled.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match="need 320 examples"):
        train_steps(decoupled, sgd, *sequences, steps=5, batch_size=64, loss_fn=mse)
