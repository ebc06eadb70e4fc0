"""Lesson 00's warm-up question: it only shows how checks, hints and solutions work.

    >>> q1.check(30)
    Correct: 30 hidden tanh layers, each multiplying the gradient by about 1.54 on its way back: about 1.54**30 ~ 4e5 from top to bottom.
"""

from course_utils import baselines
from course_utils.checks import Incorrect, Question, expect_number


class BaselineDepth(Question):
    hints = (
        "The baseline's settings are in `course_utils.baselines.MLP`.",
        "Look at the value stored under the key 'depth'.",
    )
    solution_text = "answer = baselines.MLP['depth']  # 30 hidden layers"

    def grade(self, answer):
        depth = expect_number(answer, "the number of hidden layers")
        if depth != int(depth):
            raise Incorrect("a number of layers is a whole number.")
        if depth != baselines.MLP["depth"]:
            raise Incorrect(f"the baseline does not have {int(depth)} hidden layers; count again.")
        return (
            f"{baselines.MLP['depth']} hidden tanh layers, each multiplying the gradient by about 1.54 on its way "
            f"back: about 1.54**30 ~ 4e5 from top to bottom."
        )


q1 = BaselineDepth()
