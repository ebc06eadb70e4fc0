"""Exercise checks in the style of Kaggle Learn: ``q1.check(answer)``, ``q1.hint()``, ``q1.solution()``.

A lesson's exercises live in ``course_utils.exercises.lessonNN``: the common shapes
declared as data (``MultipleChoice``, ``NumericAnswer``), the rest as ``Question``
subclasses with their own ``grade``. ``check`` never raises: it shows one line that starts with
``Correct:``, ``Incorrect:`` or ``Not attempted yet:``, in green, red or blue in
JupyterLab (an HTML form, as Kaggle Learn shows it) and as that plain line
everywhere else (the text that nbval compares).

    >>> class Double(Question):
    ...     hints = ("Multiply by two.",)
    ...     solution_text = "answer = 2 * 21"
    ...     def grade(self, answer):
    ...         expect_number(answer, "answer")
    ...         if answer != 42:
    ...             raise Incorrect("that is not twice 21.")
    ...         return "42 it is."
    >>> q = Double()
    >>> q.check(____)
    Not attempted yet: replace the ____ blank(s) with your answer, then run the cell again.
    >>> q.check("42")
    Incorrect: answer should be a number, got str '42'.
    >>> q.check(42)
    Correct: 42 it is.
"""

import html
import math
import numbers
import os
from dataclasses import dataclass

import numpy as np
from IPython.display import display


class _Blank:
    """The placeholder a learner replaces: ``answer = ____``."""

    def __repr__(self):
        return "____"


____ = _Blank()


class Incorrect(Exception):
    """Raised by ``Question.grade`` with a message saying what is wrong (not what is right)."""


@dataclass(frozen=True, repr=False)
class Feedback:
    """What a check says: a ``status`` and a message; prints as one line, renders in colour in JupyterLab.

    >>> Feedback("incorrect", "x should be a number.")
    Incorrect: x should be a number.
    """

    status: str  # "correct", "incorrect" or "blank"
    message: str

    PREFIXES = {"correct": "Correct", "incorrect": "Incorrect", "blank": "Not attempted yet"}
    # Okabe-Ito's colour-blind-safe bluish green, vermilion and blue, the first two darkened to a contrast of
    # at least 4.5:1 on white (WCAG AA); the words still say it without colour.
    COLOURS = {"correct": "#007A58", "incorrect": "#B34700", "blank": "#0072B2"}

    def __str__(self):
        return f"{self.PREFIXES[self.status]}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self):
        colour = self.COLOURS[self.status]
        return (
            f'<div style="border-left: 4px solid {colour}; padding-left: 0.6em">'
            f'<strong style="color: {colour}">{self.PREFIXES[self.status]}:</strong> {html.escape(self.message)}</div>'
        )


def _contains_blank(value):
    if isinstance(value, _Blank):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_blank(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_blank(v) for v in value.values())
    return False


class Question:
    """One exercise. Subclasses set ``hints`` and ``solution_text`` and implement ``grade``.

    ``grade(*answers)`` returns a short insight when the answer is right and raises
    ``Incorrect`` with a specific message when it is not.
    """

    hints = ()
    solution_text = ""

    def __init__(self):
        self._hints_shown = 0

    def grade(self, *answers):
        raise NotImplementedError

    def feedback(self, *answers):
        """Grade ``answers`` into a ``Feedback``, turning any failure into a message."""
        if _contains_blank(answers):
            return Feedback("blank", "replace the ____ blank(s) with your answer, then run the cell again.")
        try:
            return Feedback("correct", self.grade(*answers))
        except Incorrect as wrong:
            return Feedback("incorrect", str(wrong))
        except Exception as error:  # a learner's object that broke our checks: explain, don't trace back
            return Feedback("incorrect", f"your answer could not be checked ({type(error).__name__}: {error}).")

    def check(self, *answers):
        """Show the feedback on ``answers``: coloured in a notebook, one plain line elsewhere.

        A maintainer who sets ``COURSE_CHECKS_MUST_PASS=1`` turns an ``Incorrect`` into an error, so that running
        the solutions under another ``COURSE_SEED`` (where outputs are not compared) still proves every answer passes.
        """
        feedback = self.feedback(*answers)
        display(feedback)
        if feedback.status == "incorrect" and os.environ.get("COURSE_CHECKS_MUST_PASS") == "1":
            raise AssertionError(f"COURSE_CHECKS_MUST_PASS is set and a check failed: {feedback}")

    def hint(self):
        """Show the next hint; each call reveals a little more."""
        if not self.hints:
            print("No hint for this one: re-read the lesson's section on it.")
            return
        index = min(self._hints_shown, len(self.hints) - 1)
        self._hints_shown += 1
        print(f"Hint {index + 1}/{len(self.hints)}: {self.hints[index]}")

    def solution(self):
        print(f"Solution:\n{self.solution_text}")


