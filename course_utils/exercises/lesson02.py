"""Lesson 02's exercises: Pascanu's condition, the per-step growth through time, how short a sequence can explode,
and three steps of backpropagation through time taken with ``tape.batch_jacobian``.

>>> q1.check(" B ")
Correct: s_max < 1 is sufficient for vanishing: the long-range terms shrink at least as fast as 0.9**(T - k).
>>> q2.check(30)
Incorrect: 30 adds up the 20 steps; backpropagation through time multiplies one Jacobian per step.
"""

import functools
import math
import numbers

import keras
import numpy as np

from course_utils import baselines
from course_utils.approx import approx
from course_utils.checks import Incorrect, MultipleChoice, NumericAnswer, Question, expect_number
from course_utils.data import adding_problem
from course_utils.gradients import train_with_gradient_log
from course_utils.recurrent import hidden_states, recurrent_layer
from course_utils.seeding import current_course_seed
from course_utils.theory import chi1

Q2_RADIUS, Q2_STEPS = 1.5, 20  # q2: Pascanu's bound on ||dh_T/dh_k|| for this s_max and T - k
Q3_RADIUS = 2.0  # q3: the recurrent scale whose per-step growth is measured
SHORTEST_ALLOWED = 2  # q4: the adding problem needs at least 2 time steps
Q5_SEQUENCES, Q5_STEPS = 32, 3  # q5: dh_T/dh_{T-3} of rnn_baseline() on adding_problem(32, T)


def explodes_in_one_epoch(timesteps):
    """Does the baseline RNN, on ``adding_data(timesteps)``, reach NaN/Inf in one epoch of plain SGD?

    Measured under the current ``COURSE_SEED`` (the learner's run), never a stored answer.
    """
    return _explodes_in_one_epoch(timesteps, current_course_seed())


@functools.cache  # a deterministic experiment: re-checking an answer need not re-train
def _explodes_in_one_epoch(timesteps, course_seed_in_force):
    model = baselines.rnn_baseline(timesteps=timesteps)
    (x, y), _ = baselines.adding_data(timesteps)
    optimizer = keras.optimizers.SGD(learning_rate=baselines.RNN_TRAINING["learning_rate"])
    log = train_with_gradient_log(
        model, x, y, optimizer, epochs=1, batch_size=baselines.RNN_TRAINING["batch_size"], loss_fn=baselines.mse_loss()
    )
    return log.diverged


class MeasureGrowthThroughTime(Question):
    hints = (
        f"Build `rnn_baseline(timesteps=60, recurrent_scale={Q3_RADIUS})`, take some sequences "
        "`adding_problem(32, 60)` and compute `hidden_state_jacobian_norms(model, x)`.",
        "`growth_rate(norms[1:])` fits a straight line to log ||dh_T/dh_{T-d}|| against d and returns the factor per step.",
    )
    solution_text = (
        "x, _ = adding_problem(32, 60)\n"
        f"model = rnn_baseline(timesteps=60, recurrent_scale={Q3_RADIUS})\n"
        "rate = growth_rate(hidden_state_jacobian_norms(model, x)[1:])"
    )

    def grade(self, rate):
        value = expect_number(rate, "rate")
        if value > Q3_RADIUS * 1.001:
            raise Incorrect(
                f"{value:.3g} per step is above Pascanu's bound s_max = {Q3_RADIUS}, which no tanh RNN can exceed: "
                "fit the growth of the norms per step (a factor), not something else."
            )
        if value <= 1.0:
            raise Incorrect(
                f"a factor <= 1 means the long-range terms vanish; at radius {Q3_RADIUS} they grow. "
                f"Did you build the model with recurrent_scale={Q3_RADIUS}?"
            )
        mean_field = math.sqrt(chi1(Q3_RADIUS))
        if abs(value / mean_field - 1.0) > 0.15:
            raise Incorrect(
                f"{value:.3g} is far from what the lesson's measurements lead to expect; fit log-norms over the "
                "whole range of distances d = 1 .. T-1 of one 60-step model."
            )
        return (
            f"{approx(value)} per step, far below the bound {Q3_RADIUS} and close to sqrt(chi_1({Q3_RADIUS})) = "
            f"{mean_field:.2f}, lesson 01's mean-field number ({approx(value / mean_field - 1, percent=True)} off)."
        )


