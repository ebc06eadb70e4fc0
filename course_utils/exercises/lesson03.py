"""Lesson 03's exercises: gradient clipping.

* ``q1``: predict which clipping option keeps the update's direction (multiple choice).
* ``q2``: pick a clipping threshold from logged gradient norms, and the share of steps it clips.
* ``q3``: write a training step that clips with ``tf.clip_by_global_norm`` (Pascanu's Algorithm 1).
* ``q4``: the largest possible norm of a gradient clipped with ``clipnorm`` (a number, the one warm-up).
* ``q5``: train the RNN baseline with ``Adam`` without and with ``clipnorm``; the check verifies both
  optimizers' state (Keras clips before Adam's moment estimates) and recomputes the first raw gradient.

    >>> q1.check(" b")
    Correct: global_clipnorm multiplies every variable by the same factor 1/5.1: same direction, norm 1.
    >>> q1.check("E")
    Incorrect: answer should be one of 'A', 'B', 'C', 'D', got 'E'.
    >>> q4.check(5)
    Incorrect: norms do not add up like that: the global norm is a square root of a sum of squares.
    >>> q4.check(2.2)  # lesson 03 prints sqrt(5) as 2.2
    Correct: sqrt(5) ~ 2.24: with clipnorm, the bound on the whole update grows with the number of variables.
    >>> q5.check("adam", None, "clipped", None)
    Incorrect: adam should be a keras.optimizers.Adam, got str.
"""

import functools
import math

import keras
import numpy as np

from course_utils import baselines
from course_utils._quiet_tf import tf
from course_utils.approx import approx
from course_utils.checks import Incorrect, MultipleChoice, NumericAnswer, Question, expect_number
from course_utils.clipping import cosine, global_norm
from course_utils.gradients import GradientLog, train_with_step
from course_utils.models import simple_rnn
from course_utils.seeding import current_course_seed


class ThresholdFromLog(Question):
    """A threshold inside Pascanu's 0.5-10x the average logged norm, and the share of logged steps above it."""

    hints = (
        "Pascanu et al. suggest a threshold between 0.5 and 10 times the average raw gradient norm of a run that trains.",
        "np.mean(probe_log.grad_norms) is that average; probe_log.fraction_above(threshold) is the share of steps above it.",
    )
    solution_text = (
        "average = float(np.mean(probe_log.grad_norms))\n"
        "# it clips the larger steps and lets the ordinary ones through\n"
        "threshold = average  # the typical norm: the low end of Pascanu's range\n"
        "share_clipped = probe_log.fraction_above(threshold)"
    )

    def grade(self, threshold, share_clipped, log):
        if not isinstance(log, GradientLog):
            raise Incorrect(f"the third argument should be the GradientLog of the probe run, got {type(log).__name__}.")
        norms = np.asarray([g for g in log.grad_norms if math.isfinite(g)])
        if norms.size < 10:
            raise Incorrect(
                "that log holds fewer than 10 finite gradient norms: log a longer run that does not diverge."
            )
        threshold = expect_number(threshold, "threshold")
        share_clipped = expect_number(share_clipped, "share_clipped")
        if threshold <= 0:
            raise Incorrect("a clipping threshold is a norm: it must be positive.")
        if not 0.0 <= share_clipped <= 1.0:
            raise Incorrect(f"share_clipped is a share of steps, between 0 and 1; got {share_clipped:g}.")
        ratio = threshold / norms.mean()
        if not 0.5 <= ratio <= 10.0:
            raise Incorrect(f"your threshold is {ratio:.2g} times the average logged norm: outside Pascanu's 0.5-10x.")
        if abs(share_clipped - log.fraction_above(threshold)) > 1e-6:
            raise Incorrect("share_clipped is not the share of logged steps whose raw norm is above your threshold.")
        if share_clipped == 1.0:
            raise Incorrect(
                "this threshold clips every logged step: it would act as a learning rate. Aim a bit higher."
            )
        return (
            "inside Pascanu's range, and the share is right. Keep logging: if that share creeps up during training, "
            "the run is drifting into a steep region."
        )


