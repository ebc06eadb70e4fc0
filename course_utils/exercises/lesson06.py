"""Lesson 06's exercises: put BatchNormalization in the right place, measure it, predict it, and fix its moving statistics.

>>> q3.check([-1.342, -0.447, 0.447, 1.342])
Correct: the same output as for [1, 2, 3, 4]: BN(a z) = BN(z) for any a > 0 (as long as the variance dwarfs epsilon).
"""

import math

import keras
import numpy as np

from course_utils.approx import approx
from course_utils.checks import Incorrect, Question, expect_built_model, expect_number

Q1_DEPTH, Q1_WIDTH, Q1_SCALE = 30, 64, 4.0  # the baseline's architecture and weight scale
Q3_BATCH = [1.0, 2.0, 3.0, 4.0]  # one unit, four examples
Q3_SCALE = 100.0
Q4_SCALE = 5.0  # the kernel of question 4 is measured at W and at Q4_SCALE * W
Q4_TOLERANCE = 0.02  # relative: the check measures the same model again, in the same session
Q5_BATCH = np.random.default_rng(5).normal(5.0, 2.0, size=(256, 8)).astype("float32")  # mean 5, std 2
_SCALE_RANGE = (3.5, 4.5)  # sigma_w read back from a 64x64 kernel of a model built at 4


def _layer_kinds(model):
    """'dense', 'bn', 'activation' or the class name, for every layer of ``model``."""
    kinds = {keras.layers.Dense: "dense", keras.layers.BatchNormalization: "bn", keras.layers.Activation: "activation"}
    return [
        next((name for cls, name in kinds.items() if isinstance(layer, cls)), type(layer).__name__)
        for layer in model.layers
    ]


class BatchNormInTheRightPlace(Question):
    """Code: the baseline (30 x Dense(64) at sigma_w = 4, tanh) with BatchNormalization between Dense and tanh."""

    hints = (
        "Each hidden block is three layers: Dense(64) without an activation, BatchNormalization(), Activation('tanh').",
        "Kernels at sigma_w = 4: kernel_initializer=keras.initializers.RandomNormal(stddev=4.0 / math.sqrt(64)). "
        "Finish with Dense(10) for the logits.",
    )
    solution_text = (
        "layers = [keras.Input(shape=(64,))]\n"
        "for i in range(30):\n"
        "    init = keras.initializers.RandomNormal(stddev=4.0 / math.sqrt(64), seed=course_seed(i))  # sigma_w = 4\n"
        "    layers += [\n"
        "        keras.layers.Dense(64, kernel_initializer=init),\n"
        "        keras.layers.BatchNormalization(),\n"
        '        keras.layers.Activation("tanh"),\n'
        "    ]\n"
        "model = keras.Sequential(layers + [keras.layers.Dense(10)])\n"
        "# or: baselines.mlp_baseline(batch_norm=True)"
    )

    def grade(self, model):
        expect_built_model(model)
        kinds = _layer_kinds(model)
        if "bn" not in kinds:
            raise Incorrect("the model has no BatchNormalization layer.")
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        if any(layer.activation.__name__ != "linear" for layer in dense):
            raise Incorrect(
                "a Dense layer applies its own activation (activation=...), so anything after it comes after the "
                "nonlinearity. Leave Dense linear and add the activation as a separate layer."
            )
        if "activation" in kinds and kinds.index("activation") < kinds.index("bn"):
            raise Incorrect("found Activation -> BatchNormalization: BN should come between Dense and the activation.")
        expected = ["dense", "bn", "activation"] * Q1_DEPTH + ["dense"]
        if kinds != expected:
            blocks = kinds.count("bn")
            raise Incorrect(
                f"expected {Q1_DEPTH} blocks Dense -> BatchNormalization -> Activation and a Dense output layer; "
                f"found {len(kinds)} layers with {blocks} BatchNormalization layers."
            )
        activations = {
            layer.activation.__name__ for layer in model.layers if isinstance(layer, keras.layers.Activation)
        }
        if activations != {"tanh"}:
            raise Incorrect(f"the baseline uses tanh; your activations are {sorted(activations)}.")
        if model.input_shape[-1] != 64 or dense[-1].units != 10 or any(layer.units != Q1_WIDTH for layer in dense[:-1]):
            raise Incorrect("the model should read 64 pixels, have hidden layers of width 64 and end with Dense(10).")
        scale = float(np.std(dense[1].kernel.numpy())) * math.sqrt(Q1_WIDTH)
        if not _SCALE_RANGE[0] <= scale <= _SCALE_RANGE[1]:
            raise Incorrect(
                f"the hidden kernels are drawn at sigma_w ~ {scale:.2g}; build them at the baseline's sigma_w = 4 so "
                "the comparison is like for like."
            )
        return "Dense -> BatchNormalization -> tanh, 30 times, at the baseline's exploding weight scale."


