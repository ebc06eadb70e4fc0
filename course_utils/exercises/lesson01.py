"""Lesson 01's exercises: predict how gradients grow across depth from chi_1, then measure it.

>>> q1.check(1.6)
Incorrect: that is chi_1 itself, the per-layer growth of the *squared* gradient norm; the question asks about the norm.
"""

import math

from scipy.optimize import brentq

from course_utils.approx import approx, significant
from course_utils.checks import Incorrect, MultipleChoice, Question, expect_number
from course_utils.theory import chi1

Q1_SCALE = 2.5  # q1 and q2: the weight scale whose growth is predicted, then measured
Q3_DEPTH = 50  # q3: the depth of the network ...
Q3_MAX_GROWTH = 10.0  # ... and the largest growth of the gradient norm across it that is allowed


def predicted_growth_per_layer(weight_scale):
    """Mean-field factor by which the gradient norm grows per layer toward the input: sqrt(chi_1)."""
    return math.sqrt(chi1(weight_scale))


def largest_scale_for(depth, max_growth):
    """Largest sigma_w whose predicted growth across ``depth`` layers, sqrt(chi_1)**depth, is ``max_growth``."""
    return brentq(lambda s: depth * math.log(predicted_growth_per_layer(s)) - math.log(max_growth), 1.0, 10.0)


class PredictGrowthPerLayer(Question):
    hints = (
        "Mean-field theory gives chi_1 = sigma_w**2 E[phi'(h)**2]; `chi1(2.5)` computes it for tanh.",
        "chi_1 multiplies the *squared* gradient norm at every layer. What multiplies the norm itself?",
    )
    solution_text = "# about 1.27 per layer\ngrowth_per_layer = math.sqrt(chi1(2.5))"

    def grade(self, growth_per_layer):
        value = expect_number(growth_per_layer, "growth_per_layer")
        expected = predicted_growth_per_layer(Q1_SCALE)
        if math.isclose(value, chi1(Q1_SCALE), rel_tol=0.01):
            raise Incorrect(
                "that is chi_1 itself, the per-layer growth of the *squared* gradient norm; "
                "the question asks about the norm."
            )
        if value <= 1.0:
            raise Incorrect(
                f"a factor <= 1 means the gradient shrinks toward the input, but sigma_w = {Q1_SCALE} is above the "
                "critical scale sigma_w = 1 of a tanh network."
            )
        if not math.isclose(value, expected, rel_tol=0.01):
            raise Incorrect(
                f"{value:.3g} is not what chi_1 predicts at sigma_w = {Q1_SCALE}; compute chi_1 with chi1()."
            )
        return (
            f"{expected:.2f} per layer, so sqrt(chi_1)**29 = {significant(expected**29)}-fold across the 29 steps "
            "from h_29 down to h_0 of a 30-layer network."
        )


class MeasureGrowthPerLayer(Question):
    hints = (
        f"Build `deep_mlp(depth=30, width=64, weight_scale={Q1_SCALE})` and measure its profile with "
        "`preactivation_gradient_norms(model, x_train, y_train)`.",
        "`per_layer_growth(norms)` fits a straight line to the profile on a log scale and returns the factor per layer.",
    )
    solution_text = (
        f"model = deep_mlp(depth=30, width=64, weight_scale={Q1_SCALE})\n"
        "measured_growth = per_layer_growth(preactivation_gradient_norms(model, x_train, y_train))"
    )

    def grade(self, measured_growth):
        value = expect_number(measured_growth, "measured_growth")
        expected = predicted_growth_per_layer(Q1_SCALE)
        if value <= 1.0:
            raise Incorrect(
                "a factor <= 1 says the gradient shrinks toward the input. Did you build the network at "
                f"sigma_w = {Q1_SCALE}, and pass per_layer_growth a profile listed input side first?"
            )
        if abs(value / expected - 1.0) > 0.10:
            raise Incorrect(
                f"{value:.3g} is more than 10% away from the prediction of question 1. Check the network "
                f"(depth 30, width 64, weight_scale={Q1_SCALE}) and that you fit the whole profile."
            )
        return (
            f"measured {approx(value)} per layer against sqrt(chi_1) = {expected:.2f} "
            f"({approx(value / expected - 1.0, percent=True)} off): "
            "a width-64 network is already close to the infinite-width theory."
        )


