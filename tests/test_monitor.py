"""GradientMonitor in a plain model.fit: what it records, writes and stops, on both baselines (small data subsets)."""

import math
import os

import keras
import numpy as np
import pytest

from course_utils import baselines
from course_utils._quiet_tf import tf
from course_utils.data import load_digits
from course_utils.models import deep_mlp
from course_utils.monitor import GradientMonitor

CROSS_ENTROPY = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = load_digits()
    return x[:256], y[:256]


@pytest.fixture(scope="module")
def sequences():
    (x, y), _ = baselines.adding_data()
    return x[:2048], y[:2048]


def tiny_model(**compile_args):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, name="hidden"), keras.layers.Dense(1, name="out")]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", **compile_args)
    return model


def tiny_data(n=16):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def test_mlp_baseline_input_side_growth_at_the_first_record(digits):
    x, y = digits
    model = baselines.mlp_baseline()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=CROSS_ENTROPY)
    monitor = GradientMonitor(x[:128], y[:128])
    model.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0, callbacks=[monitor])

    assert [record["step"] for record in monitor.history] == [0, 1, 2]
    first = monitor.history[0]
    assert set(first) == {"step", "global_norm", "layer_norms"}
    assert list(first["layer_norms"]) == [f"dense_{i}" for i in range(30)] + [
        "output"
    ]  # model order, weighted layers only
    assert first["layer_norms"]["dense_0"] / first["layer_norms"]["dense_29"] > 1e3  # lesson 01's explosion
    assert math.isclose(first["global_norm"], math.sqrt(sum(n**2 for n in first["layer_norms"].values())), rel_tol=1e-9)
    assert monitor.stop_reason is None and not model.stop_training


def test_record_matches_a_gradient_tape_on_the_probe(digits):
    x, y = digits
    model = baselines.mlp_baseline(depth=5)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=CROSS_ENTROPY)
    monitor = GradientMonitor(x, y)
    monitor.set_model(model)
    monitor.on_train_begin()
    with tf.GradientTape() as tape:
        loss = CROSS_ENTROPY(y, model(x, training=True))
    layer = model.get_layer("dense_2")
    expected = float(tf.linalg.global_norm(tape.gradient(loss, layer.trainable_weights)))
    assert math.isclose(monitor.history[0]["layer_norms"]["dense_2"], expected, rel_tol=1e-4)


def test_rnn_baseline_rise_recorded_and_training_stopped(sequences, capsys):
    x, y = sequences
    model = baselines.rnn_baseline()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    monitor = GradientMonitor(x[:128], y[:128], every=2, stop_above=1e4)
    # No shuffling: model.fit would draw its batch order from the global random state, which depends on the tests
    # that ran before in the same worker. In order, this run trips 1e4 within 20 steps (seeds 0-3, oneDNN on and off).
    history = model.fit(x, y, batch_size=64, epochs=4, verbose=0, shuffle=False, callbacks=[monitor])

    norms = [record["global_norm"] for record in monitor.history]
    assert monitor.stop_reason is not None and "passed stop_above=10000" in monitor.stop_reason
    assert model.stop_training and len(history.history["loss"]) < 4  # stopped before the 4 epochs (128 steps) ended
    assert norms[-1] > 1e4 and norms[-1] > 100 * norms[0]  # the rise, recorded
    assert all(n <= 1e4 for n in norms[:-1])  # it stopped at the first record above the threshold
    assert [r["step"] for r in monitor.history] == list(range(0, 2 * len(norms), 2))
    assert list(monitor.history[0]["layer_norms"]) == ["rnn", "readout"]
    assert "GradientMonitor stopped training at step" in capsys.readouterr().out


def test_stops_on_a_non_finite_gradient():
    x, y = tiny_data()
    y[0, 0] = np.nan
    model = tiny_model()
    monitor = GradientMonitor(x, y)
    monitor.set_model(model)
    monitor.on_train_begin()
    assert math.isnan(monitor.history[0]["global_norm"])
    assert model.stop_training and "nan" in monitor.stop_reason


def test_every_and_new_history_per_fit():
    x, y = tiny_data()
    model = tiny_model()
    monitor = GradientMonitor(x[:8], y[:8], every=2)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[monitor])
    assert [r["step"] for r in monitor.history] == [0, 2, 4]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[monitor])
    assert [r["step"] for r in monitor.history] == [0, 2]


def test_probe_leaves_batchnorm_statistics_alone(digits):
    x, y = digits
    model = deep_mlp(depth=3, width=16, batch_norm=True)
    model.compile(optimizer="sgd", loss=CROSS_ENTROPY)
    before = [v.numpy().copy() for v in model.non_trainable_variables]
    monitor = GradientMonitor(x, y)
    monitor.set_model(model)
    monitor.on_train_begin()
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, model.non_trainable_variables))
    assert list(monitor.history[0]["layer_norms"])[:2] == ["dense_0", "batchnorm_0"]


def test_log_dir_writes_scalars_and_histograms(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = tiny_data()
    monitor = GradientMonitor(x, y, log_dir=tmp_path / "gradients")
    tiny_model().fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[monitor])
    events = EventAccumulator(os.fspath(tmp_path / "gradients"), size_guidance={"tensors": 0})
    events.Reload()
    tags = set(events.Tags()["tensors"])
    assert {
        "gradient_norm/global",
        "gradient_norm/hidden",
        "gradient_norm/out",
        "gradients/hidden",
        "gradients/out",
    } <= tags
    written = events.Tensors("gradient_norm/global")
    assert [e.step for e in written] == [r["step"] for r in monitor.history] == [0, 1, 2]
    assert [float(tf.make_ndarray(e.tensor_proto)) for e in written] == pytest.approx(
        [r["global_norm"] for r in monitor.history], rel=1e-6
    )


def test_validation_messages():
    x, y = tiny_data()
    with pytest.raises(ValueError, match="same length"):
        GradientMonitor(x, y[:3])
    with pytest.raises(ValueError, match="non-empty"):
        GradientMonitor(x[:0], y[:0])
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        GradientMonitor(x, y, every=0)
    with pytest.raises(ValueError, match="stop_above must be a finite number > 0"):
        GradientMonitor(x, y, stop_above=-1.0)
    with pytest.raises(ValueError, match="stop_above must be a positive number or None"):
        GradientMonitor(x, y, stop_above="1e6")
    with pytest.raises(ValueError, match="log_dir must be a directory path"):
        GradientMonitor(x, y, log_dir=5)
    uncompiled = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    monitor = GradientMonitor(x, y)
    monitor.set_model(uncompiled)
    with pytest.raises(ValueError, match="needs a compiled model"):
        monitor.on_train_begin()
