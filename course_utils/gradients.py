"""Measuring gradients: per-layer norms at one point, and a training loop that logs them.

>>> from course_utils.data import load_digits
>>> from course_utils.models import deep_mlp
>>> (x, y), _ = load_digits()
>>> norms = layer_gradient_norms(deep_mlp(depth=4, width=32, weight_scale=4.0), x[:256], y[:256])
>>> len(norms)  # 4 hidden Dense kernels + the output kernel, input side first
5
"""

import math
from dataclasses import dataclass, field

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_positive_int, require_same_length
from course_utils.seeding import course_seed


def default_loss():
    """The MLP's loss: sparse categorical cross-entropy on logits."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _dense_layers(model):
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError(f"model {model.name!r} has no Dense layers to measure")
    return dense


def require_built_model(model):
    """Raise a clear ``ValueError`` unless ``model`` is a built ``keras.Model``."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError(f"model {model.name!r} is not built yet: give it an Input layer or call it on data first")


def layer_gradient_norms(model, x, y, loss_fn=None):
    """L2 norm of d(loss)/d(kernel) for each Dense layer of ``model``, input side first.

    The loss is ``loss_fn`` (default: sparse categorical cross-entropy on logits, the
    MLP's loss) on the whole of ``(x, y)``, computed in training mode (as a training step
    sees it: BatchNormalization uses the batch's statistics). The last entry is the
    output layer's kernel.
    """
    require_built_model(model)
    require_same_length(x, y)
    loss_fn = loss_fn or default_loss()
    kernels = [layer.kernel for layer in _dense_layers(model)]
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]


@dataclass
class GradientLog:
    """What happened at every optimisation step of ``train_with_gradient_log``.

    ``losses[i]`` and ``grad_norms[i]`` belong to step ``i`` (counted from 0);
    ``grad_norms`` is the global norm of the *raw* gradient, before any clipping the
    optimizer applies. ``diverged_at`` is the first step whose loss or gradient was NaN
    or infinite (``None`` if training stayed finite); training stops there.
    """

    losses: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    diverged_at: int | None = None
    steps_per_epoch: int = 0

    @property
    def diverged(self):
        return self.diverged_at is not None

    @property
    def max_grad_norm(self):
        finite = [g for g in self.grad_norms if math.isfinite(g)]
        return max(finite) if finite else float("nan")

    def epoch_mean_losses(self):
        """Mean loss of each complete epoch (of the finite part of the run)."""
        n = self.steps_per_epoch
        losses = np.asarray(self.losses if not self.diverged else self.losses[: self.diverged_at])
        return [float(losses[i : i + n].mean()) for i in range(0, len(losses) - n + 1, n)]

    def fraction_above(self, threshold):
        """Share of logged steps whose raw gradient norm exceeded ``threshold`` (i.e. would be clipped)."""
        norms = np.asarray(self.grad_norms)
        return float(np.mean(norms > threshold)) if norms.size else 0.0


