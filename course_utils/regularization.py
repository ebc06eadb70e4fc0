"""Weight penalties, looked at closely (lesson 04).

A ``kernel_regularizer`` adds a penalty such as 0.01 * sum(W**2) to the loss; Keras
keeps it apart from the data loss, in ``model.losses``, and a training step adds it.
These helpers measure what the penalty does: how its gradient compares with the data
loss's (``gradient_split``), and how the weights evolve over training
(``train_tracking_weights``: the norm of all kernels and, for a recurrent network,
the largest singular value of the recurrent matrix). A single training run is chaotic,
so the lesson repeats each run over a few seeds (``train_over_seeds``, which traces the
training step once for all of them) and prints ``approx.median_and_range``. Its runs
also log, per step and per variable, the raw gradient's norm taken apart into the data
loss's and the penalty's (``VariableNorms``): ``clipnorm`` compares each variable's norm
with its threshold, so that is the norm to read against a ``clipnorm`` threshold.

    >>> import keras
    >>> from course_utils.models import simple_rnn
    >>> rnn = simple_rnn(units=8, timesteps=5, recurrent_scale=1.5, recurrent_regularizer=keras.regularizers.l2(0.01))
    >>> len(rnn.losses)  # one penalty, on the recurrent matrix
    1
    >>> round(largest_singular_value(recurrent_kernel(rnn)), 3)
    1.5
"""

from dataclasses import dataclass, field

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_positive_int, require_same_length
from course_utils.gradients import (
    GradientLog,
    default_loss,
    loss_and_gradients,
    require_built_model,
    steps_over_seeds,
    train_with_step,
    training_step,
)
from course_utils.recurrent import recurrent_layer

KERNEL_NAMES = ("kernel", "recurrent_kernel")


def kernels(model):
    """Every weight matrix of ``model`` (Dense kernels, RNN input and recurrent kernels); no biases."""
    require_built_model(model)
    return [v for v in model.trainable_variables if v.name in KERNEL_NAMES]


def kernel_norm(model):
    """The L2 norm of all of ``model``'s kernels taken together (the quantity an L2 penalty shrinks)."""
    return float(tf.linalg.global_norm(kernels(model)))


def recurrent_kernel(model):
    """The recurrent matrix of ``model``'s recurrent layer (``None`` for a model without one)."""
    require_built_model(model)
    if not any(isinstance(layer, keras.layers.RNN) for layer in model.layers):
        return None
    return recurrent_layer(model, keras.layers.RNN).cell.recurrent_kernel


