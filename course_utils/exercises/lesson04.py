"""Lesson 04's exercises: L1/L2 weight regularization.

* ``q1``: predict whether an L2 penalty changes the gradient norm at step 0 (multiple choice).
* ``q2``: measure, with a ``GradientTape``, the data loss's and the penalty's gradient norms at step 0.
* ``q3``: put an L2 penalty of 0.01 on the RNN's recurrent kernel U (not just its input kernel W).
* ``q4``: train the RNN baseline with the optimizer's ``weight_decay`` instead of that penalty, step for step (the
  check retrains the penalised run with the same seed and compares the weights).

    >>> q1.check("B")
    Correct: the penalty adds 2 * 0.01 * W (norm about 3.5) to a data gradient tens of thousands of times larger: invisible, and the first step is the same.
"""

import math

import keras
import numpy as np

from course_utils import baselines
from course_utils._quiet_tf import tf
from course_utils.approx import approx
from course_utils.checks import (
    Incorrect,
    MultipleChoice,
    Question,
    expect_built_model,
    expect_number,
)
from course_utils.data import load_digits
from course_utils.regularization import gradient_split, recurrent_kernel, train_steps
from course_utils.seeding import course_seed

STRENGTH = 0.01  # the L2 penalty's lambda
# Exercise 4: steps of plain SGD at a learning rate small enough for the unclipped baseline to stay calm that long.
DECAY_STEPS, DECAY_LEARNING_RATE = 20, 0.01


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
        "In a SimpleRNN, kernel_regularizer is the input kernel W. The recurrent kernel U has its own argument.",
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
        return "model.losses now holds 0.01 * sum(U**2): SGD(0.1) shrinks U by 0.2% per step, before the data gradient acts."


def _first_steps(weight_decay=None, exclude=True, penalty=False, steps=DECAY_STEPS):
    """The RNN baseline's weights (this COURSE_SEED) after exercise 4's steps of SGD(0.01), coupled or decoupled."""
    key = (course_seed(0), weight_decay, exclude, penalty, steps)
    if key not in _FIRST_STEPS:
        regularizer = keras.regularizers.l2(STRENGTH) if penalty else None
        model = baselines.rnn_baseline(recurrent_regularizer=regularizer)
        optimizer = keras.optimizers.SGD(learning_rate=DECAY_LEARNING_RATE, weight_decay=weight_decay)
        if weight_decay is not None and exclude:
            matrix = recurrent_kernel(model)
            optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if v is not matrix])
        if steps:
            (x, y), _ = baselines.adding_data()
            train_steps(model, optimizer, x, y, steps=steps, loss_fn=baselines.mse_loss())
        _FIRST_STEPS[key] = [v.numpy() for v in model.trainable_variables]
    return _FIRST_STEPS[key]


_FIRST_STEPS = {}


def _largest_difference(model, weights):
    """The largest absolute difference between ``model``'s trainable variables and ``weights`` (inf: other shapes)."""
    values = [v.numpy() for v in model.trainable_variables]
    if [w.shape for w in values] != [w.shape for w in weights]:
        return math.inf
    return max(float(np.max(np.abs(a - b))) for a, b in zip(values, weights))


