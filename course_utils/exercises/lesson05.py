"""Lesson 05's exercises: predict which activation/initialiser pair explodes, measure it, pick the right scale,
then write the Keras model of a matched pair (LeakyReLU with He's initialiser).

>>> q3.check(2 ** 0.5)
Correct: sigma_w = 1.41, i.e. Var(W) = 2 / fan_in: He's 2 cancels the 1/2 of E[relu'(h)**2].
"""

import math
import numbers

import keras
import numpy as np

from course_utils.activations import Pairing, dense_output_gradient_norms
from course_utils.approx import approx
from course_utils.baselines import MLP
from course_utils.checks import Incorrect, MultipleChoice, NumericAnswer, Question, expect_built_model, expect_number
from course_utils.data import load_digits
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.seeding import current_course_seed
from course_utils.theory import LEAKY_RELU_SLOPE, chi1

# q1 and q2: the four pairs whose fate the learner predicts, then measures
Q1_PAIRS = {
    "a": Pairing("sigmoid", 4.0),
    "b": Pairing("leaky_relu", 2.0),
    "c": Pairing("relu", "glorot_normal"),
    "d": Pairing("tanh", "glorot_normal"),
}
Q1_ANSWER = "b"
Q2_TOLERANCE = 0.02  # a growth within 2% of the fit of the learner's own profile (e.g. (first / last) ** (1 / 29))
DEPTH, WIDTH = MLP["depth"], MLP["width"]  # q5: the baseline MLP's 30 hidden layers of 64
PROFILE_RTOL = 1e-3  # the learner's profile against the check's own measurement of the same network


