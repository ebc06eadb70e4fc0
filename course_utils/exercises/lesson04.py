"""Lesson 04's exercises: L1/L2 weight regularization.

* ``q1``: predict whether an L2 penalty changes the gradient norm at step 0 (multiple choice).
* ``q2``: measure, with a ``GradientTape``, the data loss's and the penalty's gradient norms at step 0.
* ``q3``: put an L2 penalty of 0.01 on the RNN's recurrent matrix (not just its input kernel).
* ``q4``: how many SGD steps weight decay alone needs to shrink the recurrent matrix from 1.5 to 1 (a number).

    >>> q1.check("B")
    Correct: the penalty adds 2 * 0.01 * W (norm about 3.5) to a data gradient tens of thousands of times larger: invisible, and the first step is the same.
"""

import math

import numpy as np

from course_utils._quiet_tf import tf
from course_utils.approx import approx
from course_utils.checks import (
    Incorrect,
    MultipleChoice,
    NumericAnswer,
    Question,
    expect_built_model,
    expect_number,
)
from course_utils.data import load_digits
from course_utils.regularization import gradient_split, recurrent_kernel

LEARNING_RATE, STRENGTH, SIGMA_START, SIGMA_TARGET = 0.1, 0.01, 1.5, 1.0


class GradientSplitAtStepZero(Question):
    """``data_norm`` and ``penalty_norm``: global gradient norms of the data loss and of ``sum(model.losses)``."""

    hints = (
        "One tf.GradientTape(persistent=True) can record both losses: data_loss = loss_fn(y_train, model(x_train, "
        "training=True)) and penalty = tf.add_n(model.losses). Then call tape.gradient twice.",
        "The penalty has no gradient for the biases (tape.gradient returns None there): leave those out of "
        "tf.linalg.global_norm.",
    )
    solution_text = (
        "with tf.GradientTape(persistent=True) as tape:\n"
        "    data_loss = loss_fn(y_train, model(x_train, training=True))\n"
        "    penalty = tf.add_n(model.losses)\n"
        "data_norm = float(tf.linalg.global_norm(tape.gradient(data_loss, model.trainable_variables)))\n"
        "penalty_grads = tape.gradient(penalty, model.trainable_variables)  # None for the biases: no penalty there\n"
        "penalty_norm = float(tf.linalg.global_norm([g for g in penalty_grads if g is not None]))"
    )

    def grade(self, model, data_norm, penalty_norm):
        expect_built_model(model, "model")
        if not model.losses:
            raise Incorrect(
                "model has no weight penalty: build it with kernel_regularizer=keras.regularizers.l2(0.01)."
            )
        data_norm = expect_number(data_norm, "data_norm")
        penalty_norm = expect_number(penalty_norm, "penalty_norm")
        (x_train, y_train), _ = load_digits()
        expected = gradient_split(model, x_train, y_train)
        if not math.isclose(penalty_norm, expected.penalty_norm, rel_tol=1e-2):
            if math.isclose(penalty_norm, expected.penalty, rel_tol=1e-2):
                raise Incorrect("penalty_norm is the penalty's value: take the norm of its *gradient* instead.")
            raise Incorrect("penalty_norm is not the norm of the gradient of tf.add_n(model.losses).")
        if not math.isclose(data_norm, expected.data_norm, rel_tol=1e-2):
            raise Incorrect(
                "data_norm is not the norm of the data loss's gradient on the whole training set "
                "(x_train, y_train), in training mode."
            )
        ratio = expected.data_norm / expected.penalty_norm
        return (
            f"the penalty's gradient is {approx(ratio)} times smaller than the data loss's: it cannot tame this step."
        )


class RecurrentPenalty(Question):
    """The RNN baseline with an L2 penalty of 0.01 that reaches its recurrent matrix."""

    hints = (
        "In a SimpleRNN, kernel_regularizer is the input kernel W_x. The recurrent matrix W_h has its own argument.",
        "baselines.rnn_baseline(...) passes keyword arguments to simple_rnn, which accepts recurrent_regularizer.",
    )
    solution_text = "rnn = baselines.rnn_baseline(recurrent_regularizer=keras.regularizers.l2(0.01))"

    def grade(self, model):
        expect_built_model(model, "rnn")
        matrix = recurrent_kernel(model)
        if matrix is None:
            raise Incorrect("rnn has no recurrent layer: start from baselines.rnn_baseline().")
        if not model.losses:
            raise Incorrect("rnn has no weight penalty at all (model.losses is empty).")
        with tf.GradientTape() as tape:
            penalty = tf.add_n(model.losses)
        gradient = tape.gradient(penalty, matrix)
        if gradient is None or not np.any(gradient.numpy()):
            raise Incorrect(
                "the penalty does not reach the recurrent matrix: kernel_regularizer is only the input kernel."
            )
        if not np.allclose(gradient.numpy(), 2 * STRENGTH * matrix.numpy(), rtol=1e-3, atol=1e-7):
            raise Incorrect("the recurrent matrix's penalty is not an L2 penalty of strength 0.01.")
        return "model.losses now holds 0.01 * sum(W_h**2): SGD shrinks W_h by 0.2% per step, before the data gradient acts."


# Steps of SGD(0.1) on an L2(0.01) penalty alone to shrink every singular value of W_h from 1.5 to 1.
DECAY_STEPS = math.log(SIGMA_START / SIGMA_TARGET) / -math.log(1 - 2 * LEARNING_RATE * STRENGTH)

q1 = MultipleChoice(  # does kernel_regularizer=l2(0.01) change the MLP baseline's gradient norm at step 0?
    "B",
    correct=(
        "the penalty adds 2 * 0.01 * W (norm about 3.5) to a data gradient tens of thousands of times larger: "
        "invisible, and the first step is the same."
    ),
    wrong={
        "A": "the penalty does not scale the data gradient: it *adds* its own gradient, 2 * lambda * W, to it.",
        "C": "the penalty adds 2 * lambda * W to the gradient: compare its size with the data gradient's.",
    },
    hints=(
        "The L2 penalty's gradient is 2 * 0.01 * W, added to the data loss's gradient. How big is each?",
        "The kernels' norm is about 180; the data gradient's norm at step 0 is of the order of 10^5 (lesson 01).",
    ),
    solution_text='answer = "B"\n# the penalty adds 2 * 0.01 * W, norm about 3.5, to a data gradient of the order of 10^5',
)
q2 = GradientSplitAtStepZero()
q3 = RecurrentPenalty()
q4 = NumericAnswer(
    DECAY_STEPS,
    tolerance=0.05,
    name="steps_needed",
    floor=(0.0, "a number of steps is positive."),
    otherwise="that is not how many steps the factor (1 - 2 * eta * lambda) needs to turn 1.5 into 1.",
    correct=(
        f"about {round(DECAY_STEPS)} steps, 1.6 epochs of the baseline, if the data gradient did not push back; "
        "in lesson 04 it does, and sigma_max took longer than that to cross 1."
    ),
    traps={2 * DECAY_STEPS: "twice too many: the derivative of lambda * w**2 is 2 * lambda * w."},
    hints=(
        "With the penalty alone, one SGD step does W <- W - eta * 2 * lambda * W: every singular value is multiplied "
        "by the same factor.",
        "Solve 1.5 * (1 - 2 * eta * lambda) ** n = 1 for n (take logarithms).",
    ),
    solution_text=(
        "steps_needed = math.log(1.5) / -math.log(1 - 2 * 0.1 * 0.01)  # each step multiplies W by (1 - 2 * eta * lambda)\n"
        "# ~203 steps, about 1.6 epochs of the baseline"
    ),
)
