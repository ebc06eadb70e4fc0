"""How long one redraw of the explorers takes: ``python -m tools.explorer_benchmark``.

Times the measurement behind each redraw (building the network at initialisation and
measuring its gradient profile) for a few slider settings, after one warm-up call,
and prints the median of 3 runs against the 1-second budget. Drawing the figure adds
about 0.1 s.
"""

import statistics
import time

from course_utils.data import load_digits
from course_utils.explorer import PROBE_SIZE, depth_profile, time_profile

BUDGET_SECONDS = 1.0
REPEATS = 3


def median_seconds(measure):
    measure()  # warm-up: the first call traces TensorFlow functions
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        measure()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    (x, y), _ = load_digits()
    x, y = x[:PROBE_SIZE], y[:PROBE_SIZE]
    settings = {
        "depth explorer: tanh, depth 30, width 64": lambda: depth_profile(x, y, 4.0),
        "depth explorer: relu, depth 100, width 64": lambda: depth_profile(x, y, 1.4, depth=100, activation="relu"),
        "depth explorer: tanh + BN, depth 30, width 256": lambda: depth_profile(x, y, 4.0, width=256, batch_norm=True),
        "time explorer: T = 40": lambda: time_profile(1.5, 40),
        "time explorer: T = 100": lambda: time_profile(1.5, 100),
    }
    print(f"| setting | redraw measurement, median of {REPEATS} (s) |")
    print("|---|---:|")
    for name, measure in settings.items():
        seconds = median_seconds(measure)
        print(f"| {name} | {seconds:.2f}{'' if seconds < BUDGET_SECONDS else ' (over the 1 s budget)'} |", flush=True)


if __name__ == "__main__":
    main()
