"""Weight penalties, looked at closely (lesson 04).

A ``kernel_regularizer`` adds a penalty such as 0.01 * sum(W**2) to the loss; Keras
keeps it apart from the data loss, in ``model.losses``, and a training step adds it.
These helpers measure what the penalty does: how its gradient compares with the data
loss's (``gradient_split``), and how the weights evolve over training
(``train_tracking_weights``: the norm of all kernels and, for a recurrent network,
the largest singular value of the recurrent matrix). A single training run is chaotic,
so the lesson repeats each run over a few seeds (``train_over_seeds``, which traces the
training step once for all of them) and prints ``approx.median_and_range``.

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
class TrackedRun:
    """One seed of ``train_over_seeds``: its gradient log, its weight history and its final score."""

    seed: int
    log: GradientLog
    history: WeightHistory
    score: float  # score(model) after training; NaN if the run diverged or no score was asked for


def train_over_seeds(build, x, y, seeds, epochs, batch_size, loss_fn=None, every=10, score=None):
    """``train_tracking_weights`` once per seed of one configuration, tracing its training step only once.

    ``build(seed) -> (model, optimizer)`` builds the configuration (the model with its
    penalties, the optimizer with its clipping) from relative seed ``seed``; each run
    trains what ``train_tracking_weights(*build(seed), ..., seed=seed)`` trains (same
    starting weights, same minibatches) and, unless it diverged, is scored with
    ``score(model)``. As in ``compare.run_technique`` (lesson 07), the training step is
    traced once for all seeds (``gradients.steps_over_seeds``): only the weights may
    depend on the seed. Batches must all have ``batch_size`` examples
    (``train_with_step`` drops the short last one).

        >>> from course_utils.models import simple_rnn
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.uniform(size=(64, 5, 2)).astype("float32"), rng.uniform(size=(64, 1)).astype("float32")
        >>> def build(seed):
        ...     rnn = simple_rnn(units=4, timesteps=5, recurrent_scale=1.5, recurrent_regularizer=keras.regularizers.l2(0.5), seed=seed)
        ...     return rnn, keras.optimizers.SGD(0.1)
        >>> runs = train_over_seeds(build, x, y, seeds=[0, 1], epochs=2, batch_size=16, loss_fn=keras.losses.MeanSquaredError())
        >>> [len(run.log.losses) for run in runs], [run.history.steps for run in runs]
        ([8, 8], [[0, 8], [0, 8]])
    """
    every = require_positive_int("every", every)
    runs = []
    for seed, model, step in steps_over_seeds(build, seeds, x, y, batch_size, loss_fn):
        log, history = _train_recording(step, model, x, y, epochs, batch_size, seed, every)
        final = float("nan") if log.diverged or score is None else float(score(model))
        runs.append(TrackedRun(seed, log, history, final))
    return runs
