"""Move a slider, watch the gradient: interactive explorers for lessons 01, 02 and 05.

Each explorer is two layers. A plain function measures one configuration at
initialisation with the lessons' own code (``models.deep_mlp`` and
``diagnostics.preactivation_gradient_norms`` for depth; ``models.simple_rnn`` and
``recurrent.hidden_state_jacobian_norms`` for time) on a fixed probe batch, and
returns the profile with its mean-field prediction. A widget (ipywidgets) redraws
that profile whenever a control is released (``continuous_update=False``).

    >>> from course_utils.data import load_digits
    >>> (x, y), _ = load_digits()
    >>> profile = depth_profile(x[:256], y[:256], weight_scale=4.0, depth=10)
    >>> round(profile.predicted_growth, 2), len(profile.norms)
    (1.54, 10)
    >>> 1.3 < profile.measured_growth < 1.8
    True

In a notebook, ``explore_depth(x, y)`` and ``explore_time()`` return the widget.
"""

import math
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from course_utils._validate import require_choice, require_positive_int, require_positive_number
from course_utils.approx import approx
from course_utils.batchnorm import batchnorm_chi1
from course_utils.data import adding_problem
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.figures import show
from course_utils.models import deep_mlp, simple_rnn
from course_utils.recurrent import hidden_state_jacobian_norms
from course_utils.theory import chi1

ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu")
# sigma_w of each initialiser for the square hidden layers (fan_in = fan_out), as in lesson 05.
INITIALIZERS = {"custom": None, "Glorot (sigma_w = 1)": 1.0, "He (sigma_w = sqrt 2)": math.sqrt(2.0)}
PROBE_SIZE = 256  # examples in the probe batch: enough for a smooth profile, fast enough for a redraw
TIME_PROBE_SIZE = 32  # adding-problem sequences for the time explorer


@dataclass
class Profile:
    """A measured gradient profile at initialisation and what theory predicts for it.

    ``norms`` runs input side (or earliest time step) first and ends where the gradient
    enters; ``predicted_growth`` is the mean-field factor per layer (or step) toward the start.
    """

    norms: np.ndarray
    predicted_growth: float
    prediction: str  # what the prediction is, in words: "chi_1 = 2.38, sqrt(chi_1) = 1.54 per layer"
    seconds: float  # wall time of the measurement (model build included)

    @property
    def measured_growth(self):
        """Per-layer factor fitted to the measured profile (a least-squares line through its log)."""
        finite = self.norms[np.isfinite(self.norms) & (self.norms > 0)]
        return per_layer_growth(finite) if finite.size >= 2 else float("nan")

    @property
    def first_to_last(self):
        """The whole profile's growth: the first entry over the last."""
        return float(self.norms[0] / self.norms[-1]) if self.norms[-1] > 0 else float("inf")

    def predicted(self):
        """The prediction as a line through the last entry, for plotting next to ``norms``."""
        steps = np.arange(len(self.norms))[::-1]
        return self.norms[-1] * self.predicted_growth**steps

    def summary(self):
        """One line a learner reads: the prediction and the first/last ratio, measured and predicted."""
        span = len(self.norms) - 1
        return (
            f"{self.prediction} | first / last: measured {approx(self.first_to_last)}, "
            f"predicted {approx(self.predicted_growth**span)}"
        )


def depth_profile(x, y, weight_scale, depth=30, width=64, activation="tanh", batch_norm=False, seed=0):
    """||dL/dh_l|| of every hidden layer of ``deep_mlp`` at initialisation, on the batch ``(x, y)``.

    Without batch normalization the prediction is sqrt(chi_1(sigma_w)) per layer (lesson 01);
    with it, sigma_w cancels and the prediction is ``batchnorm.batchnorm_chi1`` (lesson 06).
    """
    require_choice("activation", activation, set(ACTIVATIONS))
    weight_scale = require_positive_number("weight_scale", weight_scale)
    start = time.perf_counter()
    model = deep_mlp(depth, width, activation, weight_scale=weight_scale, batch_norm=batch_norm, seed=seed)
    norms = np.array(preactivation_gradient_norms(model, x, y))
    if batch_norm:
        growth = math.sqrt(batchnorm_chi1(activation))
        prediction = f"with BN, sigma_w cancels: {growth:.2f} per layer"
    else:
        growth = math.sqrt(chi1(weight_scale, activation))
        prediction = f"chi_1 = {growth**2:.2f}, sqrt(chi_1) = {growth:.2f} per layer"
    return Profile(norms, growth, prediction, time.perf_counter() - start)