def largest_singular_value(matrix):
    """The spectral norm of ``matrix``: the most any direction is stretched by one step of h -> W h.

    ``nan`` if the matrix holds NaN or infinite values (a run that diverged).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if not np.all(np.isfinite(matrix)):
        return float("nan")
    return float(np.linalg.svd(matrix, compute_uv=False)[0])


@dataclass(frozen=True)
class GradientSplit:
    """The gradient of the training loss (data loss + penalties) taken apart, as global norms."""

    penalty: float  # sum(model.losses): the value the regulariser adds to the loss
    data_norm: float  # norm of d(data loss)/d(weights)
    penalty_norm: float  # norm of d(penalty)/d(weights)
    total_norm: float  # norm of the gradient a training step uses


def gradient_split(model, x, y, loss_fn=None):
    """``GradientSplit`` of ``model`` on ``(x, y)``, in training mode (as a training step sees it).

    ``loss_fn`` defaults to the MLP's loss (sparse categorical cross-entropy on logits).
    """
    require_built_model(model)
    require_same_length(x, y)
    loss_fn = loss_fn or default_loss()
    variables = model.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        data_loss = loss_fn(y, model(x, training=True))
        penalty = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
        total = data_loss + penalty

    def norm(target):
        grads = [g if g is not None else tf.zeros_like(v) for g, v in zip(tape.gradient(target, variables), variables)]
        return float(tf.linalg.global_norm(grads))

    return GradientSplit(float(penalty), norm(data_loss), norm(penalty), norm(total))


@dataclass
class WeightHistory:
    """The weights every few steps of a run: ``steps[i]`` is the step before which they were recorded."""

    steps: list = field(default_factory=list)
    kernel_norms: list = field(default_factory=list)
    recurrent_sigma_max: list = field(default_factory=list)  # empty for a model without a recurrent layer

    def record(self, model, step):
        self.steps.append(step)
        self.kernel_norms.append(kernel_norm(model))
        recurrent = recurrent_kernel(model)
        if recurrent is not None:
            self.recurrent_sigma_max.append(largest_singular_value(recurrent))


def train_tracking_weights(model, x, y, optimizer, epochs, batch_size, loss_fn=None, seed=0, every=10):
    """``train_with_gradient_log`` that also records the weights every ``every`` steps and at the end.

    Each step minimises the data loss plus ``model.losses`` (the penalties); the logged
    gradient norm is that of the whole loss, before any clipping the optimizer applies.
    Returns ``(GradientLog, WeightHistory)``.

        >>> log, history = train_tracking_weights(model, x, y, keras.optimizers.SGD(0.1), 1, 64)  # doctest: +SKIP
        >>> history.steps[:3], history.kernel_norms[0] > 0  # doctest: +SKIP
        ([0, 10, 20], True)
    """
    every = require_positive_int("every", every)
    return _train_recording(training_step(model, optimizer, loss_fn), model, x, y, epochs, batch_size, seed, every)


def _train_recording(step, model, x, y, epochs, batch_size, seed, every):
    """``train_with_step(step, ...)``, recording ``model``'s weights every ``every`` steps and, unless it diverged, at the end."""
    history = WeightHistory()

    def record_every(step_index):
        if step_index % every == 0:
            history.record(model, step_index)

    log = train_with_step(step, x, y, epochs, batch_size, seed=seed, on_step=record_every)
    if not log.diverged:
        history.record(model, len(log.losses))
    return log, history


@dataclass
class VariableNorms:
    """Each step's raw gradient taken apart, per trainable variable (``names``, in ``model.trainable_variables`` order).

    ``total[i, j]`` is the norm of variable ``j``'s gradient at step ``i`` before any
    clipping: what ``clipnorm`` compares with its threshold (``global_clipnorm`` and
    ``GradientLog.grad_norms`` use the global norm, the root of the sum of their squares).
    ``penalty[i, j]`` is the norm of the penalties' part (``model.losses``) and ``data[i, j]``
    that of the data loss's part (``total`` minus ``penalty``, as vectors). Arrays of shape
    ``(steps, variables)``.

        >>> norms = VariableNorms(["rnn/kernel", "rnn/recurrent_kernel"], np.array([[0.5, 2.0], [0.5, 0.8]]),
        ...                       np.zeros((2, 2)), np.array([[0.5, 2.0], [0.5, 0.8]]))
        >>> norms.clipped_by_clipnorm(1.0), norms.clip_factors("recurrent_kernel", 1.0).tolist()
        (0.5, [0.5, 1.0])
    """

    names: list
    total: np.ndarray
    penalty: np.ndarray
    data: np.ndarray

    def index(self, name):
        """The column of the one variable whose path contains ``name`` (e.g. ``"recurrent_kernel"``)."""
        matches = [j for j, path in enumerate(self.names) if name in path]
        if len(matches) != 1:
            raise ValueError(f"{name!r} should name exactly one of {self.names}, matched {len(matches)}")
        return matches[0]

    def clipped_by_clipnorm(self, threshold):
        """Share of steps at which ``clipnorm=threshold`` clipped at least one variable's gradient."""
        return float(np.mean(self.total.max(axis=1) > threshold)) if len(self.total) else 0.0

    def clip_factors(self, name, threshold):
        """Per step, the factor ``clipnorm=threshold`` multiplied variable ``name``'s gradient by (1: not clipped)."""
        total = self.total[:, self.index(name)]
        return np.minimum(1.0, threshold / np.maximum(total, np.finfo(float).tiny))


