"""Lesson 05's exercises: predict which activation/initialiser pair explodes, check it, then pick the right scale.

>>> q3.check(2 ** 0.5)
Correct: sigma_w = 1.41, i.e. Var(W) = 2 / fan_in: He's 2 cancels the 1/2 of E[relu'(h)**2].
"""

import math
import numbers

import keras

from course_utils.activations import Pairing
from course_utils.approx import approx
from course_utils.checks import Incorrect, MultipleChoice, NumericAnswer, Question, expect_number
from course_utils.theory import LEAKY_RELU_SLOPE, chi1

# q1 and q2: the four pairs whose fate the learner predicts, then measures
Q1_PAIRS = {
    "a": Pairing("sigmoid", 4.0),
    "b": Pairing("leaky_relu", 2.0),
    "c": Pairing("relu", "glorot_normal"),
    "d": Pairing("tanh", "glorot_normal"),
}
Q1_ANSWER = "b"
Q2_TOLERANCE = 0.10  # measured growth within 10% of sqrt(chi_1), as in the lesson


class MeasureThePairs(Question):
    """Code: measure the per-layer growth of all four pairs of q1, as ``{letter: growth}``."""

    hints = (
        "For each letter: `Q1_PAIRS[letter].build()` gives the network; `preactivation_gradient_norms(model, x, y)` "
        "its profile; `per_layer_growth(norms)` the factor per layer.",
        "Profiles of a vanishing pair can underflow to 0 at the input side: keep only the norms > 0 before fitting.",
    )
    solution_text = (
        "measured = {}\n"
        "for letter, pairing in Q1_PAIRS.items():\n"
        "    norms = preactivation_gradient_norms(pairing.build(), x_train[:512], y_train[:512])\n"
        "    measured[letter] = per_layer_growth([norm for norm in norms if norm > 0])  # 0 = underflowed: no logarithm\n"
        '    print(f"{pairing.label:22s} predicted x{pairing.predicted_growth():.2f}, measured x{approx(measured[letter])}")'
    )

    def grade(self, measured):
        if not isinstance(measured, dict):
            raise Incorrect(f"measured should be a dict {{letter: growth}}, got {type(measured).__name__}.")
        missing = [letter for letter in Q1_PAIRS if letter not in measured]
        if missing:
            raise Incorrect(f"measured has no entry for {', '.join(missing)}: measure all four pairs a-d.")
        for letter, pairing in Q1_PAIRS.items():
            growth = expect_number(measured[letter], f"measured[{letter!r}]")
            if growth <= 0:
                raise Incorrect(f"measured[{letter!r}] = {growth:g}: a growth factor is a positive number.")
            if abs(growth / pairing.predicted_growth() - 1.0) > Q2_TOLERANCE:
                raise Incorrect(
                    f"measured[{letter!r}] = {growth:.3g} is more than 10% away from sqrt(chi_1) of "
                    f"{pairing.label}. Did you fit the profile of dL/dh (preactivation_gradient_norms), input side "
                    "first, for the 30-layer network that pairing.build() gives?"
                )
        exploding = [letter for letter in Q1_PAIRS if measured[letter] > 1.05]
        return (
            f"only {', '.join(exploding)} grows toward the input (x{approx(measured[exploding[0]])} per layer), as chi_1 "
            "predicted before you built anything."
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
