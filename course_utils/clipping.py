"""Gradient clipping, looked at closely (lesson 03).

* ``clip_like_optimizer``: a gradient exactly as a Keras optimizer clips it with
  ``clipnorm``, ``global_clipnorm`` or ``clipvalue`` (Keras applies clipping inside
  ``optimizer.apply``, so ``tape.gradient`` never shows it).
* ``compare_clipping``: the three options side by side on one gradient: the norms
  they leave and how far they turn it (cosine with the raw gradient).

For a training step *you* write (Pascanu et al.'s Algorithm 1 with
``tf.clip_by_global_norm``), ``gradients.train_with_step`` runs the minibatch loop.

    >>> grads = [tf.constant([3.0, 4.0]), tf.constant([0.0, 12.0])]  # norms 5 and 12, global norm 13
    >>> [round(norm, 3) for norm in variable_norms(clip_like_optimizer(grads, clipnorm=1.0))]
    [1.0, 1.0]
    >>> round(global_norm(clip_like_optimizer(grads, global_clipnorm=1.0)), 3)
    1.0
    >>> clip_like_optimizer(grads, clipvalue=1.0)[0].tolist()
    [1.0, 1.0]
"""

from dataclasses import dataclass

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_positive_number

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
    ((name, threshold),) = option.items()
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