def _clipping_problem(seed=7):
    """A small RNN and a batch of adding-problem-like data whose gradient has unequal variable norms."""
    model = simple_rnn(units=4, timesteps=5, recurrent_scale=2.0, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(16, 5, 2)).astype(np.float32)
    y = rng.uniform(0.0, 2.0, size=(16, 1)).astype(np.float32)
    return model, x, y


class ClippedTrainStep(Question):
    """``clipped_train_step(model, optimizer, loss_fn, x, y, clip_norm) -> raw global norm``, clipping globally."""

    hints = (
        "Inside: a tf.GradientTape for the loss, tape.gradient, then clip, then optimizer.apply(clipped, variables).",
        "clipped, raw_norm = tf.clip_by_global_norm(grads, clip_norm) does the clipping and gives you the norm to return.",
    )
    solution_text = (
        "def clipped_train_step(model, optimizer, loss_fn, x, y, clip_norm):\n"
        "    with tf.GradientTape() as tape:\n"
        "        loss = loss_fn(y, model(x, training=True))\n"
        "    grads = tape.gradient(loss, model.trainable_variables)\n"
        "    clipped, raw_norm = tf.clip_by_global_norm(grads, clip_norm)\n"
        "    optimizer.apply(clipped, model.trainable_variables)\n"
        "    return raw_norm"
    )

    def grade(self, step):
        if not callable(step):
            raise Incorrect(f"clipped_train_step should be a function, got {type(step).__name__}.")
        for clip_norm in (0.01, 1e3):  # the first always clips, the second never does
            self._check_one_step(step, clip_norm)
        return "that is Pascanu's Algorithm 1: a step of length at most clip_norm along the steepest-descent direction."

    @staticmethod
    def _check_one_step(step, clip_norm):
        model, x, y = _clipping_problem()
        loss_fn = keras.losses.MeanSquaredError()
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        raw = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
        raw_norm = global_norm(raw)
        before = [v.numpy() for v in model.trainable_variables]
        try:
            returned = step(model, keras.optimizers.SGD(learning_rate=1.0), loss_fn, x, y, clip_norm)
        except Exception as error:
            raise Incorrect(f"calling clipped_train_step raised {type(error).__name__}: {error}") from None
        update = [b - v.numpy() for b, v in zip(before, model.trainable_variables)]  # = 1.0 * clipped gradient
        if not all(np.all(np.isfinite(u)) for u in update) or global_norm(update) == 0.0:
            raise Incorrect("the weights did not change: apply the clipped gradients with optimizer.apply(...).")
        if returned is None:
            raise Incorrect("clipped_train_step returns nothing: return the raw global norm of the gradient.")
        returned = expect_number(returned, "the returned norm")
        if not math.isclose(returned, raw_norm, rel_tol=1e-3):
            if math.isclose(returned, min(raw_norm, clip_norm), rel_tol=1e-3):
                raise Incorrect("you return the norm after clipping: return the raw norm, from before clipping.")
            raise Incorrect("the returned number is not the global norm of the raw gradient.")
        if cosine(update, raw) < 0.9999:
            raise Incorrect(
                "the update does not point along the raw gradient: global clipping only rescales it "
                "(clipping each variable or each value turns it)."
            )
        update_norm = global_norm(update)
        if not math.isclose(update_norm, min(raw_norm, clip_norm), rel_tol=1e-3):
            if update_norm > clip_norm * (1 + 1e-3):
                raise Incorrect("the update is longer than clip_norm: the gradient was not clipped.")
            if raw_norm < clip_norm and math.isclose(update_norm, clip_norm, rel_tol=1e-3):
                raise Incorrect("a gradient already shorter than clip_norm must pass unchanged; yours was stretched.")
            raise Incorrect(
                "the update's length is wrong: apply the clipped gradient once, with the optimizer passed in, and "
                "leave gradients below clip_norm unchanged."
            )


