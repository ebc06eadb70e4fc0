"""Mean-field theory of signal propagation in deep random networks.

For a network whose weights are drawn from N(0, sigma_w**2 / fan_in) and biases
from N(0, sigma_b**2), the pre-activations of a wide layer are Gaussian with a
variance ``q`` that settles to a fixed point q* = sigma_w**2 E[phi(sqrt(q*) z)**2] + sigma_b**2
(Poole et al. 2016; Schoenholz et al. 2017). Backpropagating through one layer
multiplies the *squared* gradient norm by

    chi_1 = sigma_w**2 * E[phi'(sqrt(q*) z)**2],      z ~ N(0, 1),

so the gradient norm grows by sqrt(chi_1) per layer toward the input when
chi_1 > 1 (exploding) and shrinks when chi_1 < 1 (vanishing).

    >>> round(chi1(4.0), 4)
    2.3768
    >>> round(chi1(2.0, activation="relu"), 6)  # E[relu'(h)**2] = 1/2, so chi_1 = sigma_w**2 / 2
    2.0

Expectations are integrated on a fine grid: with sigma_w >= 3 the integrand of
tanh is sharply peaked and ~100-node Gauss-Hermite is several percent off.
"""

import numpy as np
from scipy.optimize import brentq

from course_utils._validate import require_choice, require_positive_number

# Midpoint rule on [-12, 12], step 2.5e-4: fine enough for sech^2(sqrt(q) z) up to q ~ 1e3, and
# symmetric with no node at 0, so the step in relu' is integrated exactly.
_STEP = 2.5e-4
_Z = np.arange(-12.0 + _STEP / 2, 12.0, _STEP)
_WEIGHTS = np.exp(-0.5 * _Z**2)
_WEIGHTS /= _WEIGHTS.sum()

LEAKY_RELU_SLOPE = 0.2  # keras.activations.leaky_relu's default negative_slope


def _sigmoid(h):
    return 0.5 * (1.0 + np.tanh(0.5 * h))


# activation name -> (phi, phi')
_FUNCTIONS = {
    "tanh": (np.tanh, lambda h: 1.0 - np.tanh(h) ** 2),
    "sigmoid": (_sigmoid, lambda h: _sigmoid(h) * (1.0 - _sigmoid(h))),
    "relu": (lambda h: np.maximum(h, 0.0), lambda h: (h > 0).astype(float)),
    "leaky_relu": (
        lambda h: np.where(h > 0, h, LEAKY_RELU_SLOPE * h),
        lambda h: np.where(h > 0, 1.0, LEAKY_RELU_SLOPE),
    ),
    "linear": (lambda h: h, np.ones_like),
}


def activation_function(activation):
    """``(phi, phi')`` of a named activation, as NumPy functions.

    >>> phi, dphi = activation_function("tanh")
    >>> float(dphi(0.0))
    1.0
    """
    require_choice("activation", activation, set(_FUNCTIONS))
    return _FUNCTIONS[activation]


# For these, E[phi'(sqrt(q) z)^2] does not depend on q, so chi_1 needs no fixed point.
_POSITIVELY_HOMOGENEOUS = {"relu", "leaky_relu", "linear"}


def gaussian_mean(f, q):
    """E[f(sqrt(q) z)] for z ~ N(0, 1), on the module's fine grid.

    >>> round(gaussian_mean(np.square, 2.0), 6)
    2.0
    """
    return float(np.sum(_WEIGHTS * f(np.sqrt(q) * _Z)))


def q_star(weight_scale, activation="tanh", bias_scale=0.0):
    """Fixed point of the pre-activation variance map (``inf`` where it has none).

    >>> round(q_star(4.0), 2)
    12.5
    """
    weight_scale = require_positive_number("weight_scale", weight_scale)
    bias_scale = require_positive_number("bias_scale", bias_scale, allow_zero=True)
    phi, _ = activation_function(activation)

    def excess(q):  # variance map minus identity; q* is its root
        return weight_scale**2 * gaussian_mean(lambda h: phi(h) ** 2, q) + bias_scale**2 - q

    lower = 1e-10
    if excess(lower) <= 0.0:  # the map contracts everything to zero: q* = 0
        return 0.0
    upper = 1.0
    while excess(upper) > 0.0:
        upper *= 2.0
        if upper > 1e6:  # unbounded activation whose variance grows forever
            return float("inf")
    return float(brentq(excess, lower, upper, xtol=1e-12, rtol=1e-12))


def chi1(weight_scale, activation="tanh", bias_scale=0.0):
    """chi_1 = sigma_w**2 E[phi'(h)**2] at the variance fixed point: per-layer growth of the squared gradient norm."""
    weight_scale = require_positive_number("weight_scale", weight_scale)
    _, dphi = activation_function(activation)
    if activation in _POSITIVELY_HOMOGENEOUS:
        q = 1.0
    else:
        q = max(q_star(weight_scale, activation, bias_scale), 1e-12)  # q* = 0: the limit at the origin
    return weight_scale**2 * gaussian_mean(lambda h: dphi(h) ** 2, q)
