"""Every exercise of every lesson has graded hints and a solution to show (one test for all lessons)."""

import importlib
import pkgutil

import pytest

import course_utils.exercises
from course_utils.checks import MultipleChoice, Question, normalize_choice

LESSONS = sorted(info.name for info in pkgutil.iter_modules(course_utils.exercises.__path__))
QUESTIONS = [
    pytest.param(question, id=f"{lesson}-{name}")
    for lesson in LESSONS
    for name, question in vars(importlib.import_module(f"course_utils.exercises.{lesson}")).items()
    if isinstance(question, Question) and name.startswith("q")
]


def test_every_lesson_with_a_solution_notebook_has_questions():
    assert {param.id.split("-")[0] for param in QUESTIONS} == set(LESSONS)


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_question_has_hints_and_a_solution(question, capsys):
    assert question.hints and question.solution_text.strip()
    question.hint()
    question.solution()
    printed = capsys.readouterr().out
    assert printed.startswith("Hint 1/") and "\nSolution:\n" in printed


CHOICES = [param for param in QUESTIONS if isinstance(param.values[0], MultipleChoice)]


@pytest.mark.parametrize("question", CHOICES)
def test_every_multiple_choice_follows_the_one_case_rule(question):
    """Any case, surrounding spaces ignored, right or wrong; anything else is told the options as declared."""
    right = next(label for label in question.labels if normalize_choice(label) == question.answer)
    for answer in (right.upper(), right.lower(), f"  {right}\n"):
        assert question.feedback(answer).status == "correct", answer
    for label in question.labels:
        if normalize_choice(label) != question.answer:
            assert question.feedback(f" {label.swapcase()} ").message == question.wrong[normalize_choice(label)]
    options = ", ".join(map(repr, question.labels))
    for answer in ("zz", "", None, 2):
        feedback = question.feedback(answer)
        assert feedback.status == "incorrect" and f"should be one of {options}, got {answer!r}" in feedback.message


def test_the_table_of_multiple_choices_is_not_empty():
    assert len(CHOICES) >= 5