class ShortestExplodingSequence(Question):
    hints = (
        "Loop over T = 2, 3, 4, ...: build `rnn_baseline(timesteps=T)`, train it for one epoch on `adding_data(T)` "
        "with `train_with_gradient_log` and SGD(0.1), and stop at the first run whose log says `diverged`.",
        "Use `loss_fn=mse_loss()` and `batch_size=64`, as in the lesson.",
    )
    solution_text = (
        "for shortest_T in range(2, 21):\n"
        "    model = rnn_baseline(timesteps=shortest_T)\n"
        "    (x, y), _ = adding_data(shortest_T)\n"
        "    log = train_with_gradient_log(model, x, y, keras.optimizers.SGD(0.1), epochs=1, batch_size=64, "
        "loss_fn=mse_loss())\n"
        "    if log.diverged:\n"
        "        break"
    )

    def grade(self, shortest_T):
        if isinstance(shortest_T, bool) or not isinstance(shortest_T, numbers.Integral):
            raise Incorrect(
                f"shortest_T should be a whole number of time steps, got {type(shortest_T).__name__} {shortest_T!r}."
            )
        steps = int(shortest_T)
        if not SHORTEST_ALLOWED <= steps <= baselines.RNN["timesteps"]:
            raise Incorrect(
                f"shortest_T should be between {SHORTEST_ALLOWED} and the baseline's {baselines.RNN['timesteps']}, "
                f"got {steps}."
            )
        if not explodes_in_one_epoch(steps):
            raise Incorrect(f"at T = {steps} one epoch of SGD(0.1) stays finite.")
        if steps > SHORTEST_ALLOWED and explodes_in_one_epoch(steps - 1):
            raise Incorrect(f"T = {steps} explodes, but so does a shorter sequence.")
        return (
            f"T = {steps}. A few recurrent steps at radius {baselines.RNN['recurrent_scale']} are enough for SGD(0.1) "
            "to run away: long sequences make the gradient larger from the start, but they are not what it takes."
        )


@functools.cache  # one deterministic model and batch per COURSE_SEED
def _backward_products(course_seed_in_force):
    """dh_T/dh_{T-d} for d = 0 .. T-1 of ``rnn_baseline()`` on ``adding_problem(32, T)`` (float64), and U."""
    model = baselines.rnn_baseline()
    x, _ = adding_problem(Q5_SEQUENCES, baselines.RNN["timesteps"])
    states = hidden_states(model, x).astype(np.float64)
    kernel = recurrent_layer(model).cell.recurrent_kernel.numpy().astype(np.float64)
    products = [np.broadcast_to(np.eye(kernel.shape[0]), (len(x), *kernel.shape))]
    for t in range(states.shape[1] - 1, 0, -1):  # one more step back: @ diag(1 - h_t**2) U^T
        products.append(products[-1] @ ((1.0 - states[:, t] ** 2)[:, :, None] * kernel.T))
    return products, kernel


def _same(measured, expected):
    return measured.shape == expected.shape and np.allclose(measured, expected, rtol=1e-3, atol=1e-4)


