"""Measuring how gradients travel back through time in a ``SimpleRNN(tanh)``.

A SimpleRNN updates its state as h_t = tanh(x_t W + h_{t-1} U + b) (Keras' row-vector
convention), so one step back in time multiplies by the Jacobian

    dh_t / dh_{t-1} = diag(1 - h_t**2) U^T

and the long-range term dh_T / dh_k is a product of T - k of them. With |tanh'| <= 1
its norm is at most s_max(U)**(T - k), where s_max is U's largest singular value
(Pascanu, Mikolov & Bengio 2013): s_max > 1 is necessary for it to explode, and
s_max < 1 makes it vanish.

    >>> from course_utils.data import adding_problem
    >>> from course_utils.models import simple_rnn
    >>> x, _ = adding_problem(n=64, timesteps=30)
    >>> model = simple_rnn(units=32, timesteps=30, recurrent_scale=0.5)
    >>> norms = hidden_state_jacobian_norms(model, x)   # entry d is ||dh_T / dh_{T-d}||
    >>> bool(norms[20] < 0.5**20)                       # Pascanu's bound
    True
"""

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_same_length
from course_utils.gradients import require_built_model


def recurrent_layer(model, layer_type=keras.layers.SimpleRNN):
    """The single ``layer_type`` layer of ``model`` (``keras.layers.RNN``: any recurrent layer); a clear error if
    there is none or more than one. The course's one way to find a model's recurrence."""
    require_built_model(model)
    layers = [layer for layer in model.layers if isinstance(layer, layer_type)]
    if len(layers) != 1:
        what = "recurrent" if layer_type is keras.layers.RNN else layer_type.__name__
        raise ValueError(f"model {model.name!r} should have exactly one {what} layer, found {len(layers)}")
    return layers[0]


def recurrent_singular_values(model):
    """Singular values of the recurrent kernel U, largest first.

    A kernel that holds NaN or infinite values (after a diverged training run) has no
    singular values: the result is then all NaN, instead of an error from the SVD.

        >>> recurrent_singular_values(simple_rnn(units=4, timesteps=5, recurrent_scale=1.5)).round(3)  # doctest: +SKIP
        array([1.5, 1.5, 1.5, 1.5])
    """
    kernel = recurrent_layer(model).cell.recurrent_kernel.numpy()
    if not np.all(np.isfinite(kernel)):
        return np.full(min(kernel.shape), np.nan)
    return np.linalg.svd(kernel, compute_uv=False)


def hidden_states(model, x):
    """Every hidden state h_1 .. h_T of ``model``'s SimpleRNN on the sequences ``x``: shape (n, T, units).

    Steps the layer's own Keras cell, so the states are exactly the ones the model computes.
    """
    cell = recurrent_layer(model).cell
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    if x.shape.rank != 3:
        raise ValueError(f"x should have shape (n, timesteps, features), got {tuple(x.shape)}")
    state = tf.zeros((x.shape[0], cell.units))
    states = []
    for t in range(x.shape[1]):
        state, _ = cell(x[:, t], [state])
        states.append(state)
    return tf.stack(states, axis=1).numpy()


def hidden_state_jacobian_norms(model, x):
    """Mean spectral norm of dh_T / dh_{T-d} over the sequences ``x``, for d = 0 .. T-1.

    Multiplies the one-step Jacobians diag(1 - h_t**2) U^T from the last step backwards
    (in float64). Entry 0 is ||I|| = 1; entry d is the long-range term d steps back.
    """
    states = hidden_states(model, x).astype(np.float64)
    kernel_t = recurrent_layer(model).cell.recurrent_kernel.numpy().astype(np.float64).T
    n, timesteps, units = states.shape
    product = np.broadcast_to(np.eye(units), (n, units, units))
    norms = [1.0]
    for t in range(timesteps - 1, 0, -1):  # dh_T/dh_{t-1} = dh_T/dh_t @ diag(1 - h_t**2) U^T
        product = product @ ((1.0 - states[:, t] ** 2)[:, :, None] * kernel_t)
        norms.append(float(np.mean(np.linalg.svd(product, compute_uv=False)[:, 0])))
    return np.array(norms)


def recurrent_kernel_gradient_norm(model, x, y, loss_fn=None):
    """L2 norm of d(loss)/dU, the gradient w.r.t. the recurrent kernel (default loss: mean squared error)."""
    require_same_length(x, y)
    kernel = recurrent_layer(model).cell.recurrent_kernel
    loss_fn = loss_fn or keras.losses.MeanSquaredError()
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    return float(tf.norm(tape.gradient(loss, kernel)))