class MeasureThePairs(Question):
    """Code: measure the gradient profile of all four pairs of q1 and fit their growth per layer.

    The learner passes what they measured, ``profiles = {letter: norms}``, with the growth they
    fitted, ``growth = {letter: factor}``. The check measures every pair again, with the same
    seed and data (the first 512 training images), so a pasted theory value or a profile of
    another network is told apart from a measurement.
    """

    hints = (
        "For each letter: `Q1_PAIRS[letter].build()` gives the network, `preactivation_gradient_norms(model, "
        "x_train[:512], y_train[:512])` its profile (input side first), `per_layer_growth(profile)` its factor per layer.",
        "Per layer, not in total: profile[0] / profile[-1] is the change over all 29 steps from the last hidden layer "
        "to the first; per_layer_growth(profile) fits the factor of one step.",
        "Keep each profile in the order preactivation_gradient_norms returns it, input side first: per_layer_growth "
        "reads it that way (a reversed profile gives 1 / growth).",
    )
    solution_text = (
        "profiles, growth = {}, {}\n"
        "for letter, pairing in Q1_PAIRS.items():\n"
        "    profiles[letter] = preactivation_gradient_norms(pairing.build(), x_train[:512], y_train[:512])\n"
        "    growth[letter] = per_layer_growth(profiles[letter])  # the factor per layer toward the input\n"
        '    print(f"{pairing.label:22s} predicted x{pairing.predicted_growth():.2f}, measured x{approx(growth[letter])}")'
    )

    def __init__(self):
        super().__init__()
        self._reference = {}  # {(course seed, letter): the profile measured by the check}

    def reference_profile(self, letter):
        """The profile of ``Q1_PAIRS[letter]`` on the first 512 training images, as the solution measures it."""
        key = (current_course_seed(), letter)
        if key not in self._reference:
            (x, y), _ = load_digits()
            self._reference[key] = preactivation_gradient_norms(Q1_PAIRS[letter].build(), x[:512], y[:512])
        return self._reference[key]

    def _profile(self, profiles, letter):
        value = profiles[letter]
        if isinstance(value, numbers.Real):
            raise Incorrect(
                f"profiles[{letter!r}] is one number: pass the profile you measured, the list of gradient norms "
                "that preactivation_gradient_norms returns (one per hidden layer), not a growth factor."
            )
        malformed = Incorrect(f"profiles[{letter!r}] should be a list of gradient norms, got {type(value).__name__}.")
        if isinstance(value, (str, bytes)):
            raise malformed
        try:
            profile = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise malformed from None
        reference = np.asarray(self.reference_profile(letter))
        if profile.shape != reference.shape:
            raise Incorrect(
                f"profiles[{letter!r}] should hold {reference.size} norms, one per hidden layer (dL/dh_l: "
                f"preactivation_gradient_norms), got shape {profile.shape}."
            )
        if not np.all(np.isfinite(profile)):
            raise Incorrect(f"profiles[{letter!r}] holds a NaN or Inf: gradient norms are finite numbers.")
        if np.allclose(profile, reference, rtol=PROFILE_RTOL):
            return profile
        if np.allclose(profile[::-1], reference, rtol=PROFILE_RTOL):
            raise Incorrect(
                f"profiles[{letter!r}] runs from the output side to the input: keep it input side first, as "
                "preactivation_gradient_norms returns it."
            )
        raise Incorrect(
            f"profiles[{letter!r}] is not the profile of Q1_PAIRS[{letter!r}].build() at initialisation on "
            "x_train[:512], y_train[:512] (the check measured that network again with the same seed). Did you "
            "measure other images, a model you had trained, or the kernel gradients?"
        )

    def grade(self, profiles, growth):
        for name, value in (("profiles", profiles), ("growth", growth)):
            if not isinstance(value, dict):
                raise Incorrect(f"{name} should be a dict {{letter: ...}}, got {type(value).__name__}.")
            missing = [letter for letter in Q1_PAIRS if letter not in value]
            if missing:
                raise Incorrect(f"{name} has no entry for {', '.join(missing)}: measure all four pairs a-d.")
        fitted = {}
        for letter, pairing in Q1_PAIRS.items():
            profile = self._profile(profiles, letter)
            factor = expect_number(growth[letter], f"growth[{letter!r}]")
            fit = per_layer_growth(profile)
            if math.isclose(factor, fit, rel_tol=1e-3):
                fitted[letter] = fit
                continue
            if math.isclose(factor, pairing.predicted_growth(), rel_tol=1e-3):
                raise Incorrect(
                    f"growth[{letter!r}] is sqrt(chi_1), the theory's prediction for {pairing.label}: pass the growth "
                    "you fitted to your profile, so that measurement and theory can be compared."
                )
            total = profile[0] / profile[-1]
            if math.isclose(factor, total, rel_tol=0.01):
                raise Incorrect(
                    f"growth[{letter!r}] is the total change over the {profile.size - 1} steps, profile[0] / "
                    "profile[-1]: the question asks for the factor per layer."
                )
            if math.isclose(factor, 1.0 / fit, rel_tol=0.01):
                raise Incorrect(
                    f"growth[{letter!r}] is 1 / (the growth toward the input): the profile went in output side first."
                )
            if not math.isclose(factor, fit, rel_tol=Q2_TOLERANCE):
                raise Incorrect(
                    f"growth[{letter!r}] = {factor:.3g} does not fit your profile of {pairing.label}: "
                    "per_layer_growth(profile) fits the factor per layer toward the input."
                )
            fitted[letter] = factor
        exploding = [letter for letter in Q1_PAIRS if fitted[letter] > 1.05]
        theory = ", ".join(
            f"{letter} x{approx(fitted[letter])} (theory {pairing.predicted_growth():.2f})"
            for letter, pairing in Q1_PAIRS.items()
        )
        return (
            f"only {', '.join(exploding)} grows toward the input; measured per layer: {theory}, as chi_1 predicted "
            "before you built anything."
        )


class ExactLeakyReluInitializer(Question):
    """Code: a Keras ``VarianceScaling`` initialiser that makes LeakyReLU(0.2) exactly critical."""

    hints = (
        "For LeakyReLU with slope a, E[phi'(h)**2] = (1 + a**2) / 2. Which sigma_w**2 makes chi_1 = 1?",
        "`keras.initializers.VarianceScaling(scale=s, mode='fan_in', distribution='truncated_normal')` draws "
        "Var(W) = s / fan_in, i.e. sigma_w**2 = s. He normal is scale=2.",
    )
    solution_text = (
        "initializer = keras.initializers.VarianceScaling(\n"
        '    scale=2 / (1 + 0.2**2), mode="fan_in", distribution="truncated_normal", seed=0\n'
        ")"
    )

    def grade(self, initializer):
        if isinstance(initializer, str):
            raise Incorrect(
                f"{initializer!r} is a name; build the object, keras.initializers.VarianceScaling(scale=..., ...), "
                "so you can choose its scale."
            )
        if not isinstance(initializer, keras.initializers.VarianceScaling):
            raise Incorrect(
                f"initializer should be a keras.initializers.VarianceScaling, got {type(initializer).__name__}."
            )
        scale = initializer.scale
        if not isinstance(scale, numbers.Real) or not scale > 0:
            raise Incorrect(f"the initializer's scale should be a positive number, got {scale!r}.")
        # On a square kernel fan_in = fan_out, so every mode gives Var(W) = scale / 64: sigma_w**2 = scale.
        chi = chi1(math.sqrt(scale), "leaky_relu")
        if math.isclose(scale, 2.0, rel_tol=1e-6):
            raise Incorrect(f"that is He's scale: chi_1 = {chi:.3f} for LeakyReLU({LEAKY_RELU_SLOPE}), not 1.")
        if not math.isclose(chi, 1.0, rel_tol=0.005):
            raise Incorrect(f"with scale={scale:.4g}, LeakyReLU({LEAKY_RELU_SLOPE}) has chi_1 = {chi:.3f}, not 1.")
        return (
            f"scale = {scale:.3f}, so chi_1 = {chi:.3f}. The gain 2 / (1 + a**2) is what PyTorch's "
            "kaiming_normal_(a=...) uses; in Keras you write it as a VarianceScaling."
        )


