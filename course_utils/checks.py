"""Exercise checks in the style of Kaggle Learn: ``q1.check(answer)``, ``q1.hint()``, ``q1.solution()``.

A lesson's exercises live in ``course_utils.exercises.lessonNN`` as ``Question``
subclasses. ``check`` never raises: it shows one line that starts with
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
        """Show the feedback on ``answers``: coloured in a notebook, one plain line elsewhere."""
        display(self.feedback(*answers))

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
