"""Lesson 01's exercises: predict how gradients grow across depth from chi_1, then measure it with a tape.

>>> q1.check(1.6)
Incorrect: that is chi_1 itself, the per-layer growth of the *squared* gradient norm; the question asks about the norm.
>>> q2.check(1.27, [1.27**k for k in range(30)])
Incorrect: model should be a Keras model, got float.
"""

import math
import numbers

import keras
import numpy as np
from scipy.optimize import brentq

from course_utils._quiet_tf import tf
from course_utils.approx import approx, significant
from course_utils.checks import Incorrect, MultipleChoice, Question, expect_built_model, expect_number
from course_utils.data import load_digits
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.gradients import layer_gradient_norms
from course_utils.theory import chi1

Q1_SCALE = 2.5  # q1 and q2: the weight scale whose growth is predicted, then measured ...
Q1_DEPTH = 30  # ... in a network of this depth
WIDTH = 64  # every network of these exercises
Q3_DEPTH = 50  # q3: the depth of the network ...
Q3_MAX_GROWTH = 10.0  # ... and the largest growth of the gradient norm across it that theory may predict
SCALE_TOLERANCE = 0.05  # a network's sigma_w, estimated from its kernels, must be within 5% of the one asked for
PROFILE_RTOL = 1e-3  # a learner's measured norms against the check's measurement on the same model and data


def predicted_growth_per_layer(weight_scale):
    """Mean-field factor by which the gradient norm grows per layer toward the input: sqrt(chi_1)."""
    return math.sqrt(chi1(weight_scale))


def largest_scale_for(depth, max_growth):
    """Largest sigma_w whose predicted growth from h_(depth-1) to h_0, sqrt(chi_1)**(depth-1), is ``max_growth``.

    A network of ``depth`` hidden layers has ``depth - 1`` layer-to-layer steps between them.

        >>> round(largest_scale_for(50, 10.0), 4)
        1.3957
    """
    steps = depth - 1
    return brentq(lambda s: steps * math.log(predicted_growth_per_layer(s)) - math.log(max_growth), 1.0, 10.0)


def _training_data():
    """The training set the lesson uses, split under the current COURSE_SEED (as the learner's notebook has it)."""
    (x_train, y_train), _ = load_digits()
    return x_train, y_train


def _expect_tanh_network(model, depth, weight_scale, scale_name=None):
    """Raise ``Incorrect`` unless ``model`` is a ``deep_mlp``-style tanh network of ``depth`` x ``WIDTH`` at ``weight_scale``."""
    expect_built_model(model)
    activations = [layer for layer in model.layers if isinstance(layer, keras.layers.Activation)]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    build = f"deep_mlp(depth={depth}, width={WIDTH}, weight_scale={scale_name or f'{weight_scale:g}'})"
    asked = f"{scale_name} = {weight_scale:.3g}" if scale_name else f"sigma_w = {weight_scale:g}"
    if not isinstance(model, keras.Sequential) or not activations:
        raise Incorrect(f"model should be a keras.Sequential with Activation layers, as {build} builds it.")
    if len(activations) != depth:
        raise Incorrect(f"model has {len(activations)} hidden tanh layers, not {depth}: build it with {build}.")
    names = {getattr(layer.activation, "__name__", "") for layer in activations}
    if names != {"tanh"}:
        raise Incorrect(f"model's hidden activations are {sorted(names)}, not tanh: build it with {build}.")
    if any(layer.units != WIDTH for layer in dense[:-1]):
        raise Incorrect(f"model's hidden layers should all have width {WIDTH}: build it with {build}.")
    # sigma_w from the kernels: each is drawn from N(0, sigma_w**2 / fan_in)
    measured = float(np.mean([np.std(layer.kernel.numpy()) * math.sqrt(layer.kernel.shape[0]) for layer in dense[:-1]]))
    if abs(measured / weight_scale - 1.0) > SCALE_TOLERANCE:
        raise Incorrect(
            f"model's kernels were drawn at sigma_w {approx(measured)}, not at {asked}: build it with {build}."
        )
    return model


def _expect_profile(norms, depth):
    """``norms`` as a list of ``depth`` finite numbers (a list, array or tensor of them); else ``Incorrect``."""
    if isinstance(norms, numbers.Real) or (hasattr(norms, "shape") and tuple(norms.shape) in ((), (1,))):
        raise Incorrect(
            "delta_norms should be the profile you measured, one norm per hidden layer "
            f"({depth} numbers), not one number: a single factor such as sqrt(chi1({Q1_SCALE})) is what theory "
            "predicts, not what the network does."
        )
    if isinstance(norms, (str, bytes, dict)) or not hasattr(norms, "__len__"):
        raise Incorrect(f"delta_norms should be a list of {depth} numbers, got {type(norms).__name__}.")
    if hasattr(norms, "shape") and len(norms.shape) != 1:
        raise Incorrect(f"delta_norms should be a flat list of {depth} numbers, got shape {tuple(norms.shape)}.")
    values = [expect_number(value, "each entry of delta_norms") for value in list(norms)]
    if len(values) == depth + 1:
        raise Incorrect(
            f"delta_norms has {len(values)} entries, one more than the {depth} hidden layers: are these kernel "
            "gradients dL/dW_l (31 Dense layers, the output layer included)? Differentiate with respect to each "
            "tanh's input h_l instead."
        )
    if len(values) != depth:
        raise Incorrect(f"delta_norms should hold {depth} numbers, one per hidden layer, got {len(values)}.")
    return np.asarray(values)


