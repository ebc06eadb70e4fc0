"""Batch normalization, looked at closely (lesson 06).

How large a learning rate does a network tolerate, and does the answer hold for
another draw of the weights? To find out we train the same architecture many times:
once per learning rate and per seed. Tracing the training step of a 30-layer network
into a graph costs more than the steps themselves, so a ``Retrainer`` traces its step
once (for any batch size) and only resets the weights and the optimizer's learning
rate between runs. ``run(..., seed=s)`` starts from the weights that the model's
builder draws for seed ``s`` (``deep_mlp(..., seed=s)``), so one trace serves every seed.

    >>> from course_utils.data import load_digits
    >>> from course_utils.models import deep_mlp
    >>> (x, y), _ = load_digits()
    >>> runs = learning_rate_sweep(Retrainer(deep_mlp(depth=3, width=16)), x[:256], y[:256], [0.1, 1e3], epochs=1, batch_size=64)
    >>> runs[0.1].log.diverged, runs[1e3].learned()
    (False, False)
"""

from dataclasses import dataclass

import keras
import numpy as np

from course_utils._validate import require_positive_number, require_same_length
from course_utils.gradients import (
    GradientLog,
    batch_signature,
    default_loss,
    require_built_model,
    train_with_step,
    training_step,
)
from course_utils.seeding import require_seed
from course_utils.theory import activation_function, gaussian_mean

LEARNED_LOSS = 2.0  # a run "learned" if its last epoch's mean loss ends clearly below chance (ln 10 = 2.3)


@dataclass
class SweepRun:
    """One training run: its log and the model's weights at its end (BatchNormalization's moving statistics included)."""

    log: GradientLog
    weights: list

    def learned(self, loss_below=LEARNED_LOSS):
        """Whether training stayed finite and the last epoch's mean loss ended below ``loss_below``."""
        epoch_losses = self.log.epoch_mean_losses()
        return not self.log.diverged and bool(epoch_losses) and epoch_losses[-1] < loss_below


class Retrainer:
    """Train one architecture with plain SGD, each run from fresh starting weights, tracing the step only once.

    ``run`` does what ``gradients.train_with_gradient_log`` does (same minibatches for the
    same ``seed``, same log) and then puts the starting weights back. With ``seed=s`` the
    run starts from the weights the model's builder draws for relative seed ``s`` (see
    ``seeded_weights``): ``Retrainer(deep_mlp(...)).run(..., seed=s)`` trains exactly what
    ``train_with_gradient_log(deep_mlp(..., seed=s), ..., seed=s)`` trains, with the same
    ``gradients.training_step`` (weight penalties in ``model.losses`` included); the
    learning rate is a variable of the optimizer, so changing it does not retrace.

        >>> retrainer = Retrainer(model)                                                   # doctest: +SKIP
        >>> run = retrainer.run(x, y, learning_rate=0.1, epochs=5, batch_size=64)          # doctest: +SKIP
        >>> run.log.diverged, run.learned()                                                # doctest: +SKIP
        (False, True)
    """

    def __init__(self, model, loss_fn=None):
        require_built_model(model)
        self.model = model
        self.loss_fn = loss_fn or default_loss()
        self.initial_weights = model.get_weights()
        self.optimizer = keras.optimizers.SGD(learning_rate=0.0)
        self._step = None  # traced on the first run, for batches of any size

    def run(self, x, y, learning_rate, epochs, batch_size, seed=0, drop_remainder=True):
        """Train from seed ``seed``'s starting weights with ``SGD(learning_rate)``; return a ``SweepRun``.

        ``seed`` (relative, like every seed of the course) picks the starting weights
        (``seeded_weights``) and the order of the minibatches. Every batch is full unless
        ``drop_remainder=False`` (see ``gradients.train_with_step``).
        """
        require_same_length(x, y)
        x, y = np.asarray(x), np.asarray(y)
        self.model.set_weights(seeded_weights(self.model, seed, self.initial_weights))
        self.optimizer.learning_rate = require_positive_number("learning_rate", learning_rate)  # a variable: no retrace
        if self._step is None:
            self._step = training_step(self.model, self.optimizer, self.loss_fn, batch_signature(x, y))
        log = train_with_step(self._step, x, y, epochs, batch_size, seed=seed, drop_remainder=drop_remainder)
        run = SweepRun(log, self.model.get_weights())
        self.model.set_weights(self.initial_weights)
        return run


