"""Every lesson-05 check accepts the solution's answer, rejects wrong and malformed answers, and knows a blank."""

import math

import keras
import numpy as np
import pytest

from course_utils.checks import ____
from course_utils.exercises.lesson05 import Q1_PAIRS, q1, q2, q3, q4


def status_and_message(question, *answers):
    feedback = question.feedback(*answers)
    return feedback.status, feedback.message


# The growth each pair of q1 measures (lesson 05 and its solution notebook measure these values).
MEASURED = {"a": 0.64, "b": 1.46, "c": 0.69, "d": 0.97}


def test_q1_which_pair_explodes():
    assert q1.feedback("b").status == "correct"
    assert q1.feedback(" B ").status == "correct"
    status, message = status_and_message(q1, "a")
    assert status == "incorrect" and "saturation damps" in message
    status, message = status_and_message(q1, "d")
    assert status == "incorrect" and "Glorot was derived for tanh" in message
    status, message = status_and_message(q1, 2)
    assert status == "incorrect" and "should be one of" in message
    assert q1.feedback(____).status == "blank"


def test_q2_measurements_of_all_four_pairs():
    assert q2.feedback(dict(MEASURED)).status == "correct"
    status, message = status_and_message(q2, {**MEASURED, "b": 1.0})
    assert status == "incorrect" and "more than 10% away" in message and "leaky_relu" in message
    status, message = status_and_message(q2, {"a": 0.64})
    assert status == "incorrect" and "no entry for b, c, d" in message
    status, message = status_and_message(q2, [0.64, 1.46, 0.69, 0.97])
    assert status == "incorrect" and "should be a dict" in message
    status, message = status_and_message(q2, {**MEASURED, "c": "0.7"})
    assert status == "incorrect" and "should be a number" in message
    status, message = status_and_message(q2, {**MEASURED, "a": float("nan")})
    assert status == "incorrect" and "finite" in message
    assert q2.feedback(____).status == "blank"


def test_q2_solution_values_match_theory():
    for letter, pairing in Q1_PAIRS.items():
        assert MEASURED[letter] == pytest.approx(pairing.predicted_growth(), rel=0.10)


def test_q3_he_scale():
    assert q3.feedback(math.sqrt(2)).status == "correct"
    status, message = status_and_message(q3, 2.0)
    assert status == "incorrect" and "variance" in message
    status, message = status_and_message(q3, 1.0)
    assert status == "incorrect" and "vanishes" in message
    status, message = status_and_message(q3, 4.0)
    assert status == "incorrect" and "explodes" in message
    status, message = status_and_message(q3, None)
    assert status == "incorrect" and "should be a number" in message
    status, message = status_and_message(q3, -1.0)
    assert status == "incorrect" and "positive" in message
    assert q3.feedback(____).status == "blank"


def test_q4_exact_leaky_relu_initializer():
    exact = keras.initializers.VarianceScaling(scale=2 / 1.04, mode="fan_in", distribution="truncated_normal", seed=0)
    assert q4.feedback(exact).status == "correct"
    status, message = status_and_message(q4, keras.initializers.HeNormal(seed=0))
    assert status == "incorrect" and "He's scale" in message
    status, message = status_and_message(q4, keras.initializers.VarianceScaling(scale=1.0))
    assert status == "incorrect" and "not 1" in message
    status, message = status_and_message(q4, "he_normal")
    assert status == "incorrect" and "is a name" in message
    status, message = status_and_message(q4, np.zeros((64, 64)))
    assert status == "incorrect" and "should be a keras.initializers.VarianceScaling" in message
    status, message = status_and_message(q4, None)
    assert status == "incorrect" and "NoneType" in message
    assert q4.feedback(____).status == "blank"


@pytest.mark.parametrize("question", [q1, q2, q3, q4])
def test_every_question_has_hints_and_a_solution(question, capsys):
    question.hint()
    question.solution()
    out = capsys.readouterr().out
    assert "Hint 1/" in out and "Solution:" in out
