"""Every lesson-02 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import numpy as np

from course_utils.baselines import rnn_baseline
from course_utils.checks import ____
from course_utils.data import adding_problem
from course_utils.diagnostics import growth_rate
from course_utils.exercises.lesson02 import q1, q2, q3, q4
from course_utils.recurrent import hidden_state_jacobian_norms
from tests.exercise_support import assert_feedback


def test_q1_below_one_must_vanish():
    assert_feedback(q1.feedback("b"), "correct", "sufficient for vanishing")
    assert_feedback(q1.feedback("a"), "incorrect", "smaller")
    assert_feedback(q1.feedback("c"), "incorrect", "shrinks every vector")
    assert_feedback(q1.feedback("d"), "incorrect", "saturation")
    assert_feedback(q1.feedback(None), "incorrect", "should be one of")
    assert q1.feedback(____).status == "blank"


def test_q1_one_case_rule_for_letters():
    """The course's one rule for a multiple choice: any case, surrounding spaces ignored, right or wrong."""
    for answer in ("B", " b", "b\n"):
        assert_feedback(q1.feedback(answer), "correct", "sufficient for vanishing")
    assert_feedback(q1.feedback(" A "), "incorrect", "smaller")
    assert_feedback(q1.feedback("D"), "incorrect", "saturation")
    assert_feedback(q1.feedback("e"), "incorrect", "should be one of 'a', 'b', 'c', 'd'")
    assert_feedback(q1.feedback(2), "incorrect", "should be one of")


def test_q2_pascanu_bound():
    assert_feedback(q2.feedback(1.5**20), "correct", "3.3e+03")
    assert_feedback(q2.feedback(30), "incorrect", "adds up")
    assert_feedback(q2.feedback(0.5), "incorrect", "above 1")
    assert_feedback(q2.feedback(1.5**19), "incorrect", "not the bound")
    assert_feedback(q2.feedback("3325"), "incorrect", "should be a number, got str")
    assert_feedback(q2.feedback(float("inf")), "incorrect", "finite")
    assert_feedback(q2.feedback(np.float32(1.5**20)), "correct")  # any number type, within 1%
    assert_feedback(q2.feedback(1.5**20 * 1.05), "incorrect", "not the bound")
    assert_feedback(q2.feedback(30.1), "incorrect", "adds up")
    assert q2.feedback(____).status == "blank"


def test_q3_growth_rate_through_time():
    x, _ = adding_problem(32, 60)
    rate = growth_rate(hidden_state_jacobian_norms(rnn_baseline(timesteps=60, recurrent_scale=2.0), x)[1:])
    assert_feedback(q3.feedback(rate), "correct", "sqrt(chi_1(2.0)) = 1.17")
    assert_feedback(q3.feedback(2.5), "incorrect", "above Pascanu's bound")
    assert_feedback(q3.feedback(0.9), "incorrect", "vanish")
    assert_feedback(q3.feedback(1.6), "incorrect", "far from")
    assert_feedback(q3.feedback(np.ones(59)), "incorrect", "rate should be one number, got an array of shape")
    assert q3.feedback(____).status == "blank"


def test_q4_shortest_exploding_sequence():
    assert_feedback(q4.feedback(3), "correct", "T = 3")
    assert_feedback(q4.feedback(np.int64(4)), "incorrect", "so does a shorter sequence")
    assert_feedback(q4.feedback(2), "incorrect", "stays finite")


def test_q4_is_measured_under_the_course_seed_in_force():
    from course_utils.exercises.lesson02 import explodes_in_one_epoch
    from course_utils.seeding import current_course_seed, set_course_seed

    before = current_course_seed()
    try:
        for seed in (1, 2):
            set_course_seed(seed)
            assert not explodes_in_one_epoch(2) and explodes_in_one_epoch(3)
            assert_feedback(q4.feedback(3), "correct", "T = 3")
    finally:
        set_course_seed(before)


def test_q3_prints_the_measured_rate_in_the_approximate_form():
    message = q3.feedback(1.17).message
    assert "≈1.2 per step" in message and "sqrt(chi_1(2.0)) = 1.17" in message


def test_q4_rejects_malformed_answers_without_training():
    assert_feedback(q4.feedback(3.0), "incorrect", "whole number", "float")
    assert_feedback(q4.feedback("3"), "incorrect", "whole number", "str")
    assert_feedback(q4.feedback(True), "incorrect", "whole number")
    assert_feedback(q4.feedback(1), "incorrect", "between 2 and")
    assert_feedback(q4.feedback(500), "incorrect", "between 2 and")
    assert q4.feedback(____).status == "blank"