class LeakyReluHeModel(Question):
    """Code: the baseline's 30 x 64 MLP written in Keras with ``LeakyReLU(negative_slope=0.2)`` and He's initialiser.

    The check reads the layers back (order, widths, slope, initialiser) and then measures the
    model's gradient profile at initialisation on the first 256 training images.
    """

    hints = (
        "Start from `model = keras.Sequential([keras.Input(shape=(64,))])`; in a loop of 30, `model.add(...)` a "
        "`keras.layers.Dense(64, kernel_initializer=...)` and then a `keras.layers.LeakyReLU(negative_slope=...)`; "
        "finish with `keras.layers.Dense(10)` for the logits.",
        "Without kernel_initializer, Dense draws from Keras' default glorot_uniform; He's is the name 'he_normal'. "
        "The layer LeakyReLU defaults to negative_slope=0.3: pass 0.2, the slope of the lesson's networks.",
    )
    solution_text = (
        "model = keras.Sequential([keras.Input(shape=(64,))])\n"
        "for _ in range(30):\n"
        '    model.add(keras.layers.Dense(64, kernel_initializer="he_normal"))\n'
        "    model.add(keras.layers.LeakyReLU(negative_slope=0.2))\n"
        "model.add(keras.layers.Dense(10))  # the logits of the ten digits"
    )

    def grade(self, model):
        expect_built_model(model, "model")
        if not isinstance(model, keras.Sequential):
            raise Incorrect(f"model should be a keras.Sequential, got {type(model).__name__}.")
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        if not dense or layers[-1] is not dense[-1]:
            raise Incorrect("the last layer should be the output layer, keras.layers.Dense(10).")
        hidden, output = dense[:-1], dense[-1]
        if len(hidden) != DEPTH:
            raise Incorrect(
                f"model has {len(hidden)} hidden Dense layers before its output layer; the baseline has {DEPTH}."
            )
        if output.units != 10 or output.activation is not keras.activations.linear:
            raise Incorrect(
                "the output layer should be keras.layers.Dense(10) without an activation: it returns the logits "
                "of the ten digits (the loss applies the softmax)."
            )
        for i, layer in enumerate(hidden):
            if layer.units != WIDTH:
                raise Incorrect(f"hidden Dense layer {i} has {layer.units} units; the baseline's width is {WIDTH}.")
            if layer.activation is not keras.activations.linear:
                raise Incorrect(
                    f"hidden Dense layer {i} applies its own activation ({layer.activation.__name__}): leave Dense "
                    "linear and follow it with the layer keras.layers.LeakyReLU(negative_slope=...)."
                )
            after = layers[layers.index(layer) + 1]
            if not isinstance(after, keras.layers.LeakyReLU):
                raise Incorrect(
                    f"hidden Dense layer {i} is followed by {type(after).__name__}, not by "
                    "keras.layers.LeakyReLU(negative_slope=...)."
                )
            if not math.isclose(after.negative_slope, LEAKY_RELU_SLOPE, rel_tol=1e-6):
                default = " (the layer's default)" if math.isclose(after.negative_slope, 0.3, rel_tol=1e-6) else ""
                raise Incorrect(
                    f"LeakyReLU layer {i} has negative_slope = {after.negative_slope:g}{default}; the lesson's "
                    f"networks use {LEAKY_RELU_SLOPE}."
                )
        if len(layers) != 2 * DEPTH + 1:
            raise Incorrect(
                f"model has {len(layers)} layers; expected {2 * DEPTH + 1}: {DEPTH} times Dense then LeakyReLU, "
                "then the output Dense(10)."
            )
        for i, layer in enumerate(hidden):
            initializer = layer.kernel_initializer
            name = type(initializer).__name__
            if not isinstance(initializer, keras.initializers.VarianceScaling):
                raise Incorrect(
                    f"hidden Dense layer {i} draws its kernel with {name}: He's initialiser is "
                    "kernel_initializer='he_normal' (keras.initializers.HeNormal)."
                )
            # every hidden kernel is 64 x 64, so each mode gives Var(W) = scale / 64: sigma_w**2 = scale
            chi = initializer.scale * (1.0 + LEAKY_RELU_SLOPE**2) / 2.0
            exact = 2.0 / (1.0 + LEAKY_RELU_SLOPE**2)  # q4's exact scale is welcome too
            if not any(math.isclose(initializer.scale, scale, rel_tol=1e-3) for scale in (2.0, exact)):
                glorot = " (Glorot: Keras' default when Dense gets no kernel_initializer)" if "Glorot" in name else ""
                raise Incorrect(
                    f"hidden Dense layer {i} draws its kernel with {name}{glorot}: chi_1 = {chi:.2f} for "
                    f"LeakyReLU({LEAKY_RELU_SLOPE}), not He's 1.04."
                )
        (x, y), _ = load_digits()
        norms = dense_output_gradient_norms(model, x[:256], y[:256])
        return (
            f"{DEPTH} x Dense({WIDTH}, He) + LeakyReLU({LEAKY_RELU_SLOPE}): chi_1 = "
            f"{chi1(math.sqrt(hidden[0].kernel_initializer.scale), 'leaky_relu'):.2f}. Its gradient profile at "
            f"initialisation changes by x{approx(per_layer_growth(norms))} per layer toward the input "
            f"(first / last hidden layer {approx(norms[0] / norms[-1])}): about level, as chi_1 predicts."
        )


