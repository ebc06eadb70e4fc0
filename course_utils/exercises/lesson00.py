"""Lesson 00's warm-up question: it only shows how checks, hints and solutions work.

>>> q1.check(30)
Correct: 30 hidden tanh layers at sigma_w = 4.0. Between the last one (h_29) and the first (h_0) the gradient takes 29 steps back, each multiplying its norm by sqrt(chi_1) = 1.54 (mean-field theory, lesson 01): 1.54**29 = 2.8e5 from top to bottom.
"""

import math

from course_utils import baselines
from course_utils.approx import significant
from course_utils.checks import Incorrect, Question, expect_number
from course_utils.theory import chi1


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
        depth, scale = baselines.MLP["depth"], baselines.MLP["weight_scale"]
        per_layer = math.sqrt(chi1(scale))  # exact (numerical integration), the same on every machine and seed
        return (
            f"{depth} hidden tanh layers at sigma_w = {scale}. Between the last one (h_{depth - 1}) and the first (h_0) "
            f"the gradient takes {depth - 1} steps back, each multiplying its norm by sqrt(chi_1) = {per_layer:.2f} "
            f"(mean-field theory, lesson 01): {per_layer:.2f}**{depth - 1} = {significant(per_layer ** (depth - 1))} "
            "from top to bottom."
        )


q1 = BaselineDepth()
