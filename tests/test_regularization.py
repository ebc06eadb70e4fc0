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
    log, history = train_tracking_weights(small_mlp(), *digits, keras.optimizers.SGD(0.01), epochs=2, batch_size=32, every=3)
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
        linear, x, y, keras.optimizers.SGD(10.0), epochs=50, batch_size=16, loss_fn=keras.losses.MeanSquaredError(), every=1
    )
    assert log.diverged
    assert history.steps[-1] == log.diverged_at  # recorded before the step that diverged, nothing after


def test_tracking_rejects_bad_arguments(digits):
    with pytest.raises(ValueError, match="every"):
        train_tracking_weights(small_mlp(), *digits, keras.optimizers.SGD(0.1), 1, 32, every=0)
    with pytest.raises(ValueError, match="optimizer"):
        train_tracking_weights(small_mlp(), *digits, "sgd", 1, 32)
