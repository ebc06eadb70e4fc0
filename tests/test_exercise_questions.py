"""Every exercise of every lesson has graded hints and a solution to show (one test for all lessons)."""

import importlib
import pkgutil

import pytest

import course_utils.exercises
from course_utils.checks import Question

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
