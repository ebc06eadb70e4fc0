"""Every lesson-01 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import math

import keras
import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.checks import ____
from course_utils.data import load_digits
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.exercises.lesson01 import _activation_gradient_norms, largest_scale_for, q1, q2, q3, q4
from course_utils.gradients import layer_gradient_norms
from course_utils.models import deep_mlp
from course_utils.theory import chi1
from tests.exercise_support import assert_feedback


@pytest.fixture(scope="module")
def digits():
    (x_train, y_train), _ = load_digits()
    return x_train, y_train


def test_q1_predicted_growth_per_layer():
    assert_feedback(q1.feedback(math.sqrt(chi1(2.5))), "correct", "1.27 per layer")
    assert_feedback(q1.feedback(chi1(2.5)), "incorrect", "chi_1 itself")
    assert_feedback(q1.feedback(0.8), "incorrect", "shrinks")
    assert_feedback(q1.feedback(1.5), "incorrect", "not what chi_1 predicts")
    assert_feedback(q1.feedback(1.3), "correct", "1.27 per layer")  # the prediction rounded to 2 figures
    assert_feedback(q1.feedback(1.2), "incorrect", "not what chi_1 predicts")
    assert_feedback(q1.feedback("1.27"), "incorrect", "should be a number, got str")
    assert_feedback(q1.feedback(None), "incorrect", "should be a number, got NoneType")
    assert_feedback(q1.feedback(float("nan")), "incorrect", "finite")
    assert q1.feedback(____).status == "blank"


def tape_profile(model, x, y):
    """The solution's tape loop: ||dL/dh_l|| per hidden layer, input side first."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        h, preacts = x, []
        for layer in model.layers:
            if isinstance(layer, keras.layers.Activation):
                preacts.append(h)
            h = layer(h)
        loss = loss_fn(y, h)
    return [float(tf.norm(g)) for g in tape.gradient(loss, preacts)]


@pytest.fixture(scope="module")
def q2_model():
    return deep_mlp(depth=30, width=64, weight_scale=2.5)


def test_q2_accepts_the_learners_tape_loop(digits, q2_model):
    x, y = digits
    norms = tape_profile(q2_model, x, y)
    assert np.allclose(norms, preactivation_gradient_norms(q2_model, x, y), rtol=1e-5)
    assert_feedback(q2.feedback(q2_model, norms), "correct", "sqrt(chi_1) = 1.27", "preactivation_gradient_norms")
    # the same profile as a NumPy array, a tensor, or a list of tensors (what tf.norm returns) is the same answer
    assert_feedback(q2.feedback(q2_model, np.array(norms)), "correct")
    assert_feedback(q2.feedback(q2_model, tf.constant(norms)), "correct")
    assert_feedback(q2.feedback(q2_model, [tf.constant(n) for n in norms]), "correct")


def test_q2_tells_measuring_from_pasting(digits, q2_model):
    x, y = digits
    norms = preactivation_gradient_norms(q2_model, x, y)
    # the theory value typed in, nothing measured
    assert_feedback(q2.feedback(q2_model, math.sqrt(chi1(2.5))), "incorrect", "not one number", "theory predicts")
    assert_feedback(q2.feedback(q2_model, per_layer_growth(norms)), "incorrect", "not one number")
    # a profile made up from theory
    made_up = [norms[-1] * math.sqrt(chi1(2.5)) ** (29 - k) for k in range(30)]
    assert_feedback(q2.feedback(q2_model, made_up), "incorrect", "not what this model gives")
    # the kernel gradients lesson 01 warns against, with and without the output layer
    kernels = layer_gradient_norms(q2_model, x, y)
    assert_feedback(q2.feedback(q2_model, kernels[:-1]), "incorrect", "kernel gradients", "dL/dh_l")
    assert_feedback(q2.feedback(q2_model, kernels), "incorrect", "kernel", "31")
    # a profile measured on another network than the one passed
    other = preactivation_gradient_norms(deep_mlp(depth=30, width=64, weight_scale=2.5, seed=1), x, y)
    assert_feedback(q2.feedback(q2_model, other), "incorrect", "not what this model gives")


