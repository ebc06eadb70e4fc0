"""Lesson 09's exercises: a field guide for your own model.

* ``q1``: attach a ``GradientMonitor`` to a model of your own and read off where its gradient is largest.
* ``q2``: find the first batch whose loss is NaN/Inf in a ``model.fit`` run.
* ``q3``: build a learning-rate schedule with warmup (``keras.optimizers.schedules.CosineDecay``).
* ``q4``: predict the loss scale of a dynamic ``LossScaleOptimizer`` after a run of overflows (a number).

    >>> q4.check(4096)
    Correct: 4 skipped steps halve 32768 four times, to 2048; 3 finite steps in a row double it once.
"""

import math

import keras
import numpy as np

from course_utils.approx import approx
from course_utils.checks import Incorrect, NumericAnswer, Question, expect_number
from course_utils.monitor import GradientMonitor


class MonitorYourModel(Question):
    """``(monitor, largest_layer)``: a GradientMonitor that watched a fit, and the layer with the largest first-record norm."""

    hints = (
        "monitor = GradientMonitor(x_probe, y_probe); my_model.fit(..., callbacks=[monitor]); the first record is "
        "monitor.history[0], taken before the first update.",
        "monitor.history[0]['layer_norms'] maps each layer's name to its gradient norm: take the name with the largest value.",
    )
    solution_text = (
        "monitor = GradientMonitor(digits[:256], labels[:256])\n"
        "my_model.fit(digits[:640], labels[:640], batch_size=64, epochs=1, verbose=0, callbacks=[monitor])\n"
        'first = monitor.history[0]["layer_norms"]\n'
        "largest_layer = max(first, key=first.get)"
    )

    def grade(self, monitor, largest_layer):
        if not isinstance(monitor, GradientMonitor):
            raise Incorrect(f"the first answer should be your GradientMonitor, got {type(monitor).__name__}.")
        if not monitor.history:
            raise Incorrect("the monitor has no records: pass it to fit with callbacks=[monitor], then run the cell.")
        if not isinstance(largest_layer, str):
            raise Incorrect(
                f"largest_layer should be a layer's name (a str), got {type(largest_layer).__name__} {largest_layer!r}."
            )
        first = monitor.history[0]
        norms = first["layer_norms"]
        if first["step"] != 0:
            raise Incorrect("the monitor's first record is not step 0: create a new monitor and fit again.")
        if largest_layer not in norms:
            raise Incorrect(f"{largest_layer!r} is not one of the monitored layers ({', '.join(norms)}).")
        finite = {name: value for name, value in norms.items() if math.isfinite(value)}
        if not finite:
            raise Incorrect(
                "every norm of the first record is NaN or Inf: start from a model whose first gradient is finite."
            )
        if largest_layer != max(finite, key=finite.get):
            raise Incorrect(
                f"{largest_layer!r} is not the layer with the largest gradient norm at the first record (step 0); "
                "compare all of monitor.history[0]['layer_norms']."
            )
        names = list(norms)
        side = "input side" if names.index(largest_layer) < len(names) / 2 else "output side"
        return (
            f"{largest_layer} gets the largest gradient at initialisation, on the {side} of your model. "
            "Keep the monitor on: the profile after a few steps says whether the growth stays or saturates away."
        )


class FirstNonFinite(Question):
    """``(first_bad_batch, batch_losses)``: the index of the first non-finite loss in the recorded per-batch losses."""

    hints = (
        "Record logs['loss'] in on_train_batch_end: a keras.callbacks.LambdaCallback does it in one line.",
        "Batches are counted from 0: the answer is the index of the first entry of batch_losses that is NaN or Inf "
        "(np.isfinite helps).",
    )
    solution_text = (
        "batch_losses = []\n"
        'recorder = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batch_losses.append(logs["loss"]))\n'
        "nan_rnn.fit(sequences, targets, batch_size=64, epochs=1, verbose=0, callbacks=[recorder])\n"
        "first_bad_batch = int(np.argmin(np.isfinite(batch_losses)))"
    )

    def grade(self, first_bad_batch, batch_losses):
        if not isinstance(batch_losses, (list, tuple, np.ndarray)) or len(batch_losses) == 0:
            raise Incorrect(
                "batch_losses should be the non-empty list of losses your callback recorded, one per batch."
            )
        losses = [expect_number(loss, "each recorded loss", finite=False) for loss in batch_losses]
        bad = [i for i, loss in enumerate(losses) if not math.isfinite(loss)]
        if not bad:
            raise Incorrect(
                "every recorded loss is finite: this run never reached NaN/Inf (train longer, or record every batch)."
            )
        if isinstance(first_bad_batch, bool) or not isinstance(first_bad_batch, (int, np.integer)):
            raise Incorrect(
                f"first_bad_batch should be a batch index (an int), got {type(first_bad_batch).__name__} {first_bad_batch!r}."
            )
        first_bad_batch = int(first_bad_batch)
        if not 0 <= first_bad_batch < len(losses):
            raise Incorrect(
                f"there are {len(losses)} recorded batches, counted from 0: {first_bad_batch} is not one of them."
            )
        if math.isfinite(losses[first_bad_batch]):
            raise Incorrect(f"the loss recorded at batch {first_bad_batch} is still finite.")
        if first_bad_batch != bad[0]:
            raise Incorrect(f"batch {first_bad_batch} is non-finite, but it is not the first one.")
        return (
            f"batch {approx(first_bad_batch)} is the first non-finite loss. TerminateOnNaN would stop fit there; "
            "tf.debugging.enable_check_numerics() would name the operation that produced it."
        )


