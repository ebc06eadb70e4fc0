"""Lesson 08's exercises: a pre-norm residual block, gradient flow through an LSTM and a SimpleRNN, the forget gate,
LayerNorm in a recurrence, the IRNN and clipping, and a 100-layer residual network.

    >>> q4.check("c")
    Incorrect: the lesson trained the LayerNorm RNN with plain SGD(0.1): it still reached NaN in the first epoch.
"""

import functools
import math

import keras
import numpy as np

from course_utils.approx import approx
from course_utils.architectures import recurrent_cell, recurrent_model, state_jacobian_norms
from course_utils.checks import Incorrect, MultipleChoice, Question, expect_number
from course_utils.data import adding_problem, load_digits
from course_utils.diagnostics import growth_rate
from course_utils.gradients import layer_gradient_norms

BLOCK_DEPTH, BLOCK_WIDTH, SIGMA_W = 30, 64, 4.0  # q1: the baseline's depth, width and weight scale
FLAT_ENOUGH = 100.0  # q1: first / last hidden-kernel gradient of a pre-norm residual stack stays below this
T_PROBE = 40  # q2, q3: sequence length of the gradient-through-time measurement
FORGET_BIAS = 3.0  # q3: the opened forget gate's bias
LEARNED_ACCURACY = 0.5  # q6: well above chance (0.10)


def stack_blocks(block, depth=BLOCK_DEPTH, width=BLOCK_WIDTH):
    """A digits classifier: ``depth`` applications of ``block(h, i)`` between an input of ``width`` and a Dense(10) output."""
    inputs = keras.Input(shape=(width,), name="pixels")
    h = inputs
    for i in range(depth):
        h = block(h, i)
        if not isinstance(h, keras.KerasTensor):
            raise Incorrect(
                f"block(h, {i}) should return the Keras tensor of the block's output, got {type(h).__name__}."
            )
        if tuple(h.shape) != (None, width):
            raise Incorrect(
                f"block(h, {i}) should return a tensor of the same shape as h, (None, {width}); got {tuple(h.shape)}."
            )
    outputs = keras.layers.Dense(10, name="output")(h)
    return keras.Model(inputs, outputs)


class ResidualBlock(Question):
    hints = (
        "Four layers in the functional API: `keras.layers.LayerNormalization()(h)`, then `Dense(64, ...)`, then "
        '`Activation("tanh")`, and finally `keras.layers.Add()([h, branch])`.',
        "Initialise the Dense kernel as the baseline does: "
        "`keras.initializers.RandomNormal(stddev=4.0 / math.sqrt(64), seed=course_seed(i))`.",
    )
    solution_text = (
        "def pre_norm_block(h, i):\n"
        "    branch = keras.layers.LayerNormalization()(h)\n"
        "    branch = keras.layers.Dense(\n"
        "        64, kernel_initializer=keras.initializers.RandomNormal(stddev=4.0 / math.sqrt(64), seed=course_seed(i)))(branch)\n"
        '    branch = keras.layers.Activation("tanh")(branch)\n'
        "    return keras.layers.Add()([h, branch])"
    )

    def grade(self, pre_norm_block):
        if not callable(pre_norm_block):
            raise Incorrect(
                f"pre_norm_block should be a function (h, i) -> tensor, got {type(pre_norm_block).__name__}."
            )
        model = stack_blocks(pre_norm_block)
        kinds = [type(layer).__name__ for layer in model.layers]
        if kinds.count("Add") < BLOCK_DEPTH:
            raise Incorrect("there is no skip connection: each block should end with keras.layers.Add()([h, branch]).")
        if kinds.count("LayerNormalization") < BLOCK_DEPTH:
            raise Incorrect(
                "the block has a skip but no LayerNormalization: normalise h before the Dense layer (pre-norm)."
            )
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense) and layer.name != "output"]
        scale = float(np.mean([np.std(layer.kernel.numpy()) * math.sqrt(BLOCK_WIDTH) for layer in dense]))
        if abs(scale / SIGMA_W - 1) > 0.15:
            raise Incorrect(
                f"the Dense kernels are drawn at sigma_w {approx(scale)}; use the baseline's sigma_w = {SIGMA_W:g} "
                "(RandomNormal with stddev 4 / sqrt(64))."
            )
        (x, y), _ = load_digits()
        norms = layer_gradient_norms(model, x, y)[:-1]
        spread = norms[0] / norms[-1]
        if not spread < FLAT_ENOUGH:
            raise Incorrect(
                f"the gradient still grows {approx(spread)}-fold from the last block to the first: "
                "is the LayerNormalization on the branch (not on the sum)?"
            )
        return (
            f"a depth-{BLOCK_DEPTH} stack of your blocks at sigma_w = {SIGMA_W:g}: gradient first / last hidden layer "
            f"{approx(spread)}, against about 1e5 without skips."
        )


@functools.cache
def _gradient_through_time(cell, forget_bias=None):
    """``state_jacobian_norms`` of a fresh ``recurrent_model(cell, timesteps=T_PROBE)`` on ``adding_problem(32, T_PROBE)``."""
    x, _ = adding_problem(32, T_PROBE)
    model = recurrent_model(cell, timesteps=T_PROBE)
    if forget_bias is not None:
        set_forget_bias(model, forget_bias)
    return state_jacobian_norms(model, x)