def test_q2_recognises_the_usual_mistakes(digits, q2_model):
    x, y = digits
    norms = preactivation_gradient_norms(q2_model, x, y)
    assert_feedback(q2.feedback(q2_model, norms[::-1]), "incorrect", "wrong order")
    assert_feedback(q2.feedback(q2_model, [1347 * n for n in norms]), "incorrect", "*mean* cross-entropy")
    assert_feedback(q2.feedback(q2_model, tape_profile(q2_model, x[:64], y[:64])), "incorrect", "all of x_train")
    # the gradient with respect to each tanh's output instead of its input
    after = _activation_gradient_norms(q2_model, x, y)
    assert_feedback(q2.feedback(q2_model, after), "incorrect", "*output*")


def test_q2_checks_the_network(digits):
    x, y = digits
    for model, fragment in [
        (deep_mlp(depth=30, width=64, weight_scale=4.0), "not at sigma_w = 2.5"),
        (deep_mlp(depth=20, width=64, weight_scale=2.5), "20 hidden tanh layers"),
        (deep_mlp(depth=30, width=32, weight_scale=2.5), "width 64"),
        (deep_mlp(depth=30, width=64, activation="relu", weight_scale=2.5), "not tanh"),
    ]:
        feedback = q2.feedback(model, preactivation_gradient_norms(model, x, y))
        assert_feedback(feedback, "incorrect", fragment)


def test_q2_rejects_malformed_and_blank_answers(q2_model):
    assert_feedback(q2.feedback(1.27, [1.0] * 30), "incorrect", "should be a Keras model, got float")
    assert_feedback(q2.feedback(keras.Sequential([keras.layers.Dense(3)]), [1.0] * 30), "incorrect", "never built")
    assert_feedback(q2.feedback(q2_model, "1.27"), "incorrect", "should be a list of 30 numbers, got str")
    assert_feedback(q2.feedback(q2_model, {0: 1.0}), "incorrect", "should be a list of 30 numbers, got dict")
    assert_feedback(q2.feedback(q2_model, [1.0] * 29), "incorrect", "should hold 30 numbers")
    assert_feedback(q2.feedback(q2_model, ["1.0"] * 30), "incorrect", "each entry of delta_norms should be a number")
    assert_feedback(q2.feedback(q2_model, np.ones((30, 2))), "incorrect", "shape (30, 2)")
    assert_feedback(q2.feedback(q2_model, [float("nan")] * 30), "incorrect", "finite")
    assert_feedback(q2.feedback(q2_model, [0.0] * 30), "incorrect", "positive")
    assert q2.feedback(____, ____).status == "blank"
    assert q2.feedback(q2_model, ____).status == "blank"


@pytest.fixture(scope="module")
def q3_answer(digits):
    x, y = digits
    scale = largest_scale_for(50, 10.0)
    model = deep_mlp(depth=50, width=64, weight_scale=scale)
    norms = preactivation_gradient_norms(model, x, y)
    return scale, model, norms[0] / norms[-1]


def test_q3_largest_scale_for_a_50_layer_network(q3_answer):
    scale, model, growth = q3_answer
    assert 1.3 < scale < 1.5  # chi_1 = 10**(2/49) = 1.099
    assert math.isclose(math.sqrt(chi1(scale)) ** 49, 10.0, rel_tol=1e-6)  # 50 layers, 49 steps
    assert_feedback(q3.feedback(scale, model, growth), "correct", "sigma_w = 1.40", "theory predicts 10-fold")
    assert_feedback(q3.feedback(1.4, model, growth), "correct")  # the scale rounded as the feedback prints it
    assert_feedback(q3.feedback(2.0, model, 10.0), "incorrect", "too large")
    assert_feedback(q3.feedback(1.2, model, 10.0), "incorrect", "not the largest")
    assert_feedback(q3.feedback(1.0, model, 10.0), "incorrect", "do not grow")
    assert_feedback(q3.feedback(largest_scale_for(51, 10.0), model, growth), "incorrect", "49 steps apart")
    assert_feedback(q3.feedback(scale, model, 1e4), "incorrect", "pass the ratio you measured")
    assert_feedback(q3.feedback(-1.0, model, 10.0), "incorrect", "positive")
    assert_feedback(q3.feedback(np.array([1.39, 1.4]), model, 10.0), "incorrect", "max_scale should be one number")
    assert q3.feedback(____, ____, ____).status == "blank"
    assert q3.feedback(scale, model, ____).status == "blank"


