"""Every lesson-05 check accepts the solution's answer, rejects wrong and malformed answers, and knows a blank."""

import math

import keras
import numpy as np
import pytest

from course_utils.checks import ____
from course_utils.data import load_digits
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.exercises.lesson05 import Q1_PAIRS, q1, q2, q3, q4
from tests.exercise_support import assert_feedback

# The growth each pair of q1 measures (lesson 05 and its solution notebook measure these values).
MEASURED = {"a": 0.64, "b": 1.46, "c": 0.69, "d": 0.97}


def test_q1_which_pair_explodes():
    assert q1.feedback("b").status == "correct"
    assert q1.feedback(" B ").status == "correct"
    assert_feedback(q1.feedback("a"), "incorrect", "saturation damps")
    assert_feedback(q1.feedback("d"), "incorrect", "Glorot was derived for tanh")
    assert_feedback(q1.feedback(2), "incorrect", "should be one of")
    assert q1.feedback(____).status == "blank"


def test_q1_one_case_rule_for_letters():
    """The course's one rule for a multiple choice: any case, surrounding spaces ignored, right or wrong."""
    for answer in ("b", "B", " b\n"):
        assert_feedback(q1.feedback(answer), "correct", "chi_1 = 2.08")
    assert_feedback(q1.feedback(" C "), "incorrect", "half of the squared slope")
    assert_feedback(q1.feedback("e"), "incorrect", "answer should be one of 'a', 'b', 'c', 'd', got 'e'")
    assert_feedback(q1.feedback(""), "incorrect", "should be one of")
    assert_feedback(q1.feedback(None), "incorrect", "should be one of")


def test_q2_measurements_of_all_four_pairs():
    assert q2.feedback(dict(MEASURED)).status == "correct"
    assert_feedback(q2.feedback({**MEASURED, "b": 1.0}), "incorrect", "more than 10% away", "leaky_relu")
    assert_feedback(q2.feedback({"a": 0.64}), "incorrect", "no entry for b, c, d")
    assert_feedback(q2.feedback([0.64, 1.46, 0.69, 0.97]), "incorrect", "should be a dict")
    assert_feedback(q2.feedback({**MEASURED, "c": "0.7"}), "incorrect", "should be a number")
    assert_feedback(q2.feedback({**MEASURED, "a": float("nan")}), "incorrect", "finite")
    assert q2.feedback(____).status == "blank"


def test_q2_solution_values_match_theory():
    for letter, pairing in Q1_PAIRS.items():
        assert MEASURED[letter] == pytest.approx(pairing.predicted_growth(), rel=0.10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_q2_accepts_what_the_solution_measures_under_every_course_seed(seed, course_seed_reset):
    course_seed_reset(seed)  # COURSE_SEED=seed: other weights and another split of the digits
    (x, y), _ = load_digits()
    measured = {}
    for letter, pairing in Q1_PAIRS.items():
        norms = preactivation_gradient_norms(pairing.build(), x[:512], y[:512])
        measured[letter] = per_layer_growth([norm for norm in norms if norm > 0])
    feedback = q2.feedback(measured)
    assert_feedback(feedback, "correct", "only b grows")
    assert "≈" in feedback.message  # the measured growth is quoted in the approximate form


def test_q3_he_scale():
    assert q3.feedback(math.sqrt(2)).status == "correct"
    assert_feedback(q3.feedback(2.0), "incorrect", "variance")
    assert_feedback(q3.feedback(1.0), "incorrect", "vanishes")
    assert_feedback(q3.feedback(4.0), "incorrect", "explodes")
    assert_feedback(q3.feedback(None), "incorrect", "should be a number")
    assert_feedback(q3.feedback(-1.0), "incorrect", "positive")
    assert q3.feedback(____).status == "blank"


def test_q3_is_a_number_with_a_trap():
    """Declared as a NumericAnswer: any way of writing sqrt(2) passes; the trap 2 keeps its message within 1%."""
    for answer in (2**0.5, 1.414, np.float32(math.sqrt(2)), np.array([1.4142])):
        assert_feedback(q3.feedback(answer), "correct", "Var(W) = 2 / fan_in")
    assert_feedback(q3.feedback(2.01), "incorrect", "*variance* factor")
    assert_feedback(q3.feedback(0.995), "incorrect", "Glorot's scale", "vanishes")
    assert_feedback(q3.feedback(1.45), "incorrect", "is not 1", "chi1(he_scale, 'relu')")  # 2.5% off: chi_1 = 1.05
    assert_feedback(q3.feedback(0.0), "incorrect", "positive")
    assert_feedback(q3.feedback("1.41"), "incorrect", "he_scale should be a number")
    assert_feedback(q3.feedback(float("nan")), "incorrect", "finite")


def test_q4_exact_leaky_relu_initializer():
    exact = keras.initializers.VarianceScaling(scale=2 / 1.04, mode="fan_in", distribution="truncated_normal", seed=0)
    assert q4.feedback(exact).status == "correct"
    assert_feedback(q4.feedback(keras.initializers.HeNormal(seed=0)), "incorrect", "He's scale")
    assert_feedback(q4.feedback(keras.initializers.VarianceScaling(scale=1.0)), "incorrect", "not 1")
    assert_feedback(q4.feedback("he_normal"), "incorrect", "is a name")
    assert_feedback(q4.feedback(np.zeros((64, 64))), "incorrect", "should be a keras.initializers.VarianceScaling")
    assert_feedback(q4.feedback(None), "incorrect", "NoneType")
    assert q4.feedback(____).status == "blank"