class LargestScaleForDepth(Question):
    hints = (
        f"Across {Q3_DEPTH} layers the norm grows by sqrt(chi1(s))**{Q3_DEPTH}. Find the s where that equals "
        f"{Q3_MAX_GROWTH:g}: for example with `scipy.optimize.brentq` between 1 and 4.",
        f"Then build `deep_mlp(depth={Q3_DEPTH}, width=64, weight_scale=max_scale)`, take its "
        "`preactivation_gradient_norms` and divide the first (input side) by the last.",
    )
    solution_text = (
        "from scipy.optimize import brentq\n"
        f"max_scale = brentq(lambda s: {Q3_DEPTH} * math.log(math.sqrt(chi1(s))) - math.log({Q3_MAX_GROWTH:g}), 1.0, 4.0)\n"
        f"norms = preactivation_gradient_norms(deep_mlp(depth={Q3_DEPTH}, width=64, weight_scale=max_scale), "
        "x_train, y_train)\n"
        "measured_growth = norms[0] / norms[-1]"
    )

    def grade(self, max_scale, measured_growth):
        scale = expect_number(max_scale, "max_scale")
        growth = expect_number(measured_growth, "measured_growth")
        if scale <= 0:
            raise Incorrect("a weight scale is a positive number.")
        expected = largest_scale_for(Q3_DEPTH, Q3_MAX_GROWTH)
        if scale <= 1.0:
            raise Incorrect(
                f"at sigma_w = {scale:g} tanh gradients do not grow at all; a larger scale still keeps the growth "
                f"below {Q3_MAX_GROWTH:g}-fold. You want the largest one."
            )
        if abs(scale / expected - 1.0) > 0.01:
            predicted = predicted_growth_per_layer(scale) ** Q3_DEPTH
            side = "too large" if scale > expected else "not the largest"
            raise Incorrect(
                f"at sigma_w = {scale:.3g} theory predicts {predicted:.3g}-fold growth across {Q3_DEPTH} layers: {side}."
            )
        if not Q3_MAX_GROWTH / 2 <= growth <= Q3_MAX_GROWTH * 2:
            raise Incorrect(
                f"max_scale is right, but the measured growth {growth:.3g} is not near {Q3_MAX_GROWTH:g}: measure "
                f"||dL/dh|| at the input side over the output side of a depth-{Q3_DEPTH} network built at max_scale."
            )
        return (
            f"sigma_w = {expected:.2f}, and the {Q3_DEPTH}-layer network measured {approx(growth)}-fold. The "
            "deeper the network, the closer to sigma_w = 1 it must start."
        )


q1 = PredictGrowthPerLayer()
q2 = MeasureGrowthPerLayer()
q3 = LargestScaleForDepth()
q4 = MultipleChoice(  # what makes the sigma_w = 4 network explode? (the options are in the exercise notebook)
    "b",
    correct=(
        "saturation by itself vanishes gradients (the trained baseline shows it in every run: about 9 units in 10 "
        "saturated, input-side gradients at least 100 times smaller than at the output side); the explosion is "
        "the weight scale outgrowing it."
    ),
    wrong={
        "a": "tanh'(h) = 1 - tanh(h)**2 is close to 0 at a saturated unit: it passes almost none of the gradient.",
        "c": "the data only sets the first layer's input; the growth happens layer after layer inside the network.",
        "d": "chi_1 = sigma_w**2 E[phi'(h)**2] contains phi' explicitly.",
    },
    hints=(
        "What is the derivative of tanh at a saturated unit, where |tanh(h)| is close to 1?",
        "chi_1 = sigma_w**2 E[phi'(h)**2] is a product: which factor grows with sigma_w and which one shrinks?",
    ),
    solution_text='answer = "b"',
)