def set_forget_bias(model, value):
    """Set the forget-gate part of an LSTM's bias (Keras' gate order: input, forget, cell, output) to ``value``."""
    cell = recurrent_cell(model)
    bias = cell.bias.numpy()
    bias[cell.units : 2 * cell.units] = value
    cell.bias.assign(bias)


def _close(value, expected, tolerance=0.01):
    return abs(value / expected - 1) < tolerance


class LstmVersusSimpleRnn(Question):
    hints = (
        f'x, _ = adding_problem(32, {T_PROBE}); build `recurrent_model("lstm", timesteps={T_PROBE})` and '
        f'`recurrent_model("simple", timesteps={T_PROBE})`, and call `state_jacobian_norms(model, x)` on each.',
        'The LSTM\'s cell-state path is `norms["c"]`, the SimpleRNN\'s only path `norms["h"]`; take the last entry '
        f"(T - k = {T_PROBE - 1}).",
    )
    solution_text = (
        f"x, _ = adding_problem(32, {T_PROBE})\n"
        f'lstm_cell = state_jacobian_norms(recurrent_model("lstm", timesteps={T_PROBE}), x)["c"][-1]\n'
        f'simple = state_jacobian_norms(recurrent_model("simple", timesteps={T_PROBE}), x)["h"][-1]'
    )

    def grade(self, lstm_cell, simple):
        lstm_cell, simple = expect_number(lstm_cell, "lstm_cell"), expect_number(simple, "simple")
        lstm = _gradient_through_time("lstm")
        expected_cell, expected_hidden = lstm["c"][-1], lstm["h"][-1]
        expected_simple = _gradient_through_time("simple")["h"][-1]
        if _close(lstm_cell, expected_simple) and _close(simple, expected_cell):
            raise Incorrect("the two numbers are swapped: lstm_cell first, then simple.")
        if _close(lstm_cell, expected_hidden):
            raise Incorrect(
                'lstm_cell is the LSTM\'s hidden-state path, norms["h"]; the question asks for the cell state.'
            )
        if not _close(lstm_cell, expected_cell):
            raise Incorrect(
                f"lstm_cell is not ||dc_T/dc_k|| at T - k = {T_PROBE - 1} of a fresh LSTM on adding_problem(32, {T_PROBE})."
            )
        if not _close(simple, expected_simple):
            raise Incorrect(f"simple is not ||dh_T/dh_k|| at T - k = {T_PROBE - 1} of a fresh SimpleRNN (rho = 1).")
        return (
            f"at initialisation the LSTM's cell path keeps {approx(lstm_cell)}, the SimpleRNN's {approx(simple)}: "
            f"{approx(simple / lstm_cell)} times more. The forget gate starts near 0.73; what the gate adds is that "
            "training can open it."
        )


class OpenTheForgetGate(Question):
    hints = (
        f'Build `model = recurrent_model("lstm", timesteps={T_PROBE})` and set its forget bias with '
        f"`set_forget_bias(model, {FORGET_BIAS})` (it writes the second quarter of `cell.bias`).",
        f'Then `growth_rate(state_jacobian_norms(model, x)["c"][1:])` on `x, _ = adding_problem(32, {T_PROBE})`.',
    )
    solution_text = (
        f"x, _ = adding_problem(32, {T_PROBE})\n"
        f'model = recurrent_model("lstm", timesteps={T_PROBE})\n'
        f"set_forget_bias(model, {FORGET_BIAS})\n"
        'rate = growth_rate(state_jacobian_norms(model, x)["c"][1:])'
    )

    def grade(self, rate):
        value = expect_number(rate, "rate")
        default = growth_rate(_gradient_through_time("lstm")["c"][1:])
        opened_norms = _gradient_through_time("lstm", FORGET_BIAS)
        opened = growth_rate(opened_norms["c"][1:])
        if _close(value, default, 0.002):
            raise Incorrect(
                f"{value:.3f} is the rate with Keras' default forget bias of 1; set it to {FORGET_BIAS:g} first."
            )
        if _close(value, growth_rate(opened_norms["h"][1:]), 0.002) and not _close(value, opened, 0.002):
            raise Incorrect('that is the hidden-state path; measure the cell state, norms["c"].')
        if not _close(value, opened, 0.002):
            raise Incorrect(
                f'{value:.3g} is not the per-step factor of the cell path (growth_rate of norms["c"][1:]) '
                f"with forget bias {FORGET_BIAS:g}."
            )
        sigma = 1 / (1 + math.exp(-FORGET_BIAS))
        verdict = (
            "the open gate, plus the paths through h, even makes it grow: gates do not rule out explosion, one "
            "reason clipping stays."
            if value > 1
            else "the forget gate is the knob of the cell path."
        )
        return (
            f"x{approx(value)} per step (default bias: x{approx(default)}); sigma({FORGET_BIAS:g}) = {sigma:.2f}. "
            f"Over {T_PROBE - 1} steps that is {approx(value ** (T_PROBE - 1))} instead of "
            f"{approx(default ** (T_PROBE - 1))}: {verdict}"
        )