def split_training_step(model, optimizer, loss_fn=None):
    """``gradients.training_step`` that also returns each variable's gradient norms, taken apart.

    ``step(x_batch, y_batch) -> (loss, raw_global_norm, norms)``: the same update as
    ``training_step`` (one tape over data loss + penalties, then ``optimizer.apply``), and
    ``norms``, of shape ``(3, variables)``: per variable, the norm of the whole raw gradient,
    of the penalties' part and of the data loss's part (see ``VariableNorms``).

        >>> from course_utils.models import deep_mlp
        >>> model = deep_mlp(depth=1, width=4, kernel_regularizer=keras.regularizers.l2(0.1))
        >>> x, y = np.ones((8, 64), "float32"), np.zeros(8, "int64")
        >>> loss, norm, norms = split_training_step(model, keras.optimizers.SGD(0.1))(x, y)
        >>> tuple(norms.shape), float(norms[1, 1])  # 4 variables; the first bias has no penalty
        ((3, 4), 0.0)
    """
    require_built_model(model)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(f"optimizer must be a keras.optimizers.Optimizer, got {type(optimizer).__name__}")
    loss_fn = loss_fn or default_loss()
    variables = model.trainable_variables

    @tf.function
    def step(x_batch, y_batch):
        loss, grads = loss_and_gradients(model, x_batch, y_batch, loss_fn, variables)
        penalty_grads = [tf.zeros_like(v) for v in variables]
        if model.losses:  # the penalties' own gradient: cheap, it does not go through the network
            with tf.GradientTape() as penalty_tape:
                penalty = tf.add_n(model.losses)
            penalty_grads = [
                tf.zeros_like(v) if g is None else g
                for g, v in zip(penalty_tape.gradient(penalty, variables), variables)
            ]
        optimizer.apply(grads, variables)
        norms = [
            [tf.norm(g) for g in grads],
            [tf.norm(p) for p in penalty_grads],
            [tf.norm(g - p) for g, p in zip(grads, penalty_grads)],
        ]
        return loss, tf.linalg.global_norm(grads), tf.stack([tf.stack(row) for row in norms])

    return step


class _LoggingStep:
    """``step(x_batch, y_batch) -> (loss, norm)`` for ``train_with_step``, keeping each step's per-variable norms."""

    def __init__(self, traced, per_variable):
        self.traced, self.per_variable, self.norms = traced, per_variable, []

    def __call__(self, x_batch, y_batch):
        outputs = self.traced(x_batch, y_batch)
        if self.per_variable:
            self.norms.append(outputs[2].numpy())
        return outputs[0], outputs[1]

    def variable_norms(self, names):
        if not self.per_variable:
            return None
        stacked = np.asarray(self.norms, dtype=np.float64).reshape(-1, 3, len(names))
        return VariableNorms(list(names), stacked[:, 0], stacked[:, 1], stacked[:, 2])


@dataclass
class TrackedRun:
    """One seed of ``train_over_seeds``: its logs, its weight history, its final weights and its final score."""

    seed: int
    log: GradientLog
    history: WeightHistory
    score: float  # score(model) after training; NaN if the run diverged or no score was asked for
    variable_names: list = field(default_factory=list)  # the paths of model.trainable_variables
    final_weights: list = field(default_factory=list)  # their values when training stopped, in that order
    variable_norms: VariableNorms = None  # with per_variable=True: each step's raw gradient norms per variable

    def final_weight(self, name):
        """The value, when training stopped, of the one trainable variable whose path contains ``name``."""
        matches = [w for path, w in zip(self.variable_names, self.final_weights) if name in path]
        if len(matches) != 1:
            raise ValueError(f"{name!r} should name exactly one of {self.variable_names}, matched {len(matches)}")
        return matches[0]