class BatchJacobianThroughTime(Question):
    hints = (
        "Build `model = rnn_baseline()` and `x, _ = adding_problem(32, 20)`; `cell = model.layers[0].cell` takes one "
        "time step: `h, _ = cell(x[:, t], [h])`, starting from `h = tf.zeros((32, cell.units))`. Run steps 0 .. 16 "
        "outside the tape: that gives h_17.",
        "Keep h_17 as `h_start`; inside `with tf.GradientTape() as tape:` call `tape.watch(h_start)` (a tensor, not a "
        "variable) and run steps 17, 18, 19 from it. Then `jacobian = tape.batch_jacobian(h, h_start)`: target first, "
        "source second.",
    )
    solution_text = (
        "model = rnn_baseline()\n"
        "x, _ = adding_problem(32, 20)\n"
        "cell = model.layers[0].cell\n"
        "h = tf.zeros((32, cell.units))\n"
        "for t in range(17):\n"
        "    h, _ = cell(x[:, t], [h])\n"
        "h_start = h\n"
        "with tf.GradientTape() as tape:\n"
        "    tape.watch(h_start)\n"
        "    h = h_start\n"
        "    for t in range(17, 20):\n"
        "        h, _ = cell(x[:, t], [h])\n"
        "jacobian = tape.batch_jacobian(h, h_start)"
    )

    def grade(self, jacobian):
        timesteps, units = baselines.RNN["timesteps"], baselines.RNN["units"]
        shape = (Q5_SEQUENCES, units, units)
        if not (hasattr(jacobian, "shape") and hasattr(jacobian, "dtype")):
            raise Incorrect(
                f"jacobian should be the array or tensor that tape.batch_jacobian returns, of shape {shape}; "
                f"got {type(jacobian).__name__}."
            )
        measured = np.asarray(jacobian, dtype=np.float64)
        if measured.shape == (Q5_SEQUENCES, units, 2):
            raise Incorrect(
                f"shape {measured.shape}: that is the derivative with respect to the inputs x_t (2 features). Take it "
                "with respect to the hidden state h_17 that the last three steps start from."
            )
        if measured.shape != shape:
            raise Incorrect(
                f"jacobian should have shape {shape}: one {units} x {units} matrix per sequence (batch_jacobian, not "
                f"jacobian), got shape {measured.shape}."
            )
        if not np.all(np.isfinite(measured)):
            raise Incorrect("jacobian holds NaN or infinite values: three steps of the baseline stay finite.")
        products, kernel = _backward_products(current_course_seed())
        expected = products[Q5_STEPS]
        if _same(measured, expected):
            norms = np.linalg.svd(measured, compute_uv=False)[:, 0]
            return (
                f"dh_{timesteps}/dh_{timesteps - Q5_STEPS} has a mean spectral norm of {approx(norms.mean())} (the "
                f"same as hidden_state_jacobian_norms(model, x)[{Q5_STEPS}]), under Pascanu's bound "
                f"{baselines.RNN['recurrent_scale']}**{Q5_STEPS} = {baselines.RNN['recurrent_scale'] ** Q5_STEPS:g}: "
                "the tape multiplied the three Jacobians diag(1 - h_t**2) U^T for you."
            )
        if _same(np.swapaxes(measured, 1, 2), expected):
            raise Incorrect(
                "each matrix is transposed: batch_jacobian(target, source)[n, i, j] is d target_i / d source_j, so "
                "the target (h_20) comes first and the source (h_17) second."
            )
        for distance, product in enumerate(products):
            if distance != Q5_STEPS and _same(measured, product):
                raise Incorrect(
                    f"that is dh_{timesteps}/dh_{timesteps - distance}, {distance} step{'s' * (distance != 1)} back: start the tape at "
                    f"h_{timesteps - Q5_STEPS} and run the last {Q5_STEPS} steps inside it."
                )
        if _same(measured, np.broadcast_to(np.linalg.matrix_power(kernel.T, Q5_STEPS), measured.shape)):
            raise Incorrect(
                f"that is (U^T)**{Q5_STEPS}, the same for every sequence: the tanh' factors diag(1 - h_t**2) are "
                "missing. Let the tape differentiate the cell itself."
            )
        raise Incorrect(
            f"that is not dh_{timesteps}/dh_{timesteps - Q5_STEPS} of rnn_baseline() on adding_problem("
            f"{Q5_SEQUENCES}, {timesteps}) under this COURSE_SEED: build both afresh, run steps 0 .. "
            f"{timesteps - Q5_STEPS - 1} outside the tape and steps {timesteps - Q5_STEPS} .. {timesteps - 1} inside it."
        )


q1 = MultipleChoice(  # can s_max = 0.9 explode? (the options are in the exercise notebook)
    "b",
    correct="s_max < 1 is sufficient for vanishing: the long-range terms shrink at least as fast as 0.9**(T - k).",
    wrong={
        "a": "a longer sequence multiplies in more factors, each of norm at most 0.9: that makes the term smaller.",
        "c": "U is 0.9 times an orthogonal matrix, so it shrinks every vector by 0.9; and tanh' <= 1 only shrinks more.",
        "d": "saturation makes tanh'(h) smaller, so it can only shrink the product further.",
    },
    hints=(
        "Each step back in time multiplies by diag(tanh'(h_t)) U^T. How large can the norm of that product be?",
        "|tanh'| <= 1, and every singular value of U is 0.9. Multiply that bound over T - k steps.",
    ),
    solution_text='answer = "b"',
)
q2 = NumericAnswer(  # the largest possible ||dh_T/dh_k|| for s_max = Q2_RADIUS at T - k = Q2_STEPS
    Q2_RADIUS**Q2_STEPS,
    tolerance=0.01,
    name="bound",
    floor=(1.0, f"with s_max = {Q2_RADIUS} > 1 the bound grows with T - k, so it is above 1."),
    otherwise=f"that is not the bound: it is the product of {Q2_STEPS} per-step bounds.",
    correct=(
        f"{Q2_RADIUS**Q2_STEPS:.2g}. The lesson measured far less at radius {Q2_RADIUS} because tanh' < 1: the bound "
        "says when an explosion is possible, not how fast it is."
    ),
    traps={
        Q2_RADIUS * Q2_STEPS: f"{Q2_RADIUS * Q2_STEPS:g} adds up the {Q2_STEPS} steps; backpropagation through time "
        "multiplies one Jacobian per step.",
    },
    hints=(
        "One step back multiplies by diag(tanh'(h_t)) U^T, whose norm is at most max|tanh'| * s_max = s_max.",
        f"Over T - k = {Q2_STEPS} steps, multiply {Q2_STEPS} such bounds.",
    ),
    solution_text=f"# about 3.3e3\nbound = {Q2_RADIUS}**{Q2_STEPS}",
)
q3 = MeasureGrowthThroughTime()
q4 = ShortestExplodingSequence()
q5 = BatchJacobianThroughTime()
