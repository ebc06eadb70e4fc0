"""Argument checks that fail early with a message a learner can act on.

>>> require_positive_int("depth", 0)
Traceback (most recent call last):
...
ValueError: depth must be an int >= 1, got 0
"""

import numbers


def require_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def require_positive_number(name, value, allow_zero=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and (value >= 0 if allow_zero else value > 0) and value == value and value != float("inf")
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def require_choice(name, value, choices):
    if value not in choices:
        allowed = ", ".join(repr(c) for c in sorted(choices))
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def require_same_length(x, y):
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got len(x)={len(x)} and len(y)={len(y)}")
