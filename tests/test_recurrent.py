import keras
import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.data import adding_problem
from course_utils.models import deep_mlp, simple_rnn
from course_utils.recurrent import (
    hidden_state_jacobian_norms,
    hidden_states,
    recurrent_kernel_gradient_norm,
    recurrent_singular_values,
)


def tiny_rnn(recurrent_scale=1.5, timesteps=6):
    return simple_rnn(units=4, timesteps=timesteps, recurrent_scale=recurrent_scale)


def test_hidden_states_are_the_states_keras_computes():
    x, _ = adding_problem(n=8, timesteps=6)
    model = tiny_rnn()
    cell = model.get_layer("rnn").cell
    every_step = keras.layers.SimpleRNN(4, return_sequences=True)
    every_step.build((None, 6, 2))
    every_step.set_weights([cell.kernel.numpy(), cell.recurrent_kernel.numpy(), cell.bias.numpy()])
    states = hidden_states(model, x)
    assert states.shape == (8, 6, 4)
    np.testing.assert_allclose(states, every_step(x).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states[:, -1], model.get_layer("rnn")(x).numpy(), rtol=1e-5, atol=1e-6)


def jacobian_by_autodiff(model, x, k):
    """dh_T/dh_k from GradientTape.batch_jacobian, restarting the recurrence at h_k (0-based steps)."""
    cell = model.get_layer("rnn").cell
    start = tf.constant(hidden_states(model, x)[:, k])
    with tf.GradientTape() as tape:
        tape.watch(start)
        state = start
        for t in range(k + 1, x.shape[1]):
            state, _ = cell(x[:, t], [state])
    return tape.batch_jacobian(state, start).numpy()


@pytest.mark.parametrize("recurrent_scale", [0.5, 2.0])
def test_jacobian_norms_match_autodiff(recurrent_scale):
    x, _ = adding_problem(n=5, timesteps=6)
    model = tiny_rnn(recurrent_scale)
    norms = hidden_state_jacobian_norms(model, x)
    assert norms.shape == (6,) and norms[0] == 1.0
    for distance in (1, 3, 5):
        jacobian = jacobian_by_autodiff(model, x, k=5 - distance)
        expected = np.mean(np.linalg.svd(jacobian, compute_uv=False)[:, 0])
        assert norms[distance] == pytest.approx(expected, rel=1e-4)


def test_pascanu_bound_holds_and_orthogonal_init_sets_every_singular_value():
    x, _ = adding_problem(n=16, timesteps=30)
    for scale in (0.5, 1.5):
        model = simple_rnn(units=8, timesteps=30, recurrent_scale=scale)
        np.testing.assert_allclose(recurrent_singular_values(model), scale, rtol=1e-5)
        norms = hidden_state_jacobian_norms(model, x)
        assert all(norm <= scale**d * (1 + 1e-6) for d, norm in enumerate(norms))


def test_singular_values_of_a_diverged_kernel_are_nan_not_an_error():
    model = tiny_rnn()
    kernel = model.get_layer("rnn").cell.recurrent_kernel
    for bad in (np.nan, np.inf):
        broken = kernel.numpy()
        broken[0, 0] = bad
        kernel.assign(broken)
        values = recurrent_singular_values(model)
        assert values.shape == (4,) and np.all(np.isnan(values))


def test_recurrent_kernel_gradient_matches_a_finite_difference():
    x, y = adding_problem(n=16, timesteps=6)
    model = tiny_rnn()
    kernel = model.get_layer("rnn").cell.recurrent_kernel
    loss_fn = keras.losses.MeanSquaredError()
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    gradient = tape.gradient(loss, kernel).numpy()
    assert recurrent_kernel_gradient_norm(model, x, y) == pytest.approx(np.linalg.norm(gradient), rel=1e-6)

    direction = gradient / np.linalg.norm(gradient)
    original, eps = kernel.numpy(), 1e-2
    losses = []
    for sign in (1, -1):
        kernel.assign(original + sign * eps * direction)
        losses.append(float(loss_fn(y, model(x))))
    kernel.assign(original)
    assert (losses[0] - losses[1]) / (2 * eps) == pytest.approx(np.linalg.norm(gradient), rel=1e-2)


def test_recurrent_helpers_reject_what_they_cannot_measure():
    with pytest.raises(ValueError, match="exactly one SimpleRNN"):
        recurrent_singular_values(deep_mlp(depth=1, width=4))
    with pytest.raises(ValueError, match="not built yet"):
        recurrent_singular_values(keras.Sequential([keras.layers.SimpleRNN(3)]))
    with pytest.raises(ValueError, match=r"\(n, timesteps, features\)"):
        hidden_states(tiny_rnn(), np.zeros((6, 2), dtype="float32"))
    x, y = adding_problem(n=4, timesteps=6)
    with pytest.raises(ValueError, match="same length"):
        recurrent_kernel_gradient_norm(tiny_rnn(), x, y[:3])
