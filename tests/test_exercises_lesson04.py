"""Every lesson-04 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import keras
import numpy as np
import pytest

from course_utils import baselines
from course_utils._quiet_tf import tf
from course_utils.approx import approx
from course_utils.checks import ____
from course_utils.data import load_digits
from course_utils.exercises.lesson04 import q1, q2, q3, q4
from course_utils.models import deep_mlp, simple_rnn
from course_utils.regularization import recurrent_kernel, train_steps
from tests.exercise_support import assert_feedback


def test_q1_step_zero_prediction():
    assert_feedback(q1.feedback("B"), "correct", "the first step is the same")
    assert_feedback(q1.feedback("a"), "incorrect", "does not scale the data gradient")
    assert_feedback(q1.feedback("C"), "incorrect", "compare its size")
    assert_feedback(q1.feedback("D"), "incorrect", "should be one of 'A', 'B', 'C'")
    assert_feedback(q1.feedback(0.5), "incorrect", "should be one of")
    assert q1.feedback(____).status == "blank"


@pytest.fixture(scope="module")
def penalised_mlp():
    return deep_mlp(depth=2, width=8, weight_scale=4.0, kernel_regularizer=keras.regularizers.l2(0.01))


def solution_norms(model):
    (x_train, y_train), _ = load_digits()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape(persistent=True) as tape:
        data_loss = loss_fn(y_train, model(x_train, training=True))
        penalty = tf.add_n(model.losses)
    data_norm = float(tf.linalg.global_norm(tape.gradient(data_loss, model.trainable_variables)))
    penalty_grads = tape.gradient(penalty, model.trainable_variables)
    penalty_norm = float(tf.linalg.global_norm([g for g in penalty_grads if g is not None]))
    return data_norm, penalty_norm, float(penalty)


def test_q2_gradient_split_at_step_zero(penalised_mlp):
    data_norm, penalty_norm, penalty = solution_norms(penalised_mlp)
    assert_feedback(
        q2.feedback(penalised_mlp, data_norm, penalty_norm), "correct", "times smaller than the data loss's"
    )
    ratio = approx(data_norm / penalty_norm)  # the measured ratio, in the printed form of measured values
    assert_feedback(
        q2.feedback(penalised_mlp, data_norm, penalty_norm), "correct", f"gradient is {ratio} times smaller"
    )
    assert_feedback(q2.feedback(penalised_mlp, tf.constant(data_norm), np.float32(penalty_norm)), "correct")
    assert_feedback(q2.feedback(penalised_mlp, data_norm, penalty), "incorrect", "the penalty's value")
    assert_feedback(
        q2.feedback(penalised_mlp, data_norm, 2 * penalty_norm), "incorrect", "not the norm of the gradient of"
    )
    assert_feedback(q2.feedback(penalised_mlp, data_norm / 3, penalty_norm), "incorrect", "on the whole training set")
    # malformed
    no_penalty = deep_mlp(depth=2, width=8)
    assert_feedback(q2.feedback(no_penalty, data_norm, penalty_norm), "incorrect", "no weight penalty")
    assert_feedback(q2.feedback(keras.Sequential([keras.layers.Dense(2)]), 1.0, 1.0), "incorrect", "never built")
    assert_feedback(q2.feedback("model", 1.0, 1.0), "incorrect", "should be a Keras model, got str")
    assert_feedback(q2.feedback(penalised_mlp, "big", penalty_norm), "incorrect", "data_norm should be a number")
    assert_feedback(q2.feedback(penalised_mlp, data_norm, tf.ones((2, 2))), "incorrect", "one number")
    assert q2.feedback(penalised_mlp, ____, ____).status == "blank"


def small_rnn(**regularizers):
    return simple_rnn(units=4, timesteps=5, recurrent_scale=1.5, **regularizers)


def test_q3_penalty_on_the_recurrent_matrix():
    solution = small_rnn(recurrent_regularizer=keras.regularizers.l2(0.01))
    assert_feedback(q3.feedback(solution), "correct", "0.01 * sum(U**2)")
    both = small_rnn(kernel_regularizer=keras.regularizers.l2(0.01), recurrent_regularizer=keras.regularizers.l2(0.01))
    assert_feedback(q3.feedback(both), "correct")
    assert_feedback(
        q3.feedback(small_rnn(kernel_regularizer=keras.regularizers.l2(0.01))), "incorrect", "only the input kernel"
    )
    assert_feedback(
        q3.feedback(small_rnn(recurrent_regularizer=keras.regularizers.l1(0.01))),
        "incorrect",
        "not an L2 penalty of strength 0.01",
    )
    assert_feedback(
        q3.feedback(small_rnn(recurrent_regularizer=keras.regularizers.l2(0.1))), "incorrect", "strength 0.01"
    )
    assert_feedback(q3.feedback(small_rnn()), "incorrect", "no weight penalty at all")
    assert_feedback(q3.feedback(deep_mlp(depth=2, width=8)), "incorrect", "no recurrent layer")
    # malformed
    assert_feedback(q3.feedback(keras.Sequential([keras.layers.SimpleRNN(3)])), "incorrect", "never built")
    assert_feedback(q3.feedback("recurrent_regularizer"), "incorrect", "should be a Keras model, got str")
    assert_feedback(q3.feedback(None), "incorrect", "should be a Keras model, got NoneType")
    assert q3.feedback(____).status == "blank"


@pytest.fixture(scope="module")
def sequences():
    (x, y), _ = baselines.adding_data()
    return x, y


def first_steps(sequences, weight_decay=None, only_recurrent=True, penalty=None, steps=20, learning_rate=0.01):
    """The RNN baseline after `steps` SGD steps on the first batches, as a learner would train it."""
    model = baselines.rnn_baseline(recurrent_regularizer=penalty)
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate, weight_decay=weight_decay)
    if weight_decay is not None and only_recurrent:
        matrix = recurrent_kernel(model)
        optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if v is not matrix])
    if steps:
        train_steps(model, optimizer, *sequences, steps=steps, loss_fn=baselines.mse_loss())
    return model


@pytest.fixture(scope="module")
def coupled(sequences):
    return first_steps(sequences, penalty=keras.regularizers.l2(0.01))


def test_q4_weight_decay_for_the_penalty(sequences, coupled):
    solution = first_steps(sequences, weight_decay=2 * 0.01)
    assert_feedback(q4.feedback(coupled, solution), "correct", "weight_decay = 2 * lambda is the L2 penalty")
    # wrong: the usual mistakes, each recognised from the weights it produces
    assert_feedback(
        q4.feedback(coupled, first_steps(sequences, weight_decay=0.02, only_recurrent=False)),
        "incorrect",
        "decayed every variable",
    )
    assert_feedback(q4.feedback(coupled, first_steps(sequences, weight_decay=0.01)), "incorrect", "half the decay")
    assert_feedback(
        q4.feedback(coupled, first_steps(sequences, weight_decay=2 * 0.01 * 0.01)),
        "incorrect",
        "multiplies weight_decay by the learning rate itself",
    )
    assert_feedback(q4.feedback(coupled, first_steps(sequences)), "incorrect", "without any weight decay")
    assert_feedback(
        q4.feedback(coupled, first_steps(sequences, weight_decay=0.02, steps=21)),
        "incorrect",
        "differ from the penalised",
    )
    assert_feedback(
        q4.feedback(coupled, first_steps(sequences, steps=0)), "incorrect", "still has its starting weights"
    )
    assert_feedback(
        q4.feedback(coupled, first_steps(sequences, penalty=keras.regularizers.l2(0.01))),
        "incorrect",
        "still has a penalty",
    )
    assert_feedback(q4.feedback(first_steps(sequences, steps=0), solution), "incorrect", "coupled is not the penalised")
    # malformed
    assert_feedback(q4.feedback(coupled, deep_mlp(depth=2, width=8)), "incorrect", "no recurrent layer")
    assert_feedback(q4.feedback(coupled, small_rnn()), "incorrect", "other shapes")
    assert_feedback(q4.feedback(coupled, "decoupled"), "incorrect", "decoupled should be a Keras model, got str")
    assert_feedback(q4.feedback(None, solution), "incorrect", "coupled should be a Keras model, got NoneType")
    assert_feedback(q4.feedback(coupled, keras.Sequential([keras.layers.SimpleRNN(3)])), "incorrect", "never built")
    assert q4.feedback(coupled, ____).status == "blank"


def test_q4_recomputes_with_the_course_seed(course_seed_reset):
    """Another COURSE_SEED draws other weights and data: the check retrains with it, not with seed 0's numbers."""
    course_seed_reset(1)
    sequences = baselines.adding_data()[0]
    coupled = first_steps(sequences, penalty=keras.regularizers.l2(0.01))
    assert_feedback(q4.feedback(coupled, first_steps(sequences, weight_decay=0.02)), "correct")
    assert_feedback(q4.feedback(coupled, first_steps(sequences, weight_decay=0.01)), "incorrect", "half the decay")