class CompareProfiles(Question):
    """Numbers: first / last hidden-layer kernel-gradient norm of the baseline and of the BN model."""

    hints = (
        "`layer_gradient_norms(model, x_train, y_train)` lists the kernel gradient norms, input side first, the output "
        "layer last. The last *hidden* layer is entry -2.",
        "spread = norms[0] / norms[-2], once for `baselines.mlp_baseline()` and once for your model of question 1.",
    )
    solution_text = (
        "norms = layer_gradient_norms(baselines.mlp_baseline(), x_train, y_train)\n"
        "spread_baseline = norms[0] / norms[-2]  # entry -1 is the output layer\n"
        "norms = layer_gradient_norms(model, x_train, y_train)\n"
        "spread_bn = norms[0] / norms[-2]"
    )

    def grade(self, spread_baseline, spread_bn):
        baseline = expect_number(spread_baseline, "spread_baseline")
        with_bn = expect_number(spread_bn, "spread_bn")
        if baseline <= 0 or with_bn <= 0:
            raise Incorrect("a ratio of two gradient norms is a positive number.")
        if baseline < 1 or with_bn < 1:
            raise Incorrect("a ratio below 1 says the gradient shrinks toward the input: did you divide last by first?")
        if not 1e4 <= baseline <= 1e7:
            raise Incorrect(
                f"spread_baseline = {baseline:.3g}, but the baseline's first hidden layer gets ~1e5 times the last one's "
                "gradient. Measure baselines.mlp_baseline() on the training set and use entries 0 and -2."
            )
        if with_bn > 30:
            raise Incorrect(
                f"spread_bn = {with_bn:.3g} is far from flat: is it the model of question 1, with BatchNormalization "
                "in training mode (layer_gradient_norms uses training=True)?"
            )
        return (
            f"from {approx(baseline)} to {approx(with_bn)}: BN removed the weight scale's explosion. The small growth left is "
            "BN's own (lesson section 4)."
        )


class PredictScaledBatchNorm(Question):
    """Numbers: BatchNormalization's training-mode output for ``Q3_SCALE`` times ``Q3_BATCH``."""

    hints = (
        "BN subtracts the batch mean and divides by the batch standard deviation, per unit.",
        "Multiplying every input by 100 multiplies the mean and the standard deviation by 100 too.",
    )
    solution_text = "# the same as for [1, 2, 3, 4]: BN(a z) = BN(z)\noutput = [-1.342, -0.447, 0.447, 1.342]"

    def grade(self, output):
        if isinstance(output, str) or output is None:
            raise Incorrect(f"output should be a list of {len(Q3_BATCH)} numbers, got {type(output).__name__}.")
        values = np.asarray(output, dtype=float).ravel() if np.ndim(output) else np.asarray([output], dtype=float)
        if values.size != len(Q3_BATCH):
            raise Incorrect(f"output should hold {len(Q3_BATCH)} numbers, one per example; got {values.size}.")
        if not np.all(np.isfinite(values)):
            raise Incorrect("output contains NaN or infinite values.")
        expected = _training_mode_batchnorm(np.asarray(Q3_BATCH) * Q3_SCALE)
        if np.max(np.abs(values)) > 10 * np.max(np.abs(expected)):
            raise Incorrect("your output grew with the input; BN divides by the batch's standard deviation.")
        if abs(np.mean(values)) > 0.05:
            raise Incorrect(f"your output has mean {np.mean(values):.3g}; BN subtracts the batch mean first.")
        if not np.allclose(values, expected, atol=0.01):
            raise Incorrect(
                "the mean is right but not the spread: divide by the standard deviation over the 4 examples."
            )
        return "the same output as for [1, 2, 3, 4]: BN(a z) = BN(z) for any a > 0 (as long as the variance dwarfs epsilon)."