def seeded_weights(model, seed, weights=None):
    """The starting weights of ``model`` as its builder draws them for relative seed ``seed``.

    The course's builders (``deep_mlp``, ``Pairing.build``) seed the kernel initialiser of
    layer ``i`` with ``course_seed(seed) + i``, so the network of seed ``s`` is the one of
    seed 0 with every kernel seed shifted by ``s``. This draws every seeded kernel again
    with its seed shifted by ``seed``, without building a new model; every other weight
    (zero biases, BatchNormalization's 1, 0, 0, 1) is taken from ``weights`` (default: the
    model's current weights). ``seed=0`` returns ``weights`` unchanged.

        >>> from course_utils.models import deep_mlp
        >>> drawn = seeded_weights(deep_mlp(depth=2, width=4, batch_norm=True), seed=7)
        >>> built = deep_mlp(depth=2, width=4, batch_norm=True, seed=7).get_weights()
        >>> all(np.array_equal(a, b) for a, b in zip(drawn, built))
        True
    """
    require_built_model(model)
    seed = require_seed(seed)
    weights = [np.asarray(w) for w in (model.get_weights() if weights is None else weights)]
    if seed == 0:
        return weights
    drawn = {}
    for layer in model.layers:
        initializer = getattr(layer, "kernel_initializer", None)
        if initializer is None or getattr(layer, "kernel", None) is None:
            continue
        config = initializer.get_config()
        if not isinstance(config.get("seed"), int):
            raise ValueError(
                f"layer {layer.name!r} has an unseeded kernel initialiser: only seed=0 (its own weights) is possible"
            )
        config["seed"] += seed
        kernel = layer.kernel
        drawn[id(kernel)] = np.asarray(type(initializer).from_config(config)(kernel.shape, dtype=kernel.dtype))
    return [drawn.get(id(variable), value) for variable, value in zip(model.weights, weights)]


def learning_rate_sweep(retrainer, x, y, learning_rates, epochs, batch_size, seed=0):
    """``{learning_rate: SweepRun}``: ``retrainer.run`` once per learning rate, from seed ``seed``'s weights and minibatches.

    >>> runs = learning_rate_sweep(Retrainer(model), x, y, [0.1, 1.0], epochs=3, batch_size=64)   # doctest: +SKIP
    """
    if not isinstance(retrainer, Retrainer):
        raise ValueError(f"retrainer must be a Retrainer (Retrainer(model)), got {type(retrainer).__name__}")
    if not learning_rates:
        raise ValueError("learning_rates must list at least one learning rate")
    return {lr: retrainer.run(x, y, lr, epochs, batch_size, seed=seed) for lr in learning_rates}


def largest_learned_rate(runs, loss_below=LEARNED_LOSS):
    """The largest learning rate of a sweep whose run learned (``None`` if none did).

    >>> largest_learned_rate({})  is None
    True
    """
    learned = [lr for lr, run in runs.items() if run.learned(loss_below)]
    return max(learned) if learned else None


def batchnorm_chi1(activation):
    """Per-layer growth of the squared gradient norm in a deep ``Dense -> BN -> activation`` net at initialisation.

    BN hands every activation a z ~ N(0, 1), whatever the weight scale. Going back
    through one block, the activation multiplies the gradient by phi'(z), the kernel
    by sigma_w, and the BN below divides it by the std of its own input, sigma_w *
    std(phi(z)): sigma_w cancels. One layer multiplies the squared gradient norm by
    about E[phi'(z)**2] / Var[phi(z)] (wide layers, large batches, gamma = 1, beta = 0),
    which is above 1 for tanh and ReLU and cannot be tuned away with sigma_w. For
    ReLU it is pi / (pi - 1), the rate Yang et al. (2019) derived.

        >>> import math
        >>> round(batchnorm_chi1("relu"), 4), round(math.pi / (math.pi - 1), 4)
        (1.4669, 1.4669)
    """
    phi, dphi = activation_function(activation)
    mean = gaussian_mean(phi, 1.0)
    variance = gaussian_mean(lambda z: (phi(z) - mean) ** 2, 1.0)
    return gaussian_mean(lambda z: dphi(z) ** 2, 1.0) / variance


def hidden_kernel_norms(model, weights=None):
    """L2 norm of every hidden ``Dense`` kernel of ``model`` (all but the last ``Dense``), input side first.

    The norms are read from ``weights`` (a ``model.get_weights()`` list, e.g. a
    ``SweepRun``'s end weights; default: the model's current weights). Lesson 06 uses it
    to compare weight scales and to see how much SGD lengthened the kernels of a BN network.

        >>> from course_utils.models import deep_mlp
        >>> model = deep_mlp(depth=2, width=64, weight_scale=4.0, batch_norm=True)
        >>> [round(norm / 32, 1) for norm in hidden_kernel_norms(model)]  # sigma_w * sqrt(64 * 64) / sqrt(64) = 32
        [1.0, 1.0]
    """
    require_built_model(model)
    weights = model.get_weights() if weights is None else weights
    if len(weights) != len(model.weights):
        raise ValueError(f"weights should list the model's {len(model.weights)} weights, got {len(weights)}")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]
    position = {id(variable): i for i, variable in enumerate(model.weights)}
    return [float(np.linalg.norm(weights[position[id(layer.kernel)]])) for layer in dense]
