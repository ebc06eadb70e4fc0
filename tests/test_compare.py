import math
import re

import keras
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course_utils import baselines, compare, compare_report  # noqa: E402
from course_utils.approx import APPROX_PATTERN  # noqa: E402
from course_utils.gradients import GradientLog, optimizer_settings, train_with_gradient_log  # noqa: E402


@pytest.fixture(scope="module")
def tiny_mlp():
    return compare.mlp_problem(depth=3, epochs=2, train_samples=128)


def fake_result(name, scores, max_norms=None, diverged_at=None, problem=None):
    """A Result whose runs have the given final scores (NaN = diverged) and largest gradient norms."""
    runs = []
    for index, score in enumerate(scores):
        norm = 1.0 if max_norms is None else max_norms[index]
        log = GradientLog(losses=[1.0, 1.0], grad_norms=[norm / 2, norm], steps_per_epoch=2)
        if math.isnan(score):
            log.losses.append(float("nan"))
            log.grad_norms.append(float("nan"))
            log.diverged_at = 2 if diverged_at is None else diverged_at
        runs.append(compare.Run(seed=index, log=log, score=score, seconds=0.1))
    return compare.Result(name, problem, runs, trace_seconds=0.5, step_ops=100)


# --------------------------------------------------------------------------- problems


def test_problems_default_to_the_full_baselines_and_cut_training_to_whole_batches():
    full = compare.mlp_problem()
    assert full.epochs == baselines.MLP_TRAINING["epochs"]
    assert len(full.model(seed=0).layers) == 2 * baselines.MLP["depth"] + 1
    assert len(full.train[0]) == 1344  # 1347 digits cut to 21 batches of 64: one traced batch shape
    rnn = compare.rnn_problem()
    assert rnn.epochs == baselines.RNN_TRAINING["epochs"] and len(rnn.train[0]) == baselines.RNN_SAMPLES["train"]
    assert isinstance(rnn.loss_fn, keras.losses.MeanSquaredError) and not rnn.higher_is_better


def test_problem_sizes_and_validation(tiny_mlp):
    assert len(tiny_mlp.train[0]) == 128 and tiny_mlp.epochs == 2
    assert len([layer for layer in tiny_mlp.model(seed=0).layers if isinstance(layer, keras.layers.Dense)]) == 4
    assert len(compare.mlp_problem(depth=3, train_samples=10).train[0]) == 64  # at least one batch
    with pytest.raises(ValueError, match="depth must be an int"):
        compare.mlp_problem(depth=0)
    with pytest.raises(ValueError, match="epochs must be an int"):
        compare.rnn_problem(epochs=1.5)