def _activation_gradient_norms(model, x, y):
    """||dL/da_l|| for the output a_l = tanh(h_l) of every hidden layer: a mistake q2 recognises."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        h, outputs = tf.convert_to_tensor(x), []
        for layer in model.layers:
            h = layer(h)
            if isinstance(layer, keras.layers.Activation):
                outputs.append(h)
        loss = loss_fn(y, h)
    return np.array([float(tf.norm(g)) for g in tape.gradient(loss, outputs)])


class PredictGrowthPerLayer(Question):
    hints = (
        "Mean-field theory gives chi_1 = sigma_w**2 E[phi'(h)**2]; `chi1(2.5)` computes it for tanh.",
        "chi_1 multiplies the *squared* gradient norm at every layer. What multiplies the norm itself?",
    )
    solution_text = "# about 1.27 per layer\ngrowth_per_layer = math.sqrt(chi1(2.5))"
    tolerance = 0.03  # accepts 1.3, the prediction 1.27 rounded to 2 significant figures

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
        if not math.isclose(value, expected, rel_tol=self.tolerance):
            raise Incorrect(
                f"{value:.3g} is not what chi_1 predicts at sigma_w = {Q1_SCALE}; compute chi_1 with chi1()."
            )
        return (
            f"{expected:.2f} per layer, so sqrt(chi_1)**29 = {significant(expected**29)}-fold across the 29 steps "
            "from h_29 down to h_0 of a 30-layer network."
        )


class MeasureWithTape(Question):
    """The learner's own tape loop: ||dL/dh_l|| per hidden layer, checked against the helper on the same model."""

    hints = (
        "Inside `with tf.GradientTape() as tape:` run the layers one by one, `h = layer(h)`, starting from "
        "`h = x_train`; just before each `keras.layers.Activation` layer, append `h` (its input h_l) to a list.",
        "After the loop, `loss = loss_fn(y_train, h)` with `keras.losses.SparseCategoricalCrossentropy(from_logits=True)`; "
        "then `tape.gradient(loss, preacts)` gives one dL/dh_l per layer: take `float(tf.norm(g))` of each.",
    )
    solution_text = (
        f"model = deep_mlp(depth={Q1_DEPTH}, width={WIDTH}, weight_scale={Q1_SCALE})\n"
        "loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
        "with tf.GradientTape() as tape:\n"
        "    h, preacts = x_train, []\n"
        "    for layer in model.layers:\n"
        "        if isinstance(layer, keras.layers.Activation):\n"
        "            preacts.append(h)  # h_l, the input of tanh, computed under the tape\n"
        "        h = layer(h)\n"
        "    loss = loss_fn(y_train, h)\n"
        "delta_norms = [float(tf.norm(g)) for g in tape.gradient(loss, preacts)]"
    )

    def grade(self, model, delta_norms):
        model = _expect_tanh_network(model, Q1_DEPTH, Q1_SCALE)
        theirs = _expect_profile(delta_norms, Q1_DEPTH)
        if not np.all(np.isfinite(theirs) & (theirs > 0)):
            raise Incorrect("every norm should be a positive, finite number.")
        x, y = _training_data()
        ours = np.asarray(preactivation_gradient_norms(model, x, y))
        if np.allclose(theirs, ours, rtol=PROFILE_RTOL):
            growth = per_layer_growth(ours)
            expected = predicted_growth_per_layer(Q1_SCALE)
            return (
                f"your tape loop measures what preactivation_gradient_norms measures on this model: "
                f"||dL/dh_0|| / ||dL/dh_29|| {approx(ours[0] / ours[-1])}, a fitted {approx(growth)} per layer "
                f"against sqrt(chi_1) = {expected:.2f} from question 1."
            )
        if np.allclose(theirs[::-1], ours, rtol=PROFILE_RTOL):
            raise Incorrect("these are the right norms in the wrong order: list them input side first (h_0 first).")
        if np.allclose(theirs, np.asarray(layer_gradient_norms(model, x, y)[:-1]), rtol=PROFILE_RTOL):
            raise Incorrect(
                "these are the kernel gradients ||dL/dW_l||. They also carry the size of each layer's input "
                "(dL/dW_l = delta_l a_(l-1)^T), which can hide a vanishing or exaggerate a growing gradient: "
                "lesson 01 measures dL/dh_l, the gradient with respect to each tanh's input."
            )
        if np.allclose(theirs, _activation_gradient_norms(model, x, y), rtol=PROFILE_RTOL):
            raise Incorrect(
                "these are the gradients with respect to each tanh's *output* a_l = tanh(h_l); keep the *input* h_l "
                "(append h before calling the Activation layer)."
            )
        ratio = theirs / ours
        if np.allclose(ratio, ratio[0], rtol=PROFILE_RTOL):
            raise Incorrect(
                f"your norms are {approx(float(ratio[0]))} times the check's on every layer: the loss should be the "
                "*mean* cross-entropy over the whole training set, as "
                "keras.losses.SparseCategoricalCrossentropy(from_logits=True) computes it."
            )
        worst = int(np.argmax(np.abs(theirs / ours - 1.0)))
        raise Incorrect(
            f"your profile is not what this model gives on the training set (layer {worst}: yours "
            f"{approx(float(theirs[worst]))}, the check measures {approx(float(ours[worst]))}). Measure the model you "
            "pass, on all of x_train and y_train, at initialisation."
        )