class RecalibratedMovingStatistics(Question):
    """Code: a BatchNormalization layer whose inference mode normalises ``Q5_BATCH`` as its training mode does."""

    hints = (
        "In inference mode BN uses moving_mean and moving_variance; right after building they are 0 and 1.",
        "Set layer.momentum = 0.0, call layer(Q5_BATCH, training=True) once, then put the momentum back.",
    )
    solution_text = (
        "bn.momentum = 0.0\n"
        "bn(Q5_BATCH, training=True)  # training mode updates the moving statistics: with momentum 0 they become this batch's\n"
        "bn.momentum = 0.99\n"
        "recalibrated = bn"
    )

    def grade(self, layer):
        if not isinstance(layer, keras.layers.BatchNormalization):
            raise Incorrect(f"pass the BatchNormalization layer itself, got {type(layer).__name__}.")
        if not layer.built:
            raise Incorrect("the layer was never built: call it on Q5_BATCH first.")
        if layer.moving_mean.shape != (Q5_BATCH.shape[1],):
            raise Incorrect(
                f"the layer was built for {layer.moving_mean.shape[0]} units; Q5_BATCH has {Q5_BATCH.shape[1]}."
            )
        inference = np.asarray(layer(Q5_BATCH, training=False))
        target = _training_mode_batchnorm(
            Q5_BATCH, gamma=layer.gamma.numpy(), beta=layer.beta.numpy(), epsilon=layer.epsilon
        )
        if np.allclose(inference, target, atol=0.05):
            return (
                "inference mode now normalises this data like training mode does. Do this after a short training run."
            )
        mean = float(np.mean(layer.moving_mean.numpy()))
        variance = float(np.mean(layer.moving_variance.numpy()))
        raise Incorrect(
            f"in inference mode the layer uses moving mean ~{mean:.2g} and moving variance ~{variance:.2g}, but the data "
            f"has mean ~{np.mean(Q5_BATCH):.1f} and variance ~{np.var(Q5_BATCH):.1f}. With momentum 0.99, one call in "
            "training mode moves them only 1% of the way."
        )


