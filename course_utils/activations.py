"""Activation functions and their initialisers, measured in pairs (lesson 05).

What sets the per-layer growth of the gradient is not the activation alone but the
pair (activation, initialiser): chi_1 = sigma_w**2 E[phi'(h)**2]. A ``Pairing`` names
one such pair, builds the deep MLP that uses it and says what theory predicts for
it; ``gradient_profiles`` measures a list of them at initialisation.

Keras' named initialisers fix sigma_w (the std of a kernel entry times sqrt(fan_in))
for the square hidden layers of our MLP (fan_in = fan_out = width):
``"glorot_normal"`` (variance 2 / (fan_in + fan_out)) gives sigma_w = 1 and
``"he_normal"`` (variance 2 / fan_in) gives sigma_w = sqrt(2).

    >>> round(Pairing("relu", "he_normal").chi1(), 6)
    1.0
    >>> round(Pairing("relu", 4.0).chi1(), 6)  # the scale that made tanh explode
    8.0
    >>> Pairing("relu", 4.0).label
    'relu, sigma_w = 4'
"""

import math
import numbers
from dataclasses import dataclass

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_choice, require_positive_number, require_same_length
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.gradients import default_loss, require_built_model
from course_utils.models import ACTIVATIONS, deep_mlp
from course_utils.theory import chi1

# sigma_w that each named Keras initialiser gives a square layer (fan_in = fan_out)
NAMED_INITIALIZER_SCALES = {"glorot_normal": 1.0, "he_normal": math.sqrt(2.0)}


@dataclass(frozen=True)
class Pairing:
    """An activation and the initialiser of every kernel: a Keras name, or sigma_w for N(0, sigma_w**2 / fan_in).

    >>> Pairing("tanh", "glorot_normal").weight_scale
    1.0
    """

    activation: str
    initializer: str | float

    def __post_init__(self):
        require_choice("activation", self.activation, ACTIVATIONS)
        if isinstance(self.initializer, str):
            require_choice("initializer", self.initializer, set(NAMED_INITIALIZER_SCALES))
        elif isinstance(self.initializer, numbers.Real):
            require_positive_number("initializer (a weight scale sigma_w)", self.initializer)
        else:
            raise ValueError(
                f"initializer must be one of {sorted(NAMED_INITIALIZER_SCALES)} or a weight scale sigma_w > 0, "
                f"got {self.initializer!r}"
            )

    @property
    def weight_scale(self):
        """sigma_w of the square hidden layers."""
        if isinstance(self.initializer, str):
            return NAMED_INITIALIZER_SCALES[self.initializer]
        return float(self.initializer)

    @property
    def label(self):
        if isinstance(self.initializer, str):
            return f"{self.activation} + {self.initializer}"
        return f"{self.activation}, sigma_w = {self.initializer:g}"

    def chi1(self):
        """Mean-field chi_1 of the pair: the per-layer growth of the squared gradient norm."""
        return chi1(self.weight_scale, self.activation)

    def predicted_growth(self):
        """Per-layer growth of the gradient norm toward the input: sqrt(chi_1)."""
        return math.sqrt(self.chi1())

    def build(self, depth=30, width=64, seed=0):
        """The deep MLP of ``models.deep_mlp`` (same layer names and seeds) with this pair.

        A named initialiser is passed to every ``Dense`` layer as Keras does it,
        ``kernel_initializer="he_normal"``, seeded per layer so the build is repeatable.
        """
        if isinstance(self.initializer, str):
            return deep_mlp(depth, width, self.activation, kernel_initializer=self.initializer, seed=seed)
        return deep_mlp(depth, width, self.activation, weight_scale=self.weight_scale, seed=seed)


@dataclass
class Profile:
    """One pairing's gradient norms ||dL/dh_l|| at initialisation, hidden layers, input side first."""

    pairing: Pairing
    norms: list

    @property
    def underflowed_layers(self):
        """How many layers' gradients are exactly 0: they vanished below float32's smallest number."""
        return sum(1 for norm in self.norms if norm == 0.0)

    def measured_growth(self):
        """Fitted per-layer growth toward the input, over the layers whose gradient did not underflow to 0."""
        return per_layer_growth([norm for norm in self.norms if norm > 0.0])


def gradient_profiles(pairings, x, y, depth=30, width=64, seed=0):
    """Build each pairing's MLP and measure its per-layer gradient profile at initialisation on ``(x, y)``.

    >>> profiles = gradient_profiles([Pairing("relu", "he_normal")], x[:256], y[:256], depth=10)  # doctest: +SKIP
    >>> profiles[0].measured_growth(), profiles[0].pairing.predicted_growth()                      # doctest: +SKIP
    (0.98, 1.0)
    """
    if isinstance(pairings, Pairing) or not all(isinstance(p, Pairing) for p in pairings):
        raise ValueError("pairings must be a list of Pairing objects, e.g. [Pairing('relu', 'he_normal')]")
    return [
        Profile(pairing, preactivation_gradient_norms(pairing.build(depth, width, seed), x, y)) for pairing in pairings
    ]


def dense_output_gradient_norms(model, x, y, loss_fn=None):
    """||dL/dh_l|| at the output h_l of every hidden ``Dense`` layer, input side first, whatever follows it.

    ``diagnostics.preactivation_gradient_norms`` finds h_l as the input of ``Activation``
    layers; this follows the ``Dense`` layers instead (all but the last, the output layer), so
    it also measures a ``keras.Sequential`` written with ``keras.layers.LeakyReLU`` layers.
    For a network whose ``Dense`` layers have no activation of their own, the two agree:

        >>> from course_utils.models import deep_mlp
        >>> x, y = np.random.default_rng(0).random((16, 64), dtype="float32"), np.arange(16) % 10
        >>> model = deep_mlp(depth=3, width=8, activation="leaky_relu", kernel_initializer="he_normal")
        >>> np.allclose(dense_output_gradient_norms(model, x, y), preactivation_gradient_norms(model, x, y))
        True
    """
    require_built_model(model)
    require_same_length(x, y)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if len(dense) < 2:
        raise ValueError(f"model {model.name!r} needs hidden Dense layers and an output Dense layer")
    hidden = {id(layer) for layer in dense[:-1]}
    loss_fn = loss_fn or default_loss()
    outputs = []
    with tf.GradientTape() as tape:
        h = tf.convert_to_tensor(x)
        for layer in model.layers:
            h = layer(h, training=True)
            if id(layer) in hidden:
                outputs.append(h)  # computed under the tape: we can differentiate with respect to it
        loss = loss_fn(y, h)
    return [float(tf.norm(g)) for g in tape.gradient(loss, outputs)]


def regime(growth, tolerance=0.05):
    """'explodes', 'vanishes' or 'stable' for a per-layer growth factor (within ``tolerance`` of 1: stable).

    >>> regime(1.54), regime(0.7), regime(1.02)
    ('explodes', 'vanishes', 'stable')
    """
    if not (isinstance(growth, numbers.Real) and np.isfinite(growth) and growth > 0):
        raise ValueError(f"growth must be a finite number > 0, got {growth!r}")
    if growth > 1 + tolerance:
        return "explodes"
    if growth < 1 - tolerance:
        return "vanishes"
    return "stable"
