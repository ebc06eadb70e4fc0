"""Architectures that keep gradients in range (lesson 08): gates, recurrent initialisation, skips, LayerNorm.

* ``recurrent_model``: a one-layer recurrent network for the adding problem with a
  ``SimpleRNN``, ``LSTM`` or ``GRU`` cell, an orthogonal or identity recurrent matrix
  (IRNN: ReLU with an identity matrix, Le et al. 2015) and, for the SimpleRNN, an optional
  ``LayerNormalization`` inside the cell (Ba et al. 2016). With the defaults of
  ``course_utils.models.simple_rnn`` it builds exactly the lesson-02 network.
* ``state_jacobian_norms``: ||dh_T/dh_k|| against T - k for any of them, and the LSTM's
  cell-state path ||dc_T/dc_k||, from the cell's own Jacobians (automatic differentiation).
* ``residual_mlp``: the deep tanh MLP of ``models.deep_mlp`` (same kernels, same seeds)
  with identity skip connections ``h + tanh(W h)``, optionally pre-norm ``h + tanh(W LN(h))``.
* ``SequenceTrainer``: trains one recurrent model several times (clipping on or off,
  other seeds) tracing its training step only once.

    >>> from course_utils.data import adding_problem
    >>> x, _ = adding_problem(n=8, timesteps=12)
    >>> norms = state_jacobian_norms(recurrent_model("lstm", units=8, timesteps=12), x)
    >>> sorted(norms), len(norms["h"])    # entry d is the norm d steps back; "c": the LSTM's cell state
    (['c', 'h'], 12)
"""

import math

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import (
    require_choice,
    require_positive_int,
    require_positive_number,
    require_same_length,
)
from course_utils.gradients import GradientLog, batch_signature, require_built_model, train_with_step
from course_utils.models import scaled_normal
from course_utils.recurrent import recurrent_layer
from course_utils.seeding import course_seed

CELLS = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
RECURRENT_INITS = {"orthogonal", "identity"}