def train_with_step(step, x, y, epochs, batch_size, seed=0, on_step=None, drop_remainder=True):
    """Run ``step(x_batch, y_batch) -> (loss, raw_gradient_norm)`` over shuffled minibatches and log every step.

    The loop behind ``train_with_gradient_log``, with the training step left to you (e.g.
    Pascanu et al.'s Algorithm 1 with ``tf.clip_by_global_norm``). The minibatches depend
    only on ``seed`` (relative to ``COURSE_SEED``), so runs with different steps compare
    like with like. Every batch is full: the ``len(x) % batch_size`` examples left over
    are skipped in each epoch (a different few each time), because a short last batch has
    a noisy gradient that shows up as spikes; ``drop_remainder=False`` keeps that short
    batch. ``on_step(i)``, if given, is called before step ``i`` (e.g. to record the
    weights). Returns a ``GradientLog``; training stops at the first non-finite loss or norm.

        >>> def step(x_batch, y_batch):  # a do-nothing step, to show the interface
        ...     return 0.0, 1.0
        >>> log = train_with_step(step, np.zeros((10, 2)), np.zeros(10), epochs=2, batch_size=4)
        >>> len(log.losses), log.steps_per_epoch  # 2 full batches of 4 per epoch; 2 examples skipped
        (4, 2)
        >>> train_with_step(step, np.zeros((10, 2)), np.zeros(10), 2, 4, drop_remainder=False).steps_per_epoch
        3
    """
    if not callable(step):
        raise ValueError(f"step must be a function (x_batch, y_batch) -> (loss, grad_norm), got {type(step).__name__}")
    require_same_length(x, y)
    epochs = require_positive_int("epochs", epochs)
    batch_size = require_positive_int("batch_size", batch_size)
    x, y = np.asarray(x), np.asarray(y)
    if drop_remainder and batch_size > len(x):
        raise ValueError(f"batch_size {batch_size} is larger than the {len(x)} examples: no full batch to train on")
    rng = np.random.default_rng(course_seed(seed))
    last_start = len(x) - batch_size if drop_remainder else len(x) - 1
    starts = range(0, last_start + 1, batch_size)
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


def batch_signature(x, y):
    """``tf.function`` input signature for batches of ``x`` and ``y`` of any length: one trace serves them all."""
    return [tf.TensorSpec((None,) + np.shape(a)[1:], tf.as_dtype(np.asarray(a).dtype)) for a in (x, y)]


def loss_and_gradients(model, x_batch, y_batch, loss_fn, variables):
    """The training loss, ``loss_fn`` plus the penalties in ``model.losses``, and its gradient w.r.t. ``variables``.

    The tape every training step of the course records (``training_step``, lesson 04's
    ``regularization.split_training_step``), in training mode.

        >>> from course_utils.models import deep_mlp
        >>> model = deep_mlp(depth=1, width=4, kernel_regularizer=keras.regularizers.l2(0.1))
        >>> x, y = np.ones((8, 64), "float32"), np.zeros(8, "int64")
        >>> loss, grads = loss_and_gradients(model, x, y, default_loss(), model.trainable_variables)
        >>> len(grads), float(loss) > float(default_loss()(y, model(x)))  # 2 kernels, 2 biases; the penalty adds
        (4, True)
    """
    with tf.GradientTape() as tape:
        loss = loss_fn(y_batch, model(x_batch, training=True))
        if model.losses:
            loss += tf.add_n(model.losses)
    return loss, tape.gradient(loss, variables)


def training_step(model, optimizer, loss_fn=None, input_signature=None):
    """One traced training step, ``step(x_batch, y_batch) -> (loss, raw_gradient_norm)``.

    The loss is ``loss_fn`` (default: ``default_loss()``) plus any regularisation
    penalties in ``model.losses``; the norm is the gradient's global norm *before*
    ``optimizer.apply`` clips it (Keras applies ``clipnorm``, ``clipvalue`` or
    ``global_clipnorm`` inside ``apply``). With ``input_signature=batch_signature(x, y)``
    one trace serves batches of every size.

        >>> step = training_step(model, keras.optimizers.SGD(0.1))   # doctest: +SKIP
        >>> loss, norm = step(x[:64], y[:64])                         # doctest: +SKIP
    """
    require_built_model(model)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(f"optimizer must be a keras.optimizers.Optimizer, got {type(optimizer).__name__}")
    loss_fn = loss_fn or default_loss()
    variables = model.trainable_variables

    @tf.function(input_signature=input_signature)
    def step(x_batch, y_batch):
        loss, grads = loss_and_gradients(model, x_batch, y_batch, loss_fn, variables)
        optimizer.apply(grads, variables)
        return loss, tf.linalg.global_norm(grads)

    return step


