import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.checks import Feedback, Incorrect, NumericAnswer, Question, ____, expect_choice, expect_number
from course_utils.exercises import lesson00


class PickB(Question):
    hints = ("first hint", "second hint")
    solution_text = "answer = 'B'"

    def grade(self, answer):
        expect_choice(answer, "answer", ["A", "B", "C"])
        if answer != "B":
            raise Incorrect(f"{answer} is not it.")
        return "B it is."


class Broken(Question):
    def grade(self, answer):
        return answer.numpy()  # what a check that forgot a type test would do


def test_feedback_statuses():
    q = PickB()
    assert q.feedback(____) == Feedback("blank", "replace the ____ blank(s) with your answer, then run the cell again.")
    assert q.feedback(["A", ____]).status == "blank"
    assert q.feedback("A") == Feedback("incorrect", "A is not it.")
    assert q.feedback(None) == Feedback("incorrect", "answer should be one of 'A', 'B', 'C', got None.")
    assert q.feedback("B") == Feedback("correct", "B it is.")


def test_check_prints_one_line_and_never_raises(capsys):
    q = Broken()
    q.check(3)
    out = capsys.readouterr().out
    assert out.startswith("Incorrect: your answer could not be checked (AttributeError")
    assert out.count("\n") == 1


def test_hints_are_graded_then_repeat_the_last(capsys):
    q = PickB()
    for _ in range(3):
        q.hint()
    assert capsys.readouterr().out.splitlines() == [
        "Hint 1/2: first hint",
        "Hint 2/2: second hint",
        "Hint 2/2: second hint",
    ]


def test_solution_prints_the_solution(capsys):
    PickB().solution()
    assert capsys.readouterr().out == "Solution:\nanswer = 'B'\n"


@pytest.mark.parametrize("value", [None, "1", True, [1.0]])
def test_expect_number_rejects_non_numbers(value):
    with pytest.raises(Incorrect, match="x should be a number"):
        expect_number(value, "x")


def test_expect_number_accepts_numpy_numbers_and_one_number_tensors():
    assert expect_number(2, "x") == 2.0
    assert expect_number(np.float32(1.5), "x") == 1.5
    assert expect_number(np.array(0.5), "x") == 0.5
    assert expect_number(tf.constant([3.0]), "x") == 3.0
    with pytest.raises(Incorrect, match=r"x should be one number, got an array of shape \(3,\)"):
        expect_number(np.ones(3), "x")
    with pytest.raises(Incorrect, match="x is nan"):
        expect_number(tf.constant(float("nan")), "x")


def test_expect_number_rejects_nan_unless_allowed():
    with pytest.raises(Incorrect, match="x is nan: it should be a finite number"):
        expect_number(float("nan"), "x")
    assert expect_number(float("inf"), "x", finite=False) == float("inf")


def test_lesson00_question_can_fail_and_pass():
    q = lesson00.q1
    assert q.feedback(____).status == "blank"
    assert q.feedback(20) == Feedback("incorrect", "the baseline does not have 20 hidden layers; count again.")
    assert q.feedback(30.5) == Feedback("incorrect", "a number of layers is a whole number.")
    assert q.feedback("thirty").message == "the number of hidden layers should be a number, got str 'thirty'."
    assert q.feedback(30).status == "correct"


def test_feedback_renders_in_its_own_colour_and_escapes_the_message():
    rendered = {status: Feedback(status, "x < 1 & y")._repr_html_() for status in ("correct", "incorrect", "blank")}
    assert len({Feedback.COLOURS[status] for status in rendered}) == 3
    for status, html in rendered.items():
        assert Feedback.COLOURS[status] in html and "x &lt; 1 &amp; y" in html
        assert Feedback.PREFIXES[status] in html  # the word says it too, for readers who do not see the colour
    assert repr(Feedback("correct", "fine.")) == str(Feedback("correct", "fine.")) == "Correct: fine."


def test_multiple_choice_one_case_rule_for_every_lesson():
    from course_utils.checks import MultipleChoice

    q = MultipleChoice("C", correct="right.", wrong={"A": "not A.", "b": "not B."})
    for answer in ("C", "c", " c\n"):
        assert q.feedback(answer).status == "correct"
    assert str(q.feedback("B")) == "Incorrect: not B."
    assert q.feedback(3).status == "incorrect" and q.feedback(____).status == "blank"


def test_numeric_answer_traps_tolerance_and_computed_expectations():
    from course_utils.checks import NumericAnswer

    q = NumericAnswer(lambda: 10.0, tolerance=0.1, correct="ten.", traps={1.0: "off by a factor of ten."}, name="x")
    assert q.feedback(10.5).status == "correct"
    assert str(q.feedback(1.05)) == "Incorrect: off by a factor of ten."
    assert str(q.feedback(12)) == "Incorrect: x is too large." and str(q.feedback(8)) == "Incorrect: x is too small."
    assert "should be a number" in q.feedback("10").message


def test_expect_built_model_says_what_is_missing():
    import keras

    from course_utils.checks import expect_built_model

    built = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert expect_built_model(built) is built
    with pytest.raises(Incorrect, match="should be a Keras model"):
        expect_built_model("model")
    with pytest.raises(Incorrect, match="never built"):
        expect_built_model(keras.Sequential([keras.layers.Dense(1)]))


def test_a_maintainer_can_make_a_failed_check_an_error(monkeypatch, capsys):
    question = NumericAnswer(expected=2.0, tolerance=0.01, correct="two.", name="x")
    monkeypatch.setenv("COURSE_CHECKS_MUST_PASS", "1")
    question.check(2.0)
    question.check(____)
    with pytest.raises(AssertionError, match="a check failed: Incorrect"):
        question.check(3.0)
    monkeypatch.delenv("COURSE_CHECKS_MUST_PASS")
    question.check(3.0)
    assert capsys.readouterr().out.count("Incorrect") == 2
