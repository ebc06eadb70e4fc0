"""Lesson 07's report on a sweep: the table and the three figures, from ``compare.sweep``'s results.

Every number is measured, so the table prints through ``approx`` and each plot returns a
description of what it drew (with the same numbers) for ``figures.show``'s alt text.

    >>> from course_utils import compare
    >>> problem = compare.mlp_problem(depth=4, epochs=1, train_samples=128)
    >>> results = compare.sweep(problem, seeds=(0,), techniques=["baseline"])
    >>> print(format_table(results).splitlines()[0])
    technique  NaN runs  largest raw gradient norm · test accuracy: median (worst to best)
"""

import numpy as np

from course_utils.approx import approx
from course_utils.compare import CLIP_NORM
from course_utils.notebook_setup import OKABE_ITO


def format_table(results):
    """The sweep's results as a text table: NaN runs, largest raw gradient norm, final score.

    Every number in it is measured, so it prints through ``approx`` (``≈`` and 2
    significant figures): the counts and values change with ``COURSE_SEED`` and the
    machine, and the nbval sanitizer masks them. Only the first two columns are aligned:
    padding after a value whose width changes from run to run would itself change.
    The score is the median over seeds, then the worst and best seed; a technique with a
    run that reached NaN gets no score summary (the score plot shows its finite runs).
    Wall time is left out (it changes from run to run): plot it with ``plot_wall_time``.
    """
    results = list(results.values()) if isinstance(results, dict) else list(results)
    if not results:
        raise ValueError("no results to tabulate")
    score_name = results[0].problem.score_name
    width = max(len("technique"), *(len(r.technique) for r in results))
    header = f"{'technique':<{width}}  NaN runs  largest raw gradient norm · {score_name}: median (worst to best)"
    rows = []
    for r in results:
        if r.n_diverged:
            score = "- (a run reached NaN)"
        else:
            worst, best = (
                (r.scores.min(), r.scores.max()) if r.problem.higher_is_better else (r.scores.max(), r.scores.min())
            )
            score = f"{approx(r.score_median)} ({approx(worst)} to {approx(best)})"
        count = f"{approx(r.n_diverged)}/{len(r.runs)}"
        rows.append(f"{r.technique:<{width}}  {count:<8}  {approx(r.max_grad_norm)} · {score}")
    return "\n".join([header, "-" * len(header), *rows])


def _colours(names):
    """One colour per technique of a plot: black for the baseline, the others in turn from the colour-blind-safe palette."""
    others = [colour for colour in OKABE_ITO if colour != "#000000"]
    colours, index = {}, 0
    for name in names:
        if name == "baseline":
            colours[name] = "#000000"
        else:
            colours[name], index = others[index % len(others)], index + 1
    return colours


def _median_norms(result):
    """The raw gradient norm per step, median over seeds, over the finite steps all runs share."""
    steps = min(len(run.log.grad_norms) - run.log.diverged for run in result.runs)
    return np.median([run.log.grad_norms[:steps] for run in result.runs], axis=0)


def plot_gradient_norms(results, ax):
    """Raw gradient norm per step (median over seeds), one line per technique; x where a run hit NaN.

    Single fixes are solid lines, combinations dashed; the dotted line is ``CLIP_NORM``.
    Returns a one-sentence description of what it drew, for the figure's alt text.
    """
    colours = _colours(results)
    described = []
    for result in results.values():
        colour = colours[result.technique]
        norms = _median_norms(result)
        style = "--" if "+" in result.technique else "-"
        ax.plot(norms, style, color=colour, lw=1.2, label=result.technique)
        for run in result.runs:
            if run.log.diverged:
                last = max(run.log.diverged_at - 1, 0)
                ax.plot(last, run.log.grad_norms[last], "x", color=colour, ms=8, mew=2)
        text = f"{result.technique} from {approx(norms[0])} to {approx(norms[-1])}"
        if max(norms) > max(norms[0], norms[-1]):
            text += f" (largest {approx(max(norms))})"
        if result.n_diverged:
            text += f", then NaN in {result.n_diverged} of {len(result.runs)} runs"
        described.append(text)
    ax.axhline(CLIP_NORM, color="gray", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("raw gradient norm (before clipping)")
    seeds = len(next(iter(results.values())).runs)
    return (
        f"Raw gradient norm per training step, log scale, median over {seeds} seeds, first to last step: "
        + "; ".join(described)
        + "."
    )


def plot_scores(results, ax):
    """Median final score per technique (bar), its range over seeds (whisker) and every seed (dot).

    Returns a one-sentence description of what it drew, for the figure's alt text.
    """
    results = list(results.values())
    problem = results[0].problem
    positions = np.arange(len(results))
    medians = [r.score_median if r.scores.size else 0.0 for r in results]
    low = [r.score_median - r.scores.min() if r.scores.size else 0.0 for r in results]
    high = [r.scores.max() - r.score_median if r.scores.size else 0.0 for r in results]
    ax.barh(positions, medians, xerr=[low, high], color="lightsteelblue", capsize=3)
    for position, result in zip(positions, results):
        ax.plot(result.scores, [position] * result.scores.size, "o", color="navy", ms=4)
        if result.n_diverged:
            ax.text(0, position, f"  {result.n_diverged}/{len(result.runs)} runs NaN", va="center", color="darkred")
    ax.axvline(problem.reference, color="gray", ls=":", label=f"{problem.reference_name} ({problem.reference:.2g})")
    ax.set_yticks(positions, [r.technique for r in results])
    ax.invert_yaxis()
    ax.set_xlabel(f"{problem.score_name} ({'higher' if problem.higher_is_better else 'lower'} is better)")
    ax.legend(loc="upper right", fontsize=8)
    described = []
    for r in results:
        if not r.scores.size:
            described.append(f"{r.technique} none, NaN in {r.n_diverged} of {len(r.runs)} runs")
            continue
        text = f"{r.technique} {approx(r.score_median)} ({approx(r.scores.min())} to {approx(r.scores.max())})"
        described.append(text + (f", NaN in {r.n_diverged} of {len(r.runs)} runs" if r.n_diverged else ""))
    return (
        f"Final {problem.score_name} per technique, median of the finite runs with their range and each run as a dot, "
        f"against {problem.reference_name} at {problem.reference:.2g}: " + "; ".join(described) + "."
    )


def plot_wall_time(results, ax):
    """Wall time per technique: tracing its training step (once) and one training run (mean over seeds).

    Returns a one-sentence description of what it drew, for the figure's alt text.
    """
    results = list(results.values())
    positions = np.arange(len(results))
    traces = [r.trace_seconds for r in results]
    ax.barh(positions, traces, color="tan", label="build + trace (once)")
    ax.barh(positions, [r.seconds for r in results], left=traces, color="peru", label="one training run")
    ax.set_yticks(positions, [r.technique for r in results])
    ax.invert_yaxis()
    ax.set_xlabel("wall time on this machine (s)")
    totals = {r.technique: r.trace_seconds + r.seconds for r in results}
    slowest, fastest = max(totals, key=totals.get), min(totals, key=totals.get)
    return (
        f"Wall time on this machine per technique, building and tracing once plus one training run: the longest "
        f"{slowest} ({approx(totals[slowest])} s), the shortest {fastest} ({approx(totals[fastest])} s)."
    )