class LargestScaleForDepth(Question):
    hints = (
        f"A {Q3_DEPTH}-layer network has {Q3_DEPTH - 1} steps from h_{Q3_DEPTH - 1} to h_0, so theory predicts a "
        f"growth of sqrt(chi1(s))**{Q3_DEPTH - 1}. Find the s where that equals {Q3_MAX_GROWTH:g}: for example "
        "with `brentq` (imported in the setup cell) between 1 and 4.",
        f"Then build `model = deep_mlp(depth={Q3_DEPTH}, width={WIDTH}, weight_scale=max_scale)`, take its "
        "`preactivation_gradient_norms` (or your tape loop) and divide the first (input side) by the last.",
    )
    solution_text = (
        f"max_scale = brentq(lambda s: {Q3_DEPTH - 1} * math.log(math.sqrt(chi1(s))) - math.log({Q3_MAX_GROWTH:g}), "
        "1.0, 4.0)\n"
        f"model = deep_mlp(depth={Q3_DEPTH}, width={WIDTH}, weight_scale=max_scale)\n"
        "norms = preactivation_gradient_norms(model, x_train, y_train)\n"
        "measured_growth = norms[0] / norms[-1]"
    )

    def grade(self, max_scale, model, measured_growth):
        scale = expect_number(max_scale, "max_scale")
        if scale <= 0:
            raise Incorrect("a weight scale is a positive number.")
        expected = largest_scale_for(Q3_DEPTH, Q3_MAX_GROWTH)
        if scale <= 1.0:
            raise Incorrect(
                f"at sigma_w = {scale:g} tanh gradients do not grow at all; a larger scale still keeps the growth "
                f"below {Q3_MAX_GROWTH:g}-fold. You want the largest one."
            )
        if math.isclose(scale, largest_scale_for(Q3_DEPTH + 1, Q3_MAX_GROWTH), rel_tol=1e-3):
            raise Incorrect(
                f"that scale spreads the {Q3_MAX_GROWTH:g}-fold growth over {Q3_DEPTH} steps, but {Q3_DEPTH} hidden "
                f"layers h_0 ... h_{Q3_DEPTH - 1} are {Q3_DEPTH - 1} steps apart."
            )
        if abs(scale / expected - 1.0) > 0.01:
            predicted = predicted_growth_per_layer(scale) ** (Q3_DEPTH - 1)
            side = "too large" if scale > expected else "not the largest"
            raise Incorrect(
                f"at sigma_w = {scale:.3g} theory predicts {predicted:.3g}-fold growth across the {Q3_DEPTH - 1} "
                f"steps: {side}."
            )
        model = _expect_tanh_network(model, Q3_DEPTH, scale, "max_scale")
        growth = expect_number(measured_growth, "measured_growth")
        x, y = _training_data()
        norms = preactivation_gradient_norms(model, x, y)
        ours = norms[0] / norms[-1]
        if math.isclose(growth, 1.0 / ours, rel_tol=PROFILE_RTOL):
            raise Incorrect("that is the ratio upside down: the input side's norm over the last hidden layer's.")
        if not math.isclose(growth, ours, rel_tol=PROFILE_RTOL):
            raise Incorrect(
                f"this model measures ||dL/dh_0|| / ||dL/dh_{Q3_DEPTH - 1}|| {approx(ours)}, not {growth:.3g}: pass "
                "the ratio you measured on it (the target of the question is not a measurement)."
            )
        promise = (
            f"more than the {Q3_MAX_GROWTH:g}-fold theory promised: a real network's factor per layer scatters "
            f"around sqrt(chi_1), and {Q3_DEPTH - 1} steps compound even a small excess, so leave a margin in practice."
            if ours > Q3_MAX_GROWTH
            else f"within the {Q3_MAX_GROWTH:g}-fold theory promised."
        )
        return (
            f"sigma_w = {expected:.2f}, where theory predicts {Q3_MAX_GROWTH:g}-fold; this {Q3_DEPTH}-layer network "
            f"measured {approx(ours)}-fold, {promise} The deeper the network, the closer to sigma_w = 1 it must start."
        )


q1 = PredictGrowthPerLayer()
q2 = MeasureWithTape()
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