def time_profile(spectral_radius, timesteps=40, units=32, seed=0):
    """||dh_T/dh_k|| of ``simple_rnn`` at initialisation, earliest step k first, on adding-problem sequences.

    The prediction is Pascanu's bound, s_max(U) = ``spectral_radius`` per step (lesson 02);
    the measured rate stays below it because tanh' < 1.
    """
    spectral_radius = require_positive_number("spectral_radius", spectral_radius)
    timesteps = require_positive_int("timesteps", timesteps, minimum=2)
    start = time.perf_counter()
    x, _ = adding_problem(TIME_PROBE_SIZE, timesteps, seed=seed)
    model = simple_rnn(units, timesteps, spectral_radius, seed=seed)
    norms = hidden_state_jacobian_norms(model, x)[::-1]  # entry d was d steps back: earliest step first
    prediction = f"Pascanu's bound: s_max(U) = {spectral_radius:.2f} per step"
    return Profile(np.asarray(norms), spectral_radius, prediction, time.perf_counter() - start)


def plot_profile(ax, profile, xlabel, ylabel, prediction_label):
    """Measured profile (dots) and its prediction (dashed) on a log scale."""
    ax.plot(profile.norms, "o", markersize=3, label="measured")
    ax.plot(profile.predicted(), "--", label=prediction_label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def _explorer(controls, draw):
    """A widget: the controls above an output area that ``draw(**values)`` fills on every change."""
    import ipywidgets as widgets  # imported here: only the widgets need it

    output = widgets.Output()

    def redraw(_=None):
        with output:
            output.clear_output(wait=True)
            draw(**{name: control.value for name, control in controls.items()})

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(controls.values())), output])


def explore_depth(x, y, activation="tanh", weight_scale=4.0):
    """Sliders for sigma_w, depth and width, the activation and initialiser, and batch normalization.

    Redraws the per-layer gradient profile at initialisation (measured on the first
    ``PROBE_SIZE`` examples of ``(x, y)``) with its prediction, and prints chi_1 and the
    first/last ratio.
    """
    import ipywidgets as widgets

    x_probe, y_probe = x[:PROBE_SIZE], y[:PROBE_SIZE]
    slider = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "weight_scale": widgets.FloatSlider(
            weight_scale, min=0.25, max=6.0, step=0.05, description="sigma_w", **slider
        ),
        "depth": widgets.IntSlider(30, min=2, max=100, description="depth", **slider),
        "width": widgets.IntSlider(64, min=8, max=256, step=8, description="width", **slider),
        "activation": widgets.Dropdown(options=ACTIVATIONS, value=activation, description="activation"),
        "initializer": widgets.Dropdown(options=list(INITIALIZERS), value="custom", description="init"),
        "batch_norm": widgets.ToggleButton(False, description="batch norm"),
    }

    def draw(weight_scale, depth, width, activation, initializer, batch_norm):
        scale = INITIALIZERS[initializer] or weight_scale
        profile = depth_profile(x_probe, y_probe, scale, depth, width, activation, batch_norm)
        prediction = "BN prediction (sigma_w cancels)" if batch_norm else r"$\sqrt{\chi_1}$ per layer"
        fig, ax = plt.subplots()
        plot_profile(ax, profile, "hidden layer $l$ (0 = input side)", r"$\|\partial L/\partial h_l\|$", prediction)
        title = f"{activation}, sigma_w = {scale:.2f}, depth {depth}, width {width}{', BN' if batch_norm else ''}"
        ax.set_title(title)
        show(fig, f"Gradient norm per hidden layer at initialisation ({title}), log scale: {profile.summary()}.")
        print(profile.summary())

    return _explorer(controls, draw)


def explore_time(spectral_radius=1.5, timesteps=40):
    """Sliders for the recurrent matrix's spectral radius and the sequence length.

    Redraws ||dh_T/dh_k|| of a ``SimpleRNN(32)`` at initialisation against Pascanu's bound.
    """
    import ipywidgets as widgets

    slider = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "spectral_radius": widgets.FloatSlider(
            spectral_radius, min=0.25, max=3.0, step=0.05, description="spectral radius", **slider
        ),
        "timesteps": widgets.IntSlider(timesteps, min=5, max=100, description="T", **slider),
    }

    def draw(spectral_radius, timesteps):
        profile = time_profile(spectral_radius, timesteps)
        fig, ax = plt.subplots()
        plot_profile(ax, profile, "time step $k$", r"$\|\partial h_T/\partial h_k\|$", "bound: $s_{max}(U)$ per step")
        title = f"SimpleRNN(32), spectral radius {spectral_radius:.2f}, T = {timesteps}"
        ax.set_title(title)
        show(
            fig,
            f"Norm of dh_T/dh_k against the time step k at initialisation ({title}), log scale: {profile.summary()}.",
        )
        print(profile.summary())

    return _explorer(controls, draw)