@keras.saving.register_keras_serializable(package="course_utils")
class LayerNormSimpleRNNCell(keras.layers.Layer):
    """h_t = activation(LayerNorm(x_t W + h_{t-1} U)): a SimpleRNN cell with layer normalization (Ba et al. 2016).

    LayerNorm standardises the pre-activation over the *units* of one sequence at one
    step, so it needs neither a batch nor per-step statistics; its learned shift replaces
    the bias. Use it inside ``keras.layers.RNN``.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = require_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.state_size = self.units
        self.output_size = self.units
        self.norm = keras.layers.LayerNormalization(name="layer_norm")

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer=self.kernel_initializer, name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer=self.recurrent_initializer, name="recurrent_kernel"
        )
        self.norm.build((None, self.units))

    def call(self, inputs, states, training=False):
        previous = states[0] if isinstance(states, (list, tuple)) else states
        h = self.activation(self.norm(inputs @ self.kernel + previous @ self.recurrent_kernel))
        return h, [h]


def _recurrent_initializer(recurrent_init, recurrent_scale, seed):
    if recurrent_init == "identity":
        return keras.initializers.Identity(gain=recurrent_scale)
    return keras.initializers.Orthogonal(gain=recurrent_scale, seed=seed)


def recurrent_model(
    cell="simple",
    units=32,
    timesteps=20,
    recurrent_init="orthogonal",
    recurrent_scale=1.0,
    activation=None,
    layer_norm=False,
    input_dim=2,
    seed=0,
):
    """A recurrent layer named ``rnn`` reading ``(timesteps, input_dim)`` sequences, and a linear ``readout``.

    ``timesteps=None`` accepts sequences of any length (one model, and one traced training
    step in ``SequenceTrainer``, for several lengths).

    ``cell``: ``"simple"`` (``SimpleRNN``), ``"lstm"`` or ``"gru"``, with Keras' defaults
    otherwise (the LSTM's forget-gate bias starts at 1). The recurrent matrix is
    ``recurrent_scale`` times a random orthogonal matrix (``recurrent_init="orthogonal"``:
    every singular value equals ``recurrent_scale``) or times the identity
    (``"identity"``). ``activation`` (SimpleRNN only; default ``"tanh"``): ``"relu"`` with
    the identity is Le et al.'s IRNN. ``layer_norm=True`` (SimpleRNN only) normalises each
    step's pre-activation (``LayerNormSimpleRNNCell``). The seeds are those of
    ``models.simple_rnn``, so ``recurrent_model(recurrent_scale=1.5)`` is the lesson-02 baseline.
    """
    require_choice("cell", cell, set(CELLS))
    require_choice("recurrent_init", recurrent_init, RECURRENT_INITS)
    units = require_positive_int("units", units)
    if timesteps is not None:
        timesteps = require_positive_int("timesteps", timesteps, minimum=2)
    input_dim = require_positive_int("input_dim", input_dim)
    recurrent_scale = require_positive_number("recurrent_scale", recurrent_scale)
    if cell != "simple" and (activation is not None or layer_norm):
        raise ValueError(f"activation and layer_norm are options of the 'simple' cell only, got cell={cell!r}")
    seed = course_seed(seed)
    initializers = dict(
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        recurrent_initializer=_recurrent_initializer(recurrent_init, recurrent_scale, seed + 1),
    )
    if layer_norm:
        layer = keras.layers.RNN(
            LayerNormSimpleRNNCell(units, activation=activation or "tanh", **initializers), name="rnn"
        )
    elif cell == "simple":
        layer = keras.layers.SimpleRNN(units, activation=activation or "tanh", name="rnn", **initializers)
    else:
        layer = CELLS[cell](units, name="rnn", **initializers)
    name = f"{cell}{'_layernorm' if layer_norm else ''}_{recurrent_init}{recurrent_scale:g}"
    return keras.Sequential(
        [
            keras.Input(shape=(timesteps, input_dim), name="sequence"),
            layer,
            keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2), name="readout"),
        ],
        name=name,
    )


def recurrent_cell(model):
    """The cell of ``model``'s (single) recurrent layer; a clear error if there is none."""
    return recurrent_layer(model, keras.layers.RNN).cell


def _state_sizes(cell):
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    return [int(size) for size in sizes]


def state_jacobian_norms(model, x):
    """Mean spectral norm of dh_T/dh_{T-d} over the sequences ``x``, for d = 0 .. T-1, as ``{"h": norms}``.

    For an LSTM, whose state is (h, c), also ``"c"``: dc_T/dc_{T-d}, the cell-state path.
    (Each is a block of the Jacobian of the whole state: dh_T/dh_k holds c_k fixed.)
    Runs the model's own cell step by step, takes each step's Jacobian d s_t / d s_{t-1}
    by automatic differentiation and multiplies them from the last step backwards (float64),
    so it works for any cell; for a SimpleRNN it equals ``recurrent.hidden_state_jacobian_norms``.
    """
    cell = recurrent_cell(model)
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    if x.shape.rank != 3:
        raise ValueError(f"x should have shape (n, timesteps, features), got {tuple(x.shape)}")
    sizes = _state_sizes(cell)

    @tf.function
    def step(x_t, state):
        with tf.GradientTape() as tape:
            tape.watch(state)
            _, new = cell(x_t, list(tf.split(state, sizes, axis=1)))
            new = tf.concat(new if isinstance(new, (list, tuple)) else [new], axis=1)
        return new, tape.batch_jacobian(new, state)

    n, timesteps = x.shape[0], x.shape[1]
    state = tf.zeros((n, sum(sizes)))
    jacobians = []
    for t in range(timesteps):
        state, jacobian = step(x[:, t], state)
        jacobians.append(jacobian.numpy().astype(np.float64))
    blocks = {"h": slice(0, sizes[0])}
    if len(sizes) == 2:
        blocks["c"] = slice(sizes[0], sizes[0] + sizes[1])
    product = np.broadcast_to(np.eye(sum(sizes)), (n, sum(sizes), sum(sizes)))
    norms = {name: [1.0] for name in blocks}
    for t in range(timesteps - 1, 0, -1):  # ds_T/ds_{t-1} = ds_T/ds_t @ ds_t/ds_{t-1}
        product = product @ jacobians[t]
        for name, block in blocks.items():
            norms[name].append(float(np.mean(np.linalg.svd(product[:, block, block], compute_uv=False)[:, 0])))
    return {name: np.array(values) for name, values in norms.items()}


def residual_mlp(
    depth, width=64, activation="tanh", weight_scale=4.0, pre_norm=False, input_dim=64, num_classes=10, seed=0
):
    """``models.deep_mlp`` with a skip connection around every hidden block (Keras functional API).

    Block ``i`` computes ``h + activation(Dense_i(h))``, or with ``pre_norm=True``
    ``h + activation(Dense_i(LayerNorm(h)))`` followed, after the last block, by one more
    ``LayerNormalization`` before the ``output`` layer (the pre-norm recipe of GPT-2).
    The Dense layers are named, initialised and seeded exactly as in ``deep_mlp`` (kernels
    from N(0, weight_scale**2 / fan_in)), so the plain and the residual network share their
    weights. The skips add the input itself to the first block, so ``input_dim`` must equal ``width``.
    """
    depth = require_positive_int("depth", depth)
    width = require_positive_int("width", width)
    num_classes = require_positive_int("num_classes", num_classes)
    weight_scale = require_positive_number("weight_scale", weight_scale)
    if input_dim != width:
        raise ValueError(
            f"the first skip adds the input to a block's output: input_dim ({input_dim}) must equal width ({width})"
        )
    seed = course_seed(seed)
    inputs = keras.Input(shape=(input_dim,), name="pixels")
    h = inputs
    for i in range(depth):
        branch = keras.layers.LayerNormalization(name=f"layernorm_{i}")(h) if pre_norm else h
        branch = keras.layers.Dense(
            width, kernel_initializer=scaled_normal(weight_scale, width, seed + i), name=f"dense_{i}"
        )(branch)
        branch = keras.layers.Activation(activation, name=f"{activation}_{i}")(branch)
        h = keras.layers.Add(name=f"skip_{i}")([h, branch])
    if pre_norm:
        h = keras.layers.LayerNormalization(name="layernorm_final")(h)
    outputs = keras.layers.Dense(
        num_classes, kernel_initializer=scaled_normal(weight_scale, width, seed + depth), name="output"
    )(h)
    return keras.Model(inputs, outputs, name=f"residual{'_prenorm' if pre_norm else ''}_{activation}_depth{depth}")


class SequenceTrainer:
    """Train one model with Adam (``learning_rate``), global-norm clipping on or off, tracing the step once.

    ``run`` starts from ``initial_weights`` (default: the model's weights when the trainer
    was made), resets Adam's state, trains on full minibatches (``gradients.train_with_step``:
    same batches for the same ``seed``) clipping the gradient's global norm at ``clipnorm``
    (``None``: no clipping, as ``tf.clip_by_global_norm`` in Pascanu et al.'s Algorithm 1)
    and returns the ``GradientLog`` (raw norms, before clipping), leaving the trained weights
    in the model.

        >>> trainer = SequenceTrainer(recurrent_model("lstm"), keras.losses.MeanSquaredError())   # doctest: +SKIP
        >>> log = trainer.run(x, y, epochs=5, batch_size=100, clipnorm=1.0)                        # doctest: +SKIP
    """

    def __init__(self, model, loss_fn, learning_rate=0.01):
        require_built_model(model)
        self.model = model
        self.loss_fn = loss_fn
        self.initial_weights = model.get_weights()
        self.optimizer = keras.optimizers.Adam(learning_rate=require_positive_number("learning_rate", learning_rate))
        self.optimizer.build(model.trainable_variables)
        self._optimizer_start = [variable.numpy() for variable in self.optimizer.variables]  # step count, moments, rate
        self._threshold = tf.Variable(math.inf, trainable=False, dtype=tf.float32)
        self._step = None

    def _traced_step(self, x, y):
        if self._step is None:
            model, loss_fn, optimizer, threshold = self.model, self.loss_fn, self.optimizer, self._threshold
            variables = model.trainable_variables

            x_spec, y_spec = batch_signature(x, y)
            x_spec = tf.TensorSpec((None, None) + x_spec.shape[2:], x_spec.dtype)  # any batch size and length

            @tf.function(input_signature=[x_spec, y_spec])
            def step(x_batch, y_batch):
                with tf.GradientTape() as tape:
                    loss = loss_fn(y_batch, model(x_batch, training=True))
                grads = tape.gradient(loss, variables)
                raw_norm = tf.linalg.global_norm(grads)
                scale = tf.minimum(1.0, threshold / raw_norm)  # threshold inf: no clipping
                optimizer.apply([g * scale for g in grads], variables)
                return loss, raw_norm

            self._step = step
        return self._step

    def run(self, x, y, epochs, batch_size, clipnorm=None, seed=0, initial_weights=None):
        require_same_length(x, y)
        x, y = np.asarray(x), np.asarray(y)
        self.model.set_weights(self.initial_weights if initial_weights is None else initial_weights)
        for variable, start in zip(self.optimizer.variables, self._optimizer_start):
            variable.assign(start)
        self._threshold.assign(math.inf if clipnorm is None else require_positive_number("clipnorm", clipnorm))
        return train_with_step(self._traced_step(x, y), x, y, epochs, batch_size, seed=seed)


def evaluate_mse(model, log, x_test, y_test):
    """Mean squared error of ``model`` on ``(x_test, y_test)``; NaN if its training ``log`` diverged."""
    if not isinstance(log, GradientLog):
        raise ValueError(f"log must be a GradientLog, got {type(log).__name__}")
    if log.diverged:
        return float("nan")
    return float(np.mean((np.asarray(model(x_test)) - np.asarray(y_test)) ** 2))