class WarmupSchedule(Question):
    """A schedule with lr(0) = 0, a linear rise to 1e-3 at step 100, then a cosine decay to 0 at step 1100."""

    hints = (
        "keras.optimizers.schedules.CosineDecay(initial_learning_rate, decay_steps, warmup_target=..., warmup_steps=...) "
        "warms up linearly from initial_learning_rate to warmup_target, then decays over decay_steps.",
        "Start at 0.0, warm up for 100 steps to 1e-3, and let the decay last the remaining 1000 steps.",
    )
    solution_text = (
        "schedule = keras.optimizers.schedules.CosineDecay(\n"
        "    initial_learning_rate=0.0, decay_steps=1000, warmup_target=1e-3, warmup_steps=100\n"
        ")"
    )
    _expected = {0: 0.0, 50: 5e-4, 100: 1e-3, 600: 5e-4, 1100: 0.0}

    def grade(self, schedule):
        if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            raise Incorrect(
                f"schedule should be a keras.optimizers.schedules.LearningRateSchedule, got {type(schedule).__name__}; "
                "a fixed number has no warmup."
            )
        try:
            rates = {step: float(schedule(step)) for step in self._expected}
        except Exception as error:
            raise Incorrect(f"calling schedule(step) raised {type(error).__name__}: {error}") from None
        if not math.isclose(rates[0], 0.0, abs_tol=1e-9):
            raise Incorrect(f"at step 0 your learning rate is {rates[0]:.3g}: a warmup starts from 0.")
        if not math.isclose(rates[100], 1e-3, rel_tol=1e-3):
            raise Incorrect(
                f"at step 100 your learning rate is {rates[100]:.3g}: the warmup should end at the peak, 1e-3."
            )
        if not math.isclose(rates[50], 5e-4, rel_tol=1e-2):
            raise Incorrect(f"at step 50 your learning rate is {rates[50]:.3g}: the rise to the peak should be linear.")
        if not (math.isclose(rates[600], 5e-4, rel_tol=1e-2) and math.isclose(rates[1100], 0.0, abs_tol=1e-7)):
            raise Incorrect("the warmup is right, but the decay should be a cosine that reaches 0 at step 1100.")
        return (
            "a linear warmup to 1e-3 over 100 steps, then a cosine decay. Pass it as learning_rate= to any optimizer."
        )


q1 = MonitorYourModel()
q2 = FirstNonFinite()
q3 = WarmupSchedule()
q4 = NumericAnswer(  # initial scale 32768, growth every 3 finite steps: the scale after 4 overflowing steps, then 5 finite ones
    4096,
    tolerance=1e-6,
    name="loss_scale",
    floor=(0.0, "a loss scale is positive."),
    otherwise="that is not the scale this sequence of steps leaves: replay it one step at a time.",
    correct="4 skipped steps halve 32768 four times, to 2048; 3 finite steps in a row double it once.",
    traps={
        2048: "the overflows are right, but the finite steps that follow change the scale too.",
        8192: "the scale grows once per dynamic_growth_steps finite steps in a row, not more often.",
        65536: "a finite step does not double the scale by itself; growth waits for a run of finite steps.",  # 32768 * 2**(-4 + 5)
    },
    hints=(
        "Each step whose scaled gradient is Inf/NaN is skipped and halves the scale.",
        "After dynamic_growth_steps finite steps in a row the scale doubles, and the count starts again.",
    ),
    solution_text=(
        "loss_scale = 32768 / 2**4 * 2  # 4 skipped steps halve it to 2048; 3 finite steps in a row double it; 2 more do not\n"
        "# = 4096"
    ),
)
