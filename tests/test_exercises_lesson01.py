"""Every lesson-01 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import math

import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.checks import ____
from course_utils.data import load_digits
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.exercises.lesson01 import largest_scale_for, q1, q2, q3, q4
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
    assert_feedback(q1.feedback("1.27"), "incorrect", "should be a number, got str")
    assert_feedback(q1.feedback(None), "incorrect", "should be a number, got NoneType")
    assert_feedback(q1.feedback(float("nan")), "incorrect", "finite")
    assert q1.feedback(____).status == "blank"


def test_q2_measured_growth_per_layer(digits):
    x, y = digits
    measured = per_layer_growth(preactivation_gradient_norms(deep_mlp(depth=30, width=64, weight_scale=2.5), x, y))
    assert_feedback(q2.feedback(measured), "correct", "sqrt(chi_1) = 1.27")
    assert_feedback(q2.feedback(1 / measured), "incorrect", "shrinks toward the input")
    assert_feedback(q2.feedback(1.6), "incorrect", "more than 10% away")
    assert_feedback(q2.feedback(tf.constant([1.27, 1.3])), "incorrect", "should be one number")
    assert_feedback(q2.feedback([1.27, 1.28]), "incorrect", "should be a number, got list")
    assert q2.feedback(____).status == "blank"


def test_q3_largest_scale_for_a_50_layer_network(digits):
    x, y = digits
    scale = largest_scale_for(50, 10.0)
    assert 1.3 < scale < 1.5  # chi_1 = 10**(2/50) = 1.096
    norms = preactivation_gradient_norms(deep_mlp(depth=50, width=64, weight_scale=scale), x, y)
    assert_feedback(q3.feedback(scale, norms[0] / norms[-1]), "correct", "sigma_w = 1.39")
    assert_feedback(q3.feedback(2.0, 10.0), "incorrect", "too large")
    assert_feedback(q3.feedback(1.2, 10.0), "incorrect", "not the largest")
    assert_feedback(q3.feedback(1.0, 10.0), "incorrect", "do not grow")
    assert_feedback(q3.feedback(scale, 1e4), "incorrect", "measured growth")
    assert_feedback(q3.feedback(-1.0, 10.0), "incorrect", "positive")
    assert_feedback(q3.feedback(np.array([1.39, 1.4]), 10.0), "incorrect", "max_scale should be one number")
    assert q3.feedback(____, ____).status == "blank"
    assert q3.feedback(scale, ____).status == "blank"


def test_q4_what_explodes():
    assert_feedback(q4.feedback("b"), "correct", "vanishes")
    assert_feedback(q4.feedback(" B "), "correct")
    assert_feedback(q4.feedback("a"), "incorrect", "close to 0")
    assert_feedback(q4.feedback("c"), "incorrect", "layer after layer")
    assert_feedback(q4.feedback("d"), "incorrect", "contains phi'")
    assert_feedback(q4.feedback("ab"), "incorrect", "should be one of")
    assert_feedback(q4.feedback(2), "incorrect", "should be one of")
    assert q4.feedback(____).status == "blank"


def test_q4_one_case_rule_for_letters():
    """The course's one rule for a multiple choice: any case, surrounding spaces ignored, right or wrong."""
    for answer in ("B", "b\n", "  b"):
        assert_feedback(q4.feedback(answer), "correct", "vanishes")
    assert_feedback(q4.feedback(" A"), "incorrect", "close to 0")
    assert_feedback(q4.feedback("D "), "incorrect", "contains phi'")
    assert_feedback(q4.feedback("e"), "incorrect", "should be one of 'a', 'b', 'c', 'd'")
    assert_feedback(q4.feedback(""), "incorrect", "should be one of")


@pytest.mark.parametrize("seed", [1, 2])
def test_measuring_checks_accept_the_solution_under_other_course_seeds(digits, seed):
    """q2 and q3 compare with theory, not with numbers measured at COURSE_SEED=0: another seed's network passes too."""
    from course_utils.seeding import current_course_seed, set_course_seed

    x, y = digits
    previous = current_course_seed()
    set_course_seed(seed)
    try:
        measured = per_layer_growth(preactivation_gradient_norms(deep_mlp(depth=30, width=64, weight_scale=2.5), x, y))
        scale = largest_scale_for(50, 10.0)
        norms = preactivation_gradient_norms(deep_mlp(depth=50, width=64, weight_scale=scale), x, y)
    finally:
        set_course_seed(previous)
    assert_feedback(q2.feedback(measured), "correct", "sqrt(chi_1) = 1.27", "\u2248")
    assert_feedback(q3.feedback(scale, norms[0] / norms[-1]), "correct", "sigma_w = 1.39", "\u2248")


def test_feedback_quotes_theory_exactly_and_measurements_approximately():
    assert_feedback(q1.feedback(math.sqrt(chi1(2.5))), "correct", "sqrt(chi_1)**29 = 970-fold", "29 steps")
    assert "\u2248" not in q1.feedback(math.sqrt(chi1(2.5))).message  # theory: compared strictly by nbval
    assert_feedback(q4.feedback("b"), "correct", "in every run")