def train_over_seeds(build, x, y, seeds, epochs, batch_size, loss_fn=None, every=10, score=None, per_variable=False):
    """``train_tracking_weights`` once per seed of one configuration, tracing its training step only once.

    ``build(seed) -> (model, optimizer)`` builds the configuration (the model with its
    penalties, the optimizer with its clipping or weight decay) from relative seed
    ``seed``; each run trains what ``train_tracking_weights(*build(seed), ..., seed=seed)``
    trains (same starting weights, same minibatches) and, unless it diverged, is scored
    with ``score(model)``; each ``TrackedRun`` keeps the final weights. With
    ``per_variable=True`` the step is ``split_training_step`` and each run also keeps every
    step's per-variable gradient norms (``VariableNorms``); otherwise it is
    ``gradients.training_step``. The step is traced once for all seeds
    (``gradients.steps_over_seeds``): later seeds load the weights ``build(seed)``
    draws, and the optimizer's starting state, into the first seed's model; only the
    weights may depend on the seed. Batches must all have ``batch_size`` examples
    (``train_with_step`` drops the short last one).

        >>> from course_utils.models import simple_rnn
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.uniform(size=(64, 5, 2)).astype("float32"), rng.uniform(size=(64, 1)).astype("float32")
        >>> def build(seed):
        ...     rnn = simple_rnn(units=4, timesteps=5, recurrent_scale=1.5, recurrent_regularizer=keras.regularizers.l2(0.5), seed=seed)
        ...     return rnn, keras.optimizers.SGD(0.1)
        >>> mse = keras.losses.MeanSquaredError()
        >>> runs = train_over_seeds(build, x, y, seeds=[0, 1], epochs=2, batch_size=16, loss_fn=mse, per_variable=True)
        >>> [len(run.log.losses) for run in runs], [run.history.steps for run in runs]
        ([8, 8], [[0, 8], [0, 8]])
        >>> runs[0].variable_norms.total.shape, runs[0].final_weight("recurrent_kernel").shape  # 5 variables; U is 4 x 4
        ((8, 5), (4, 4))
    """
    every = require_positive_int("every", every)
    make_step = split_training_step if per_variable else training_step
    runs = []
    for seed, model, traced in steps_over_seeds(build, seeds, x, y, batch_size, loss_fn, make_step=make_step):
        names = [variable.path for variable in model.trainable_variables]
        step = _LoggingStep(traced, per_variable)
        log, history = _train_recording(step, model, x, y, epochs, batch_size, seed, every)
        final = float("nan") if log.diverged or score is None else float(score(model))
        weights = [variable.numpy() for variable in model.trainable_variables]
        runs.append(TrackedRun(seed, log, history, final, names, weights, step.variable_norms(names)))
    return runs


def train_steps(model, optimizer, x, y, steps, batch_size=64, loss_fn=None):
    """Train ``model`` for ``steps`` SGD steps on the first ``steps`` consecutive batches of ``(x, y)``, no shuffling.

    The same batches every time, so two configurations started from the same weights can
    be compared step for step (e.g. an L2 penalty against the optimizer's ``weight_decay``).
    The step is ``gradients.training_step`` (data loss + ``model.losses``), traced once.
    Returns the losses.

        >>> from course_utils.models import deep_mlp
        >>> x, y = np.ones((8, 64), "float32"), np.zeros(8, "int64")
        >>> len(train_steps(deep_mlp(depth=1, width=4), keras.optimizers.SGD(0.1), x, y, steps=2, batch_size=4))
        2
    """
    require_same_length(x, y)
    steps, batch_size = require_positive_int("steps", steps), require_positive_int("batch_size", batch_size)
    if steps * batch_size > len(x):
        raise ValueError(f"{steps} batches of {batch_size} need {steps * batch_size} examples, got {len(x)}")
    x, y = np.asarray(x), np.asarray(y)
    step = training_step(model, optimizer, loss_fn).get_concrete_function(x[:batch_size], y[:batch_size])
    losses = []
    for i in range(steps):
        batch = slice(i * batch_size, (i + 1) * batch_size)
        losses.append(float(step(tf.constant(x[batch]), tf.constant(y[batch]))[0]))
    return losses
