"""Every lesson-02 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import numpy as np
import tensorflow as tf

from course_utils.baselines import rnn_baseline
from course_utils.checks import ____
from course_utils.data import adding_problem
from course_utils.diagnostics import growth_rate
from course_utils.exercises.lesson02 import q1, q2, q3, q4, q5
from course_utils.recurrent import hidden_state_jacobian_norms
from tests.exercise_support import assert_feedback


def test_q1_below_one_must_vanish():
    assert_feedback(q1.feedback("b"), "correct", "sufficient for vanishing")
    assert_feedback(q1.feedback("a"), "incorrect", "smaller")
    assert_feedback(q1.feedback("c"), "incorrect", "shrinks every vector")
    assert_feedback(q1.feedback("d"), "incorrect", "saturation")
    assert_feedback(q1.feedback(None), "incorrect", "should be one of")
    assert q1.feedback(____).status == "blank"


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


def _three_steps_back(start=17, steps=3, wrt_inputs=False):
    """The learner's code of q5: dh_{start+steps}/dh_start (or d/dx at the last step) with tape.batch_jacobian."""
    model = rnn_baseline()
    x, _ = adding_problem(32, 20)
    x = tf.convert_to_tensor(x)
    cell = model.layers[0].cell
    h = tf.zeros((32, cell.units))
    for t in range(start):
        h, _ = cell(x[:, t], [h])
    h_start = h
    with tf.GradientTape() as tape:
        tape.watch(h_start)
        tape.watch(x)
        h = h_start
        for t in range(start, start + steps):
            h, _ = cell(x[:, t], [h])
    if wrt_inputs:
        return tape.batch_jacobian(h, x)[:, :, start + steps - 1]
    return tape.batch_jacobian(h, h_start)


def test_q5_batch_jacobian_three_steps_back():
    jacobian = _three_steps_back()
    assert_feedback(q5.feedback(jacobian), "correct", "dh_20/dh_17", "hidden_state_jacobian_norms(model, x)[3]")
    assert_feedback(q5.feedback(jacobian.numpy()), "correct")  # a NumPy copy is the same answer
    assert_feedback(q5.feedback(tf.transpose(jacobian, [0, 2, 1])), "incorrect", "transposed")
    assert_feedback(q5.feedback(_three_steps_back(wrt_inputs=True)), "incorrect", "inputs x_t")
    assert_feedback(q5.feedback(_three_steps_back(start=19, steps=1)), "incorrect", "dh_20/dh_19, 1 step back")
    assert_feedback(q5.feedback(_three_steps_back(start=15, steps=5)), "incorrect", "dh_20/dh_15, 5 steps back")
    kernel = rnn_baseline().layers[0].cell.recurrent_kernel.numpy()
    no_tanh = np.broadcast_to(np.linalg.matrix_power(kernel.T, 3), (32, 32, 32))
    assert_feedback(q5.feedback(no_tanh), "incorrect", "tanh' factors")
    assert_feedback(q5.feedback(jacobian * 1.1), "incorrect", "that is not dh_20/dh_17")


def test_q5_rejects_malformed_answers_and_recognises_the_blank():
    assert_feedback(q5.feedback(1.5**3), "incorrect", "array or tensor", "got float")
    assert_feedback(q5.feedback("jacobian"), "incorrect", "got str")
    assert_feedback(q5.feedback(np.zeros((32, 32))), "incorrect", "shape (32, 32, 32)", "got shape (32, 32)")
    assert_feedback(q5.feedback(np.zeros((32, 32, 32, 32))), "incorrect", "batch_jacobian, not jacobian")
    assert_feedback(q5.feedback(np.full((32, 32, 32), np.nan)), "incorrect", "NaN")
    assert q5.feedback(____).status == "blank"


def test_q5_is_recomputed_under_the_course_seed_in_force():
    from course_utils.seeding import current_course_seed, set_course_seed

    at_seed_0 = _three_steps_back()
    before = current_course_seed()
    try:
        set_course_seed(1)
        assert_feedback(q5.feedback(_three_steps_back()), "correct")
        assert_feedback(q5.feedback(at_seed_0), "incorrect", "under this COURSE_SEED")
    finally:
        set_course_seed(before)