q1 = MultipleChoice(  # which of Q1_PAIRS makes the gradient explode toward the input?
    Q1_ANSWER,
    correct=(
        f"LeakyReLU does not saturate, so at sigma_w = 2 nothing brakes the weight scale: chi_1 = "
        f"{Q1_PAIRS[Q1_ANSWER].chi1():.2f}. A 'modern' activation with the wrong scale still explodes."
    ),
    wrong={
        "a": "sigmoid's slope is at most 1/4: even sigma_w = 4 leaves chi_1 below 1. It saturates, and saturation damps.",
        "c": "Glorot gives sigma_w = 1, and ReLU passes back only half of the squared slope on average: chi_1 < 1.",
        "d": "Glorot was derived for tanh: chi_1 is 1 (or just below), the gradient stays level.",
    },
    hints=(
        "chi_1 = sigma_w**2 E[phi'(h)**2]: Glorot gives sigma_w = 1 on a square layer; E[relu'(h)**2] = 1/2.",
        "Work out chi_1 for each: sigmoid's slope is at most 1/4; LeakyReLU(0.2) has E[phi'(h)**2] = (1 + 0.2**2) / 2.",
    ),
    solution_text='# b: leaky_relu at sigma_w = 2, chi_1 = 4 x 0.52 = 2.08 > 1\nanswer = "b"',
)
q2 = MeasureThePairs()
q3 = NumericAnswer(  # the sigma_w at which a deep ReLU network neither explodes nor vanishes
    math.sqrt(2.0),
    tolerance=0.01,  # chi_1 = sigma_w**2 / 2 within 2% of 1
    name="he_scale",
    correct="sigma_w = 1.41, i.e. Var(W) = 2 / fan_in: He's 2 cancels the 1/2 of E[relu'(h)**2].",
    traps={
        2.0: "2 is He's *variance* factor, Var(W) = 2 / fan_in; sigma_w is a standard deviation.",
        1.0: f"that is Glorot's scale: ReLU has chi_1 = {chi1(1.0, 'relu'):.2g} there, the gradient vanishes.",
        4.0: f"that is the baseline's scale: ReLU has chi_1 = {chi1(4.0, 'relu'):.2g} there, the gradient explodes.",
    },
    floor=(0.0, "a weight scale is a positive number."),
    otherwise="chi_1 = sigma_w**2 E[relu'(h)**2] is not 1 at that scale: chi1(he_scale, 'relu') tells you by how much.",
    hints=(
        "Set chi_1 = sigma_w**2 E[relu'(h)**2] equal to 1.",
        "relu'(h) is 1 for h > 0 and 0 otherwise, so E[relu'(h)**2] is the probability that h > 0.",
    ),
    solution_text="# chi_1 = 2 x 1/2 = 1; in Keras: kernel_initializer='he_normal'\nhe_scale = math.sqrt(2.0)",
)
q4 = ExactLeakyReluInitializer()
q5 = LeakyReluHeModel()