def train_with_gradient_log(model, x, y, optimizer, epochs, batch_size, loss_fn=None, seed=0, drop_remainder=True):
    """Train ``model`` with minibatch ``optimizer`` steps and log every step's loss and raw gradient norm.

    A plain custom loop (what ``model.fit`` does, minus callbacks): ``train_with_step``
    around ``training_step(model, optimizer, loss_fn)``, on full batches only unless
    ``drop_remainder=False``. Stops at the first non-finite loss or gradient.

        >>> log = train_with_gradient_log(model, x, y, keras.optimizers.SGD(0.1), epochs=1, batch_size=32)  # doctest: +SKIP
        >>> log.diverged, len(log.losses)  # 1347 digits: 42 full batches of 32               # doctest: +SKIP
        (False, 42)
    """
    require_same_length(x, y)
    step = training_step(model, optimizer, loss_fn)
    return train_with_step(step, x, y, epochs, batch_size, seed=seed, drop_remainder=drop_remainder)


def optimizer_settings(optimizer):
    """An optimizer's configuration, without its automatic (and unique) name."""
    return {key: value for key, value in optimizer.get_config().items() if key != "name"}


def steps_over_seeds(build, seeds, x, y, batch_size, loss_fn=None, make_step=training_step):
    """Yield ``(seed, model, step)`` for each seed, with one training step traced once for all of them.

    ``build(seed) -> (model, optimizer)`` builds one configuration (the model with its
    penalties, the optimizer with its clipping) from relative seed ``seed``. Tracing the
    training step of a deep Keras model takes longer than training these small networks,
    and ``train_with_gradient_log`` traces afresh on every call; so the step of the first
    seed's model is traced once, and every later seed loads the weights ``build(seed)``
    draws, and the optimizer's starting state, into that same model. Only the weights may
    depend on the seed. ``step(x_batch, y_batch) -> (loss, raw_gradient_norm)`` is what
    ``train_with_step`` wants, for batches of exactly ``batch_size`` examples; ``step.graph``
    is the traced graph. Training seed ``s`` with ``train_with_step(step, x, y, ...,
    seed=s)`` is the run ``train_with_gradient_log(*build(s), ..., seed=s)`` would train.
    ``make_step(model, optimizer, loss_fn)`` makes the step to trace (default
    ``training_step``; lesson 04's ``regularization.split_training_step`` also returns
    each variable's gradient norms).

        >>> from course_utils.models import deep_mlp
        >>> x, y = np.zeros((8, 64), "float32"), np.zeros(8, "int64")
        >>> def build(seed):
        ...     return deep_mlp(depth=2, width=8, seed=seed), keras.optimizers.SGD(0.1)
        >>> [(seed, len(train_with_step(step, x, y, epochs=1, batch_size=4, seed=seed).losses))
        ...  for seed, model, step in steps_over_seeds(build, [0, 100], x, y, batch_size=4)]
        [(0, 2), (100, 2)]
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must list at least one seed")
    batch_size = require_positive_int("batch_size", batch_size)
    x, y = np.asarray(x), np.asarray(y)
    model, optimizer = build(seeds[0])
    optimizer.build(model.trainable_variables)
    initial_optimizer_state = [variable.numpy() for variable in optimizer.variables]
    traced = make_step(model, optimizer, loss_fn).get_concrete_function(x[:batch_size], y[:batch_size])

    def step(x_batch, y_batch):
        return traced(tf.constant(x_batch), tf.constant(y_batch))  # the concrete graph: no argument matching per step

    step.graph = traced.graph
    for index, seed in enumerate(seeds):
        if index > 0:  # the first seed's model and optimizer are still untouched
            fresh_model, fresh_optimizer = build(seed)
            if optimizer_settings(fresh_optimizer) != optimizer_settings(optimizer):
                raise ValueError("build makes a different optimizer per seed: only the weights may depend on the seed")
            model.set_weights(fresh_model.get_weights())
            for variable, value in zip(optimizer.variables, initial_optimizer_state):
                variable.assign(value)
        yield seed, model, step
