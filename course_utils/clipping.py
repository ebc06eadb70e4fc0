"""Gradient clipping, looked at closely (lesson 03).

* ``clip_like_optimizer``: a gradient exactly as a Keras optimizer clips it with
  ``clipnorm``, ``global_clipnorm`` or ``clipvalue`` (Keras applies clipping inside
  ``optimizer.apply``, so ``tape.gradient`` never shows it).
* ``compare_clipping``: the three options side by side on one gradient: the norms
  they leave and how far they turn it (cosine with the raw gradient).
* ``train_with_step``: the minibatch loop of ``gradients.train_with_gradient_log``
  around a training step *you* write, e.g. Pascanu et al.'s Algorithm 1 with
  ``tf.clip_by_global_norm``.

    >>> grads = [tf.constant([3.0, 4.0]), tf.constant([0.0, 12.0])]  # norms 5 and 12, global norm 13
    >>> [round(norm, 3) for norm in variable_norms(clip_like_optimizer(grads, clipnorm=1.0))]
    [1.0, 1.0]
    >>> round(global_norm(clip_like_optimizer(grads, global_clipnorm=1.0)), 3)
    1.0
    >>> clip_like_optimizer(grads, clipvalue=1.0)[0].tolist()
    [1.0, 1.0]
"""

import math
from dataclasses import dataclass

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_positive_int, require_positive_number, require_same_length
from course_utils.gradients import GradientLog

CLIPPING_OPTIONS = ("clipnorm", "global_clipnorm", "clipvalue")


def _as_arrays(grads):
    if not isinstance(grads, (list, tuple)) or not grads:
        raise ValueError(f"grads must be a non-empty list of gradient tensors, got {type(grads).__name__}")
    arrays = [np.asarray(g, dtype=np.float32) for g in grads]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ValueError("grads contain NaN or infinite values: clipping cannot repair those")
    return arrays


def global_norm(grads):
    """The L2 norm of all of ``grads`` taken as one long vector (what ``tf.linalg.global_norm`` computes)."""
    return float(np.sqrt(sum(np.sum(np.square(a, dtype=np.float64)) for a in _as_arrays(grads))))


def variable_norms(grads):
    """The L2 norm of each variable's gradient, in order."""
    return [float(np.linalg.norm(a.astype(np.float64))) for a in _as_arrays(grads)]


def cosine(grads_a, grads_b):
    """Cosine of the angle between two gradients, each flattened into one vector (1.0: same direction)."""
    a = np.concatenate([x.ravel() for x in _as_arrays(grads_a)]).astype(np.float64)
    b = np.concatenate([x.ravel() for x in _as_arrays(grads_b)]).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the two gradients have different sizes ({a.size} and {b.size} numbers)")
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def clip_like_optimizer(grads, **option):
    """``grads`` clipped exactly as a Keras optimizer built with ``option`` clips them, as NumPy arrays.

    ``option`` is one of ``clipnorm=c``, ``global_clipnorm=c`` or ``clipvalue=c``. We
    apply one step of ``SGD(learning_rate=1.0, **option)`` to variables that start at
    zero: the step is minus the clipped gradient. Nothing but Keras' public API, so
    this is what ``optimizer.apply`` really does during training.
    """
    if len(option) != 1 or next(iter(option)) not in CLIPPING_OPTIONS:
        raise ValueError(f"give exactly one of {', '.join(CLIPPING_OPTIONS)}, e.g. clipnorm=1.0; got {option}")
    (name, threshold), = option.items()
    require_positive_number(name, threshold)
    arrays = _as_arrays(grads)
    variables = [tf.Variable(tf.zeros_like(a)) for a in arrays]
    keras.optimizers.SGD(learning_rate=1.0, **option).apply([tf.constant(a) for a in arrays], variables)
    return [-v.numpy() for v in variables]


@dataclass(frozen=True)
class ClippingEffect:
    """What one clipping option did to a gradient."""

    option: str  # "raw" (no clipping), "clipnorm", "global_clipnorm" or "clipvalue"
    variable_norms: list  # norm of each variable's clipped gradient
    global_norm: float  # norm of the whole clipped gradient
    cosine_with_raw: float  # direction of the whole update: 1.0 means unchanged
    worst_variable_cosine: float  # the smallest cosine within one variable: 1.0 means no variable was turned


def compare_clipping(grads, threshold):
    """``ClippingEffect`` of no clipping and of each of the three Keras options at the same ``threshold``.

        >>> effects = compare_clipping([tf.constant([3.0, 4.0]), tf.constant([0.0, 0.5])], threshold=1.0)
        >>> [(e.option, round(e.cosine_with_raw, 2)) for e in effects]
        [('raw', 1.0), ('clipnorm', 0.93), ('global_clipnorm', 1.0), ('clipvalue', 0.96)]
    """
    raw = _as_arrays(grads)
    threshold = require_positive_number("threshold", threshold)
    versions = [("raw", raw)] + [(name, clip_like_optimizer(raw, **{name: threshold})) for name in CLIPPING_OPTIONS]
    return [
        ClippingEffect(
            option=name,
            variable_norms=variable_norms(clipped),
            global_norm=global_norm(clipped),
            cosine_with_raw=cosine(clipped, raw),
            worst_variable_cosine=min(cosine([c], [r]) for c, r in zip(clipped, raw) if np.any(r)),
        )
        for name, clipped in versions
    ]


def train_with_step(step, x, y, epochs, batch_size, seed=0, on_step=None):
    """Run ``step(x_batch, y_batch) -> (loss, raw_gradient_norm)`` over minibatches and log every step.

    The loop of ``gradients.train_with_gradient_log`` (same shuffling for the same
    ``seed``, so runs compare like with like) with the training step left to you.
    ``on_step(i)``, if given, is called before step ``i`` (e.g. to record the weights).
    Returns a ``GradientLog``; training stops at the first non-finite loss or norm.

        >>> def step(x_batch, y_batch):  # a do-nothing step, to show the interface
        ...     return 0.0, 1.0
        >>> log = train_with_step(step, np.zeros((10, 2)), np.zeros(10), epochs=2, batch_size=4)
        >>> len(log.losses), log.steps_per_epoch
        (6, 3)
    """
    if not callable(step):
        raise ValueError(f"step must be a function (x_batch, y_batch) -> (loss, grad_norm), got {type(step).__name__}")
    require_same_length(x, y)
    epochs = require_positive_int("epochs", epochs)
    batch_size = require_positive_int("batch_size", batch_size)
    x, y = np.asarray(x), np.asarray(y)
    rng = np.random.default_rng(seed)
    starts = range(0, len(x), batch_size)
    log = GradientLog(steps_per_epoch=len(starts))
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in starts:
            if on_step is not None:
                on_step(len(log.losses))
            batch = order[start : start + batch_size]
            loss, norm = step(x[batch], y[batch])
            log.losses.append(float(loss))
            log.grad_norms.append(float(norm))
            if not (math.isfinite(log.losses[-1]) and math.isfinite(log.grad_norms[-1])):
                log.diverged_at = len(log.losses) - 1
                return log
    return log