q1 = ResidualBlock()
q2 = LstmVersusSimpleRnn()
q3 = OpenTheForgetGate()
q4 = MultipleChoice(  # what did LayerNorm change in the RNN baseline? (the options are in the exercise notebook)
    "b",
    correct="LN is scale-invariant, so the recurrent scale drops out of the rate, as sigma_w did with BN in lesson 06.",
    wrong={
        "a": "the lesson measured a rate above 1 per step with LayerNorm too: the long-range terms still grow at init.",
        "c": "the lesson trained the LayerNorm RNN with plain SGD(0.1): it still reached NaN in the first epoch.",
        "d": "LayerNorm's statistics are over the units of one example at one step: no batch and no per-step bookkeeping.",
    },
    hints=(
        "Look back at section 5: the rates at rho = 1.5 and rho = 3, with and without LayerNorm, and the SGD run.",
        "LN(a z) = LN(z): which of the four statements is about that?",
    ),
    solution_text='answer = "b"',
)

q5 = MultipleChoice(  # after training the IRNN at T = 40 with and without clipping
    "b",
    correct=(
        "the IRNN's gradient starts at exactly 1 per step, but ReLU is unbounded: during training its raw gradient "
        "norm explodes, and only clipping turns the good start into learning."
    ),
    wrong={
        "a": "look at the unclipped run's test MSE against the trivial 1/6, and at its largest raw gradient norm.",
        "c": "the run that learns is the clipped one: compare the two test MSEs again.",
        "d": "one of the two runs ends far below the trivial 1/6: which one?",
    },
    hints=(
        'Build `recurrent_model("simple", timesteps=None, recurrent_init="identity", activation="relu")`, wrap it '
        "in `SequenceTrainer(model, mse)` and call `run` twice on the T = 40 data, with `clipnorm=None` and `clipnorm=1.0`.",
        "Score each run with `evaluate_mse(trainer.model, log, x_test, y_test)` right after it (the trainer keeps the last "
        "run's weights) and compare with the trivial 1/6.",
    ),
    solution_text=(
        'trainer = SequenceTrainer(recurrent_model("simple", timesteps=None, recurrent_init="identity", '
        'activation="relu"), mse)\n'
        "irnn_mse = {}\n"
        "for clipnorm in (None, 1.0):\n"
        "    log = trainer.run(x_train, y_train, epochs=6, batch_size=100, clipnorm=clipnorm)\n"
        "    irnn_mse[clipnorm] = evaluate_mse(trainer.model, log, x_test, y_test)\n"
        '    print(f"clipnorm {clipnorm}: test MSE {approx(irnn_mse[clipnorm])}, largest raw gradient norm "\n'
        '          f"{approx(log.max_grad_norm)}")\n'
        "assert irnn_mse[1.0] < baselines.TRIVIAL_ADDING_MSE / 2 < baselines.TRIVIAL_ADDING_MSE * 0.7 < irnn_mse[None], (\n"
        '    "only the clipped IRNN should learn"\n'
        ")\n"
        'answer = "b"'
    ),
)


class DeepPreNormTrains(Question):
    hints = (
        "`model = residual_mlp(100, pre_norm=True)`, then `train_with_gradient_log(model, x_train, y_train, "
        "keras.optimizers.SGD(0.1), epochs=5, batch_size=64)` on `load_digits()`.",
        "Test accuracy: `np.mean(np.argmax(model(x_test), axis=-1) == y_test)`, a fraction between 0 and 1.",
    )
    solution_text = (
        "(x_train, y_train), (x_test, y_test) = load_digits()\n"
        "model = residual_mlp(100, pre_norm=True)\n"
        "log = train_with_gradient_log(model, x_train, y_train, keras.optimizers.SGD(0.1), epochs=5, batch_size=64)\n"
        "accuracy = float(np.mean(np.argmax(model(x_test), axis=-1) == y_test))\n"
        'print(f"NaN: {log.diverged} | largest raw gradient norm {approx(log.max_grad_norm)} | test accuracy {approx(accuracy)}")\n'
        'assert accuracy > 0.6, "the 100-layer pre-norm residual network should learn"'
    )

    def grade(self, accuracy):
        value = expect_number(accuracy, "accuracy")
        if not 0.0 <= value <= 1.0:
            raise Incorrect(f"accuracy should be a fraction between 0 and 1, got {value:g} (a percentage?).")
        if value < LEARNED_ACCURACY:
            raise Incorrect(
                f"{approx(value)} is close to chance (0.10): did you build residual_mlp(100, pre_norm=True) and "
                "train it for 5 epochs of SGD(0.1)?"
            )
        return (
            f"test accuracy {approx(value)} at depth 100, at the baseline's sigma_w = 4 and learning rate: the plain "
            "network of that depth scales its gradient by more than 1e17 between its last hidden layer and its first."
        )


q6 = DeepPreNormTrains()