def expect_number(value, name, finite=True):
    """``value`` as a float if it is one real number (and finite, by default); else raise ``Incorrect``.

    A Python or NumPy number, or a NumPy array or TensorFlow tensor holding exactly one
    number (what ``tf.norm(g)`` returns), counts as one number.

        >>> expect_number(np.array([2.5]), "x")
        2.5
    """
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic):  # array or tensor
        shape = tuple(value.shape)
        if shape not in ((), (1,)):
            raise Incorrect(f"{name} should be one number, got an array of shape {shape}.")
        value = np.asarray(value).reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise Incorrect(f"{name} should be a number, got {type(value).__name__} {value!r}.")
    if finite and not math.isfinite(value):
        raise Incorrect(f"{name} is {value}: it should be a finite number.")
    return float(value)


def expect_choice(value, name, choices):
    """Raise ``Incorrect`` unless ``value`` is one of ``choices`` (e.g. the letters of a multiple choice)."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise Incorrect(f"{name} should be one of {allowed}, got {value!r}.")
    return value


def expect_built_model(model, name="model"):
    """``model`` if it is a built ``keras.Model``; else raise ``Incorrect`` saying which of the two it is not."""
    import keras  # here, not at the top: the checks of lessons without Keras stay light

    if not isinstance(model, keras.Model):
        raise Incorrect(f"{name} should be a Keras model, got {type(model).__name__}.")
    if not model.built:
        raise Incorrect(
            f"{name} was never built: give it an Input layer (the course's builders do) or call it on data."
        )
    return model


class MultipleChoice(Question):
    """A multiple choice declared as data: the right option, and for each wrong one what is wrong with it.

    Options are letters or words; a string answer is matched without regard to case or
    surrounding spaces (one rule for every lesson, ``normalize_choice``), and a malformed
    answer is told the options as they were declared (as the notebook shows them).
    ``name`` is what messages call the answer.

        >>> q = MultipleChoice("B", correct="the global norm keeps the direction.",
        ...                    wrong={"A": "clipnorm scales each variable on its own.", "C": "clipvalue clips each number."})
        >>> q.check(" b ")
        Correct: the global norm keeps the direction.
        >>> q.check("a")
        Incorrect: clipnorm scales each variable on its own.
        >>> q.check("e")
        Incorrect: answer should be one of 'A', 'B', 'C', got 'e'.
    """

    def __init__(self, answer, correct, wrong, hints=(), solution_text="", name="answer"):
        super().__init__()
        self.labels = tuple(sorted({answer, *wrong}, key=str))
        self.answer, self.correct = normalize_choice(answer), correct
        self.wrong = {normalize_choice(option): message for option, message in wrong.items()}
        self.hints, self.solution_text, self.name = tuple(hints), solution_text, name

    def grade(self, answer):
        choice = normalize_choice(answer)
        if choice != self.answer and choice not in self.wrong:
            raise Incorrect(f"{self.name} should be one of {', '.join(map(repr, self.labels))}, got {answer!r}.")
        if choice != self.answer:
            raise Incorrect(self.wrong[choice])
        return self.correct


def normalize_choice(value):
    """The one case rule of multiple choices: a string answer without case or surrounding spaces.

    >>> normalize_choice("  B ")
    'b'
    """
    return value.strip().lower() if isinstance(value, str) else value


class NumericAnswer(Question):
    """A number declared as data: the expected value, a relative tolerance, and known wrong values ("traps").

    ``expected`` may be a function of no arguments, for a value computed when the answer
    is checked. A trap is a value a typical mistake produces, with the message for it;
    traps are tested before the expected value. ``floor=(value, message)`` rejects answers
    at or below ``value`` first (e.g. a count of steps must be positive). Any other wrong
    value is told ``otherwise`` if given, else whether it is too large or too small (which
    lets a learner bisect: give ``otherwise`` where that would give the answer away).

        >>> q = NumericAnswer(2.24, tolerance=0.05, name="the norm", correct="sqrt(5): the clipped norm is at most c per variable.",
        ...                   traps={1.0: "that is the bound for one variable: there are five."})
        >>> q.check(2.2)
        Correct: sqrt(5): the clipped norm is at most c per variable.
        >>> q.check(1)
        Incorrect: that is the bound for one variable: there are five.
        >>> q.check(3)
        Incorrect: the norm is too large.
    """

    def __init__(
        self,
        expected,
        tolerance,
        correct,
        traps=None,
        name="answer",
        hints=(),
        solution_text="",
        floor=None,
        otherwise=None,
    ):
        super().__init__()
        self.expected, self.tolerance, self.correct = expected, tolerance, correct
        self.traps, self.name, self.floor, self.otherwise = dict(traps or {}), name, floor, otherwise
        self.hints, self.solution_text = tuple(hints), solution_text

    def grade(self, answer):
        value = expect_number(answer, self.name)
        if self.floor is not None and value <= self.floor[0]:
            raise Incorrect(self.floor[1])
        for trap, message in self.traps.items():
            if math.isclose(value, trap, rel_tol=self.tolerance):
                raise Incorrect(message)
        expected = self.expected() if callable(self.expected) else self.expected
        if not math.isclose(value, expected, rel_tol=self.tolerance):
            raise Incorrect(self.otherwise or f"{self.name} is too {'large' if value > expected else 'small'}.")
        return self.correct