class MeasuredScaledKernelGradient(Question):
    """Code and numbers: ||dL/dW|| of a BN model's first hidden kernel, measured at W and at ``Q4_SCALE`` * W.

    The check measures both again on the model it is given (the whole training set of the
    current ``COURSE_SEED``, the MLP's loss, training mode), so typed-in numbers do not pass.
    """

    hints = (
        "kernel = model.layers[0].kernel; inside `with tf.GradientTape() as tape:` compute "
        "loss = loss_fn(y_train, model(x_train, training=True)); then tf.norm(tape.gradient(loss, kernel)).",
        "Keep start = kernel.numpy(); measure; kernel.assign(5 * start); measure again; kernel.assign(start) to put W "
        "back. BatchNormalization must run in training mode: in inference mode it is not scale-invariant.",
    )
    solution_text = (
        "kernel = model.layers[0].kernel\n"
        "loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
        "\n"
        "\n"
        "def kernel_gradient_norm():\n"
        "    with tf.GradientTape() as tape:\n"
        "        loss = loss_fn(y_train, model(x_train, training=True))\n"
        "    return float(tf.norm(tape.gradient(loss, kernel)))\n"
        "\n"
        "\n"
        "start = kernel.numpy()\n"
        "grad_at_w = kernel_gradient_norm()\n"
        "kernel.assign(5 * start)\n"
        "grad_at_5w = kernel_gradient_norm()\n"
        "kernel.assign(start)  # put W back"
    )

    def grade(self, model, grad_at_w, grad_at_5w):
        expect_built_model(model)
        at_w = expect_number(grad_at_w, "grad_at_w")
        at_5w = expect_number(grad_at_5w, "grad_at_5w")
        if at_w <= 0 or at_5w <= 0:
            raise Incorrect("a gradient norm is a positive number.")
        layers = model.layers
        if (
            len(layers) < 2
            or not isinstance(layers[0], keras.layers.Dense)
            or not isinstance(layers[1], keras.layers.BatchNormalization)
        ):
            raise Incorrect(
                "model.layers[0] should be a Dense layer followed by BatchNormalization: pass your model of question 1."
            )
        measured_w, measured_5w = _scaled_kernel_gradient_norms(model)
        if _close(at_w, Q4_SCALE * measured_w) and _close(at_5w, Q4_SCALE * measured_5w):
            raise Incorrect(
                "the model's kernel is not at the W you measured first: it looks left at 5 W. Put it back "
                "(kernel.assign(start)) after the second measurement, then measure again."
            )
        if _close(at_5w, Q4_SCALE * at_w) or (_close(at_5w, at_w) and not _close(measured_5w, measured_w)):
            raise Incorrect(
                "grad_at_5w was not measured with the kernel at 5 W: multiply the kernel itself "
                "(kernel.assign(5 * start)) and take the gradient again."
            )
        if not (_close(at_w, measured_w) and _close(at_5w, measured_5w)):
            raise Incorrect(
                "these are not the gradient norms the check measures for model.layers[0].kernel: the mean "
                "cross-entropy on logits over the whole training set, the model called with training=True (in "
                "inference mode BN is not scale-invariant), at W and at 5 W."
            )
        ratio = at_5w / at_w
        return (
            f"at 5 W the gradient is x{approx(ratio)} (1/5 = 0.2), so SGD's step relative to the kernel, "
            f"eta ||grad|| / ||W||, is x{approx(ratio / Q4_SCALE)} (1/25 = 0.04): the effective learning rate is "
            "eta / ||W||^2."
        )


def _training_mode_batchnorm(z, gamma=1.0, beta=0.0, epsilon=1e-3):
    """What BatchNormalization(training=True) returns for the batch ``z`` (examples along axis 0)."""
    z = np.asarray(z, dtype=float)
    return gamma * (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + epsilon) + beta


def _close(value, target):
    return math.isclose(value, target, rel_tol=Q4_TOLERANCE)


def _scaled_kernel_gradient_norms(model):
    """||dL/dW|| of ``model.layers[0].kernel`` at W and at ``Q4_SCALE`` * W (W is put back), on the training set."""
    import tensorflow as tf

    from course_utils.data import load_digits
    from course_utils.gradients import default_loss

    (x, y), _ = load_digits()
    kernel, loss_fn = model.layers[0].kernel, default_loss()
    start = kernel.numpy()
    norms = []
    try:
        for scale in (1.0, Q4_SCALE):
            kernel.assign(scale * start)
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            norms.append(float(tf.norm(tape.gradient(loss, kernel))))
    finally:
        kernel.assign(start)
    return norms


q1 = BatchNormInTheRightPlace()
q2 = CompareProfiles()
q3 = PredictScaledBatchNorm()
q4 = MeasuredScaledKernelGradient()
q5 = RecalibratedMovingStatistics()