def test_q3_verifies_what_was_measured(digits, q3_answer):
    x, y = digits
    scale, model, growth = q3_answer
    # the target typed in instead of a measurement (the q3.check(max_scale, 10))
    assert_feedback(q3.feedback(scale, model, 10), "incorrect", "not 10", "not a measurement")
    assert_feedback(q3.feedback(scale, model, 1 / growth), "incorrect", "upside down")
    assert_feedback(q3.feedback(scale, model, "12"), "incorrect", "measured_growth should be a number, got str")
    assert_feedback(q3.feedback(scale, None, growth), "incorrect", "should be a Keras model, got NoneType")
    at_four = deep_mlp(depth=50, width=64, weight_scale=4.0)
    assert_feedback(q3.feedback(scale, at_four, growth), "incorrect", "not at max_scale")
    shallow = deep_mlp(depth=30, width=64, weight_scale=scale)
    assert_feedback(q3.feedback(scale, shallow, growth), "incorrect", "30 hidden tanh layers, not 50")


def test_q4_what_explodes():
    assert_feedback(q4.feedback("b"), "correct", "vanishes")
    assert_feedback(q4.feedback(" B "), "correct")
    assert_feedback(q4.feedback("a"), "incorrect", "close to 0")
    assert_feedback(q4.feedback("c"), "incorrect", "layer after layer")
    assert_feedback(q4.feedback("d"), "incorrect", "contains phi'")
    assert_feedback(q4.feedback("ab"), "incorrect", "should be one of")
    assert_feedback(q4.feedback(2), "incorrect", "should be one of")
    assert q4.feedback(____).status == "blank"


@pytest.mark.parametrize("seed", [1, 2])
def test_measuring_checks_accept_the_solution_under_other_course_seeds(digits, seed):
    """q2 and q3 recompute on the learner's model under the current seed: another seed's network passes too."""
    from course_utils.seeding import current_course_seed, set_course_seed

    previous = current_course_seed()
    set_course_seed(seed)
    try:
        (x, y), _ = load_digits()  # the learner's notebook loads its data under the same COURSE_SEED as the check
        model = deep_mlp(depth=30, width=64, weight_scale=2.5)
        q2_feedback = q2.feedback(model, tape_profile(model, x, y))
        scale = largest_scale_for(50, 10.0)
        deep = deep_mlp(depth=50, width=64, weight_scale=scale)
        norms = preactivation_gradient_norms(deep, x, y)
        q3_feedback = q3.feedback(scale, deep, norms[0] / norms[-1])
    finally:
        set_course_seed(previous)
    assert_feedback(q2_feedback, "correct", "sqrt(chi_1) = 1.27", "\u2248")
    assert_feedback(q3_feedback, "correct", "sigma_w = 1.40", "\u2248")


def test_feedback_quotes_theory_exactly_and_measurements_approximately():
    assert_feedback(q1.feedback(math.sqrt(chi1(2.5))), "correct", "sqrt(chi_1)**29 = 970-fold", "29 steps")
    assert "\u2248" not in q1.feedback(math.sqrt(chi1(2.5))).message  # theory: compared strictly by nbval
    assert_feedback(q4.feedback("b"), "correct", "in every run")