class WeightDecayForPenalty(Question):
    """``decoupled``: the RNN baseline without a penalty, trained like ``coupled`` by an SGD whose weight decay
    replaces ``coupled``'s recurrent L2(0.01), on the recurrent kernel U only. Both models are checked against the
    runs retrained here with the same COURSE_SEED."""

    TOLERANCE = 1e-5  # float32 rounding between the two ways of writing the step: ~4e-7 after 20 steps

    hints = (
        "keras.optimizers.SGD(learning_rate=0.01, weight_decay=wd) shrinks every weight by learning_rate * wd * w "
        "before each step. The penalty 0.01 * sum(U**2) has the gradient 2 * 0.01 * U: which wd gives the same step?",
        "weight_decay reaches every trainable variable, the biases and the input kernel W included, while the penalty "
        "only reaches U. Before training, call optimizer.exclude_from_weight_decay(var_list=[...]) with every "
        "variable of decoupled.trainable_variables except recurrent_kernel(decoupled).",
    )
    solution_text = (
        "decoupled = baselines.rnn_baseline()  # the same starting weights, no penalty\n"
        "optimizer = keras.optimizers.SGD(learning_rate=0.01, weight_decay=2 * 0.01)  # 2 lambda: the penalty's step\n"
        "U = recurrent_kernel(decoupled)\n"
        "optimizer.exclude_from_weight_decay(var_list=[v for v in decoupled.trainable_variables if v is not U])\n"
        "train_steps(decoupled, optimizer, x_seq, y_seq, steps=20, loss_fn=mse)"
    )

    def grade(self, coupled, decoupled):
        expect_built_model(coupled, "coupled")
        expect_built_model(decoupled, "decoupled")
        if recurrent_kernel(decoupled) is None:
            raise Incorrect("decoupled has no recurrent layer: start from baselines.rnn_baseline().")
        if _largest_difference(decoupled, _first_steps(steps=0)) == math.inf:
            raise Incorrect(
                "decoupled is not the RNN baseline (its weights have other shapes): start from "
                "baselines.rnn_baseline()."
            )
        if _largest_difference(coupled, _first_steps(penalty=True)) > self.TOLERANCE:
            raise Incorrect(
                "coupled is not the penalised baseline after the 20 steps of the given lines: run the cell again from "
                "its first line (each run of train_steps trains further)."
            )
        if decoupled.losses:
            raise Incorrect(
                "decoupled still has a penalty in model.losses: build it without recurrent_regularizer, and let the "
                "optimizer's weight_decay do the shrinking."
            )
        if _largest_difference(decoupled, _first_steps(steps=0)) == 0.0:
            raise Incorrect("decoupled still has its starting weights: train it with train_steps and your optimizer.")
        reference = _first_steps(penalty=True)
        difference = _largest_difference(decoupled, reference)
        if difference > self.TOLERANCE:
            raise Incorrect(self._diagnose(decoupled, difference))
        return (
            f"after 20 steps the two models differ by at most {approx(difference)}, float32 rounding: with plain SGD, "
            "weight_decay = 2 * lambda is the L2 penalty lambda. With clipping or Adam they part (lesson 04, section 7)."
        )

    def _diagnose(self, decoupled, difference):
        """What is wrong with ``decoupled``: the first typical mistake it reproduces, else how far off it is."""
        traps = [
            (
                dict(weight_decay=2 * STRENGTH, exclude=False),
                "the optimizer decayed every variable, the biases and the input kernel included: exclude all but "
                "the recurrent kernel (exclude_from_weight_decay, before training).",
            ),
            (
                dict(weight_decay=STRENGTH),
                "half the decay the penalty applies: the gradient of lambda * sum(U**2) is 2 * lambda * U.",
            ),
            (
                dict(weight_decay=2 * STRENGTH * DECAY_LEARNING_RATE),
                "Keras multiplies weight_decay by the learning rate itself (w <- w - learning_rate * weight_decay * w): "
                "do not multiply it in again.",
            ),
            (dict(), "decoupled was trained without any weight decay: give its SGD a weight_decay."),
        ]
        for settings, message in traps:
            if _largest_difference(decoupled, _first_steps(**settings)) <= self.TOLERANCE:
                return message
        if not all(np.all(np.isfinite(v.numpy())) for v in decoupled.trainable_variables):
            return "decoupled's weights are not finite: train with SGD(learning_rate=0.01), as the given lines do."
        return (
            f"decoupled's weights differ from the penalised run's by up to {approx(difference)}: train the baseline "
            "for the same 20 steps (train_steps, learning rate 0.01), with the weight_decay that matches 2 * lambda * U."
        )


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
q4 = WeightDecayForPenalty()