@functools.cache
def _first_raw_norm(course_seed_value):
    """The raw global gradient norm of a fresh ``rnn_baseline()`` on the first minibatch ``train_with_gradient_log``
    draws (batch 64, seed 0): what step 0 of any run of the exercise must log. Cached per course seed."""
    (x, y), _ = baselines.adding_data()
    batches = []

    def first_batch_only(x_batch, y_batch):  # records the batch, then stops the loop (a NaN loss ends it)
        batches.append((x_batch, y_batch))
        return float("nan"), float("nan")

    train_with_step(first_batch_only, x, y, epochs=1, batch_size=baselines.RNN_TRAINING["batch_size"])
    x_batch, y_batch = batches[0]
    model = baselines.rnn_baseline()
    with tf.GradientTape() as tape:
        loss = baselines.mse_loss()(y_batch, model(x_batch, training=True))
    return float(tf.linalg.global_norm(tape.gradient(loss, model.trainable_variables)))


def _remembered_norms(optimizer):
    """Per variable, the gradient norm that Adam's second moment v holds: sqrt(sum(v) / (1 - beta_2**t)).

    After t steps, sum(v) over a variable's weights is (1 - beta_2) * sum_k beta_2**(t-k) * ||g_k||**2, so this is a
    weighted root-mean-square of the norms of the gradients Adam was given (after any clipping).
    """
    steps = int(optimizer.iterations.numpy())
    velocities = [v for v in optimizer.variables if "velocity" in v.path]
    return [float(np.sqrt(np.sum(v.numpy(), dtype=np.float64) / (1 - optimizer.beta_2**steps))) for v in velocities]


class AdamWithAndWithoutClipping(Question):
    """Two runs of the RNN baseline, ``Adam(1e-3)`` and ``Adam(1e-3, clipnorm=1.0)``: the optimizers and their logs."""

    hints = (
        "Build keras.optimizers.Adam(learning_rate=1e-3) and keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0); "
        "train a fresh baselines.rnn_baseline() with each, one epoch each, with train_with_gradient_log (batch_size=64, "
        "loss_fn=mse).",
        "One optimizer and one fresh model per run: an optimizer keeps its state, and a model trained once does not "
        "start from the baseline's weights any more.",
    )
    solution_text = (
        "adam = keras.optimizers.Adam(learning_rate=1e-3)\n"
        "adam_log = train_with_gradient_log(\n"
        "    baselines.rnn_baseline(), x_train, y_train, adam, epochs=1, batch_size=64, loss_fn=mse\n"
        ")\n"
        "clipped_adam = keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)\n"
        "clipped_adam_log = train_with_gradient_log(\n"
        "    baselines.rnn_baseline(), x_train, y_train, clipped_adam, epochs=1, batch_size=64, loss_fn=mse\n"
        ")"
    )

    def grade(self, adam, adam_log, clipped_adam, clipped_adam_log):
        runs = (
            ("adam", adam, "adam_log", adam_log),
            ("clipped_adam", clipped_adam, "clipped_adam_log", clipped_adam_log),
        )
        for name, optimizer, log_name, log in runs:
            if not isinstance(optimizer, keras.optimizers.Adam):
                raise Incorrect(f"{name} should be a keras.optimizers.Adam, got {type(optimizer).__name__}.")
            if not isinstance(log, GradientLog):
                raise Incorrect(
                    f"{log_name} should be the GradientLog that train_with_gradient_log returned, got {type(log).__name__}."
                )
        if any(option is not None for option in (adam.clipnorm, adam.global_clipnorm, adam.clipvalue)):
            raise Incorrect(
                "adam should train without clipping: build it with no clipnorm, global_clipnorm or clipvalue."
            )
        if clipped_adam.global_clipnorm is not None or clipped_adam.clipvalue is not None:
            raise Incorrect(
                "clipped_adam clips with global_clipnorm or clipvalue: this exercise asks for clipnorm (per variable)."
            )
        if clipped_adam.clipnorm is None:
            raise Incorrect("clipped_adam does not clip: build it with clipnorm=1.0.")
        if not math.isclose(clipped_adam.clipnorm, 1.0):
            raise Incorrect(f"clipped_adam clips at clipnorm={clipped_adam.clipnorm:g}: use the recipe's 1.0.")
        shapes = [tuple(v.shape) for v in baselines.rnn_baseline().trainable_variables]
        for name, optimizer, log_name, log in runs:
            steps = int(optimizer.iterations.numpy())
            if steps == 0:
                raise Incorrect(f"{name} never took a step: pass it to train_with_gradient_log to train a model.")
            if len(log.losses) != steps:
                raise Incorrect(
                    f"{log_name} logs {len(log.losses)} steps but {name} took {steps}: use a fresh optimizer per run "
                    "and pass the log of the run that used it."
                )
            velocity_shapes = [tuple(v.shape) for v in optimizer.variables if "velocity" in v.path]
            if velocity_shapes != shapes:
                raise Incorrect(f"{name} did not train the RNN baseline: train a fresh baselines.rnn_baseline().")
            if log.diverged:
                raise Incorrect(f"{log_name} ends in NaN/Inf: train with learning_rate=1e-3, as in the lesson.")
            if len(log.losses) < 20:
                raise Incorrect(f"{log_name} has only {len(log.losses)} steps: train for one epoch (125 steps).")
        expected = _first_raw_norm(current_course_seed())
        for _, _, log_name, log in runs:
            if not math.isclose(log.grad_norms[0], expected, rel_tol=1e-3):
                raise Incorrect(
                    f"{log_name} did not start where the baseline starts (its first raw gradient norm is "
                    f"{approx(log.grad_norms[0])}, a fresh rnn_baseline() on the first batch has {approx(expected)}): "
                    "train a fresh baselines.rnn_baseline() with batch_size=64 and the default seed."
                )
        clipped_memory, raw_memory = _remembered_norms(clipped_adam), _remembered_norms(adam)
        if max(clipped_memory) > 1.0 + 1e-3:
            raise Incorrect(
                "clipped_adam's second moment holds gradients longer than 1: was it really built with clipnorm?"
            )
        if max(raw_memory) <= 1.0:
            raise Incorrect("adam's second moment never saw a gradient above norm 1: was that run clipped too?")
        return (
            f"both runs start from the same raw gradient (global norm {approx(expected)}) and neither reached NaN. "
            f"Adam's v remembers gradient norms up to {approx(max(raw_memory))} per variable without clipping, at most "
            f"{approx(max(clipped_memory))} with clipnorm=1.0: Keras clips before Adam's moment estimates."
        )


