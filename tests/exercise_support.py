"""What every tests/test_exercises_lessonNN.py needs: one assertion on a check's feedback."""


def assert_feedback(feedback, status, *fragments):
    """``feedback`` has ``status`` ("correct", "incorrect", "blank") and its message contains every fragment."""
    assert feedback.status == status, feedback
    for fragment in fragments:
        assert fragment in feedback.message, feedback