def test_scores():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, use_bias=False, kernel_initializer="identity")])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype="float32")
    assert compare.accuracy(model, x, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert compare.mean_squared_error(model, x, np.zeros((3, 2), dtype="float32")) == pytest.approx(0.5)


# --------------------------------------------------------------------------- techniques


def test_registry_applies_layer_changes_to_the_mlp_only():
    assert set(compare.techniques_for("mlp")) == set(compare.TECHNIQUES)
    assert compare.techniques_for("rnn") == ["baseline", "clipnorm", "global_clipnorm", "L2", "L2 + clipnorm"]


def layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_every_technique_builds_what_its_name_says(tiny_mlp):
    built = {name: t.build(tiny_mlp, 0) for name, t in compare.TECHNIQUES.items()}
    for name, (model, optimizer) in built.items():
        assert isinstance(model, keras.Model) and model.built, name
        assert isinstance(optimizer, keras.optimizers.SGD) and float(optimizer.learning_rate) == pytest.approx(0.1)
        clipped = "clipnorm" in name
        assert (optimizer.clipnorm == compare.CLIP_NORM) == (clipped and name != "global_clipnorm"), name
        assert (optimizer.global_clipnorm == compare.CLIP_NORM) == (name == "global_clipnorm"), name
        assert bool(model.losses) == name.startswith("L2"), name
        assert ("BatchNormalization" in layer_types(model)) == ("BatchNorm" in name), name
        activations = {
            layer.activation.__name__ for layer in model.layers if isinstance(layer, keras.layers.Activation)
        }
        assert activations == ({"relu"} if "He-ReLU" in name else {"tanh"}), name
    kernel = built["He-ReLU"][0].get_layer("dense_1").kernel.numpy()
    assert np.std(kernel) * math.sqrt(kernel.shape[0]) == pytest.approx(compare.HE_SCALE, rel=0.1)
    # the baseline's own weights: sigma_w = 4
    kernel = built["baseline"][0].get_layer("dense_1").kernel.numpy()
    assert np.std(kernel) * math.sqrt(kernel.shape[0]) == pytest.approx(baselines.MLP["weight_scale"], rel=0.1)


def test_rnn_l2_penalises_both_weight_matrices():
    model, optimizer = compare.l2(compare.rnn_problem(epochs=1, train_samples=64), 0)
    assert len(model.losses) == 2 and optimizer.clipnorm is None


def test_optimizer_settings_ignore_the_automatic_name():
    assert optimizer_settings(keras.optimizers.SGD(0.1)) == optimizer_settings(keras.optimizers.SGD(0.1))
    assert optimizer_settings(keras.optimizers.SGD(0.1)) != optimizer_settings(keras.optimizers.SGD(0.1, clipnorm=1.0))


# --------------------------------------------------------------------------- runs


def test_run_technique_matches_train_with_gradient_log_seed_by_seed(tiny_mlp):
    """Reusing one traced step across seeds must give each seed the run it would have on its own."""
    result = compare.run_technique(tiny_mlp, compare.clipnorm, seeds=(0, 100))
    assert [run.seed for run in result.runs] == [0, 100] and result.technique == "clipnorm"
    for run in result.runs:
        model, optimizer = compare.clipnorm(tiny_mlp, run.seed)
        reference = train_with_gradient_log(
            model, *tiny_mlp.train, optimizer, tiny_mlp.epochs, tiny_mlp.batch_size, seed=run.seed
        )
        np.testing.assert_allclose(run.log.losses, reference.losses, rtol=1e-4)
        np.testing.assert_allclose(run.log.grad_norms, reference.grad_norms, rtol=1e-4)
        assert run.score == pytest.approx(compare.accuracy(model, *tiny_mlp.test), abs=0.01)
    assert result.runs[0].log.losses != result.runs[1].log.losses  # the seeds really differ


def test_run_technique_resets_the_optimizer_state_between_seeds(tiny_mlp):
    def momentum(problem, seed):  # a stateful optimizer: its velocity must not leak from one seed into the next
        return problem.model(seed, activation="relu", weight_scale=compare.HE_SCALE), keras.optimizers.SGD(
            0.05, momentum=0.9
        )

    first, again = (
        compare.run_technique(tiny_mlp, momentum, seeds=(100,)),
        compare.run_technique(tiny_mlp, momentum, seeds=(0, 100)),
    )
    np.testing.assert_allclose(first.runs[0].log.losses, again.runs[1].log.losses, rtol=1e-5)


def test_run_technique_detects_divergence_and_scores_nan():
    rnn = compare.rnn_problem(epochs=1, train_samples=64 * 60)
    result = compare.run_technique(rnn, compare.baseline, seeds=(0,))
    assert result.n_diverged == 1 and math.isnan(result.runs[0].score) and result.scores.size == 0
    assert result.max_grad_norm > 1e6 and math.isfinite(result.max_grad_norm)
    clipped = compare.run_technique(rnn, compare.clipnorm, seeds=(0,))
    assert clipped.n_diverged == 0 and 0 < clipped.runs[0].score < 1


def test_run_technique_rejects_a_seed_dependent_optimizer_and_no_seeds(tiny_mlp):
    def odd(problem, seed):
        return problem.model(seed), keras.optimizers.SGD(0.1 if seed == 0 else 0.2)

    with pytest.raises(ValueError, match="different optimizer per seed"):
        compare.run_technique(tiny_mlp, odd, seeds=(0, 1))
    with pytest.raises(ValueError, match="at least one seed"):
        compare.run_technique(tiny_mlp, compare.baseline, seeds=())


def test_sweep_runs_the_named_techniques_in_order_and_rejects_unknown_names(tiny_mlp):
    results = compare.sweep(tiny_mlp, seeds=(0,), techniques=["BatchNorm", "baseline"])
    assert list(results) == ["BatchNorm", "baseline"]
    assert results["BatchNorm"].step_ops > 2 * results["baseline"].step_ops  # BatchNorm's work per step, counted
    with pytest.raises(ValueError, match="unknown technique"):
        compare.sweep(tiny_mlp, seeds=(0,), techniques=["dropout"])


# --------------------------------------------------------------------------- summaries, table, plots


def test_result_summaries_skip_diverged_runs():
    result = fake_result("x", [0.2, float("nan"), 0.5, 0.3], max_norms=[10.0, 1e9, 30.0, 20.0])
    assert result.n_diverged == 1
    assert result.max_grad_norm == 1e9  # the largest finite norm, diverged runs included
    np.testing.assert_allclose(result.scores, [0.2, 0.5, 0.3])
    assert result.score_median == pytest.approx(0.3) and result.score_range == pytest.approx(0.3)
    assert result.seconds == pytest.approx(0.1)
    all_nan = fake_result("y", [float("nan")] * 2)
    assert math.isnan(all_nan.score_median) and math.isnan(all_nan.score_range)


def test_format_table_prints_measured_values_in_approx_form(tiny_mlp):
    results = {
        "baseline": fake_result("baseline", [float("nan")] * 3, max_norms=[1e18, 2e18, 3e18], problem=tiny_mlp),
        "clipnorm": fake_result("clipnorm", [0.4321, 0.4678, 0.5012], max_norms=[20.0, 30.0, 25.0], problem=tiny_mlp),
        "L2": fake_result("L2", [0.2, float("nan"), 0.3], max_norms=[5.0, 1e9, 6.0], problem=tiny_mlp),
    }
    lines = compare_report.format_table(results).splitlines()
    assert lines[0] == "technique  NaN runs  largest raw gradient norm · test accuracy: median (worst to best)"
    assert set(lines[1]) == {"-"}
    assert lines[2] == "baseline   ≈3/3      ≈3.0e18 · - (a run reached NaN)"
    assert lines[3] == "clipnorm   ≈0/3      ≈30 · ≈0.47 (≈0.43 to ≈0.50)"
    assert lines[4] == "L2         ≈1/3      ≈1.0e9 · - (a run reached NaN)"  # one NaN run: no score summary
    with pytest.raises(ValueError, match="no results"):
        compare_report.format_table({})


def test_format_table_masks_to_the_same_text_whatever_the_measured_values(tiny_mlp):
    # The nbval sanitizer replaces each approx value: two runs that measured different values print the same
    # masked line, so no padding may depend on a value's width.
    def sanitize(text):
        return re.sub(APPROX_PATTERN, "(approx)", text)

    one = {"a": fake_result("a", [0.1, 0.12, 0.0956], max_norms=[128.0, 97.0, 66.0], problem=tiny_mlp)}
    other = {"a": fake_result("a", [0.5, 0.6, 0.55], max_norms=[3.2e18, 9.0, 6.0], problem=tiny_mlp)}
    assert sanitize(compare_report.format_table(one)) == sanitize(compare_report.format_table(other))


def test_format_table_orders_worst_to_best_by_the_problem_score():
    rnn = compare.rnn_problem(epochs=1, train_samples=64)
    lines = compare_report.format_table({"x": fake_result("x", [0.2, 0.1, 0.3], problem=rnn)}).splitlines()
    assert lines[2].endswith("≈0.20 (≈0.30 to ≈0.10)")  # test MSE: lower is better


def test_run_technique_keeps_each_runs_final_weights(tiny_mlp):
    result = compare.run_technique(tiny_mlp, compare.baseline, seeds=(0, 100))
    model, _ = compare.baseline(tiny_mlp, 100)
    model.set_weights(result.runs[1].weights)
    assert compare.accuracy(model, *tiny_mlp.test) == pytest.approx(result.runs[1].score)
    assert not all(np.array_equal(a, b) for a, b in zip(result.runs[0].weights, result.runs[1].weights))


def test_plots_draw_one_line_or_bar_per_technique(tiny_mlp):
    results = {
        "baseline": fake_result("baseline", [float("nan"), 0.2], max_norms=[1e9, 5.0], problem=tiny_mlp),
        "L2 + clipnorm": fake_result("L2 + clipnorm", [0.3, 0.4], problem=tiny_mlp),
    }
    fig, axes = plt.subplots(1, 3)
    compare_report.plot_gradient_norms(results, axes[0])
    labels = [line.get_label() for line in axes[0].lines if not line.get_label().startswith("_")]
    assert labels == ["baseline", "L2 + clipnorm"]
    assert [line.get_linestyle() for line in axes[0].lines[:1]] == ["-"]
    assert sum(line.get_marker() == "x" for line in axes[0].lines) == 1  # the one diverged run
    assert axes[0].get_yscale() == "log"
    compare_report.plot_scores(results, axes[1])
    assert [tick.get_text() for tick in axes[1].get_yticklabels()] == ["baseline", "L2 + clipnorm"]
    compare_report.plot_wall_time(results, axes[2])
    assert len(axes[2].patches) == 4  # trace and run bars for each technique
    plt.close(fig)


def test_plots_return_a_description_of_what_they_drew_for_the_alt_text(tiny_mlp):
    results = {
        "baseline": fake_result("baseline", [float("nan"), 0.2], max_norms=[1e9, 5.0], problem=tiny_mlp),
        "L2 + clipnorm": fake_result("L2 + clipnorm", [0.3, 0.4], max_norms=[2.0, 4.0], problem=tiny_mlp),
    }
    fig, axes = plt.subplots(1, 3)
    norms = compare_report.plot_gradient_norms(results, axes[0])
    # the median over seeds of the steps both runs share: (5e8, 2.5) then (1e9, 5.0) for the baseline
    assert norms == (
        "Raw gradient norm per training step, log scale, median over 2 seeds, first to last step: "
        "baseline from ≈2.5e8 to ≈5.0e8, then NaN in 1 of 2 runs; L2 + clipnorm from ≈1.5 to ≈3.0."
    )
    scores = compare_report.plot_scores(results, axes[1])
    assert scores.startswith("Final test accuracy per technique, median of the finite runs")
    assert (
        "against chance at 0.1: baseline ≈0.20 (≈0.20 to ≈0.20), NaN in 1 of 2 runs; L2 + clipnorm ≈0.35 (≈0.30 to ≈0.40)."
        in scores
    )
    every_run_nan = {"baseline": fake_result("baseline", [float("nan")] * 2, problem=tiny_mlp)}
    assert compare_report.plot_scores(every_run_nan, axes[1]).endswith("baseline none, NaN in 2 of 2 runs.")
    wall = compare_report.plot_wall_time(results, axes[2])
    assert wall.startswith("Wall time on this machine per technique") and "≈0.60 s" in wall  # 0.5 s trace + 0.1 s run
    plt.close(fig)


def test_gradient_plot_gives_each_technique_its_own_colour_and_the_baseline_black(tiny_mlp):
    names = ["baseline", *[name for name in compare.TECHNIQUES if name != "baseline"][:6]]
    results = {name: fake_result(name, [0.2], problem=tiny_mlp) for name in names}
    fig, ax = plt.subplots()
    compare_report.plot_gradient_norms(results, ax)
    colours = {
        line.get_label(): matplotlib.colors.to_hex(line.get_color())
        for line in ax.lines
        if not line.get_label().startswith("_")
    }
    assert colours["baseline"] == "#000000"
    assert len(set(colours.values())) == len(names), "seven techniques, seven colours"
    plt.close(fig)


# --------------------------------------------------------------------------- BatchNorm statistics and step times


def test_recalibrate_batch_norm_sets_the_moving_statistics_to_those_of_the_data_and_restores_momentum(tiny_mlp):
    model = tiny_mlp.model(seed=0, batch_norm=True)
    x = np.random.default_rng(0).normal(2.0, 3.0, (256, 64)).astype("float32")
    assert compare.recalibrate_batch_norm(model, x) == 3
    first = compare.batch_norm_layers(model)[0]
    h = np.asarray(model.layers[0](x))  # the first Dense layer's output: what the first BatchNorm normalises
    np.testing.assert_allclose(np.asarray(first.moving_mean), h.mean(axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(first.moving_variance), h.var(axis=0), rtol=1e-3)
    assert all(layer.momentum == 0.99 for layer in compare.batch_norm_layers(model))
    plain = tiny_mlp.model(seed=0)
    before = [w.copy() for w in plain.get_weights()]
    assert compare.recalibrate_batch_norm(plain, x) == 0  # nothing to re-estimate
    assert all(np.array_equal(a, b) for a, b in zip(before, plain.get_weights()))


def test_run_technique_scores_batch_norm_after_recalibrating_and_keeps_the_weights_as_trained(tiny_mlp):
    result = compare.run_technique(tiny_mlp, compare.batch_norm, seeds=(0,))
    run = result.runs[0]
    model, _ = compare.batch_norm(tiny_mlp, 0)
    model.set_weights(run.weights)
    as_trained = [np.asarray(layer.moving_mean).copy() for layer in compare.batch_norm_layers(model)]
    compare.recalibrate_batch_norm(model, tiny_mlp.train[0])
    assert run.score == pytest.approx(compare.accuracy(model, *tiny_mlp.test), abs=2 / len(tiny_mlp.test[1]))
    recalibrated = [np.asarray(layer.moving_mean) for layer in compare.batch_norm_layers(model)]
    assert not np.allclose(as_trained[-1], recalibrated[-1])  # Run.weights hold the stale averages


def test_step_times_count_the_steps_actually_taken():
    rnn = compare.rnn_problem(epochs=1, train_samples=64 * 60)
    result = compare.run_technique(rnn, compare.baseline, seeds=(0,))
    run = result.runs[0]
    assert run.log.diverged and run.steps == run.log.diverged_at + 1 < 60  # stopped at NaN
    assert len(run.step_seconds) == run.steps and run.train_seconds == pytest.approx(sum(run.step_seconds))
    assert 0 < result.fastest_step <= result.seconds_per_step
    fake = fake_result("x", [0.1, 0.2])
    fake.runs[0].step_seconds, fake.runs[1].step_seconds = [9.0, 1.0, 3.0], [9.0, 2.0]  # first steps left out
    assert fake.seconds_per_step == pytest.approx(2.0) and fake.fastest_step == 1.0 and fake.steps == 4
    assert math.isnan(fake_result("y", [0.1]).seconds_per_step)  # no step times recorded