q1 = (
    MultipleChoice(  # which option keeps the direction of the whole update, for a = [3, 4] and b = [0.6, 0.8] at c = 1?
        "B",
        correct="global_clipnorm multiplies every variable by the same factor 1/5.1: same direction, norm 1.",
        wrong={
            "A": "clipnorm scales each variable on its own: what does it do to a, and to b? Compare the two factors.",
            "C": "clipvalue clips each number: is the clipped a still a multiple of [3, 4]?",
            "D": "at least one of the three turns this gradient: clip it by hand with each rule.",
        },
        hints=(
            "Clip a = [3, 4] (norm 5) and b = [0.6, 0.8] (norm 1) by hand with each rule, at c = 1.",
            "An update keeps its direction only if *every* number is multiplied by the same factor.",
        ),
        solution_text=(
            "# global_clipnorm: both variables are scaled by 1/||g|| = 1/5.1.\n"
            "# clipnorm scales a by 1/5 but leaves b alone (re-weighting); clipvalue turns a into [1, 1].\n"
            'answer = "B"'
        ),
    )
)
q2 = ThresholdFromLog()
q3 = ClippedTrainStep()
q4 = NumericAnswer(  # the largest global norm of the RNN baseline's gradient (5 variables) after clipnorm=1.0
    math.sqrt(5.0),
    tolerance=0.025,  # accepts 2.2, as lesson 03 prints it
    name="largest_norm",
    otherwise="that is not the largest norm five variables can reach when each is capped at 1.",
    correct="sqrt(5) ~ 2.24: with clipnorm, the bound on the whole update grows with the number of variables.",
    traps={
        1.0: "1 is global_clipnorm's bound; clipnorm caps each variable separately.",
        5.0: "norms do not add up like that: the global norm is a square root of a sum of squares.",
    },
    hints=(
        "clipnorm=1.0 caps each of the 5 variables' gradients at norm 1, separately.",
        "The global norm is the square root of the sum of the squared variable norms.",
    ),
    solution_text=(
        "# sqrt(1 + 1 + 1 + 1 + 1)\nlargest_norm = math.sqrt(5)  # each of the 5 variables capped at norm 1"
    ),
)
q5 = AdamWithAndWithoutClipping()
