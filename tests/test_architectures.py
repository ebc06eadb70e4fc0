import keras
import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.architectures import (
    LayerNormSimpleRNNCell,
    SequenceTrainer,
    evaluate_mse,
    recurrent_cell,
    recurrent_model,
    residual_mlp,
    state_jacobian_norms,
)
from course_utils.data import adding_problem, load_digits
from course_utils.gradients import GradientLog
from course_utils.models import deep_mlp, simple_rnn
from course_utils.recurrent import hidden_state_jacobian_norms


def test_simple_cell_with_the_defaults_is_the_lesson_02_network():
    ours, theirs = recurrent_model("simple", units=8, timesteps=10, recurrent_scale=1.5), simple_rnn(8, 10, 1.5)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert all(np.array_equal(a, b) for a, b in zip(ours.get_weights(), theirs.get_weights()))


def test_identity_init_and_relu_make_an_irnn():
    model = recurrent_model("simple", units=6, timesteps=5, recurrent_init="identity", activation="relu")
    cell = recurrent_cell(model)
    np.testing.assert_array_equal(cell.recurrent_kernel.numpy(), np.eye(6))
    assert cell.activation is keras.activations.relu


def test_any_length_model_reads_sequences_of_every_length():
    model = recurrent_model("gru", units=4, timesteps=None)
    for timesteps in (5, 9):
        x, _ = adding_problem(3, timesteps)
        assert model(x).shape == (3, 1)


def test_jacobian_norms_of_a_simple_rnn_match_the_lesson_02_helper():
    x, _ = adding_problem(8, 12)
    model = recurrent_model("simple", units=6, timesteps=12, recurrent_scale=1.5)
    norms = state_jacobian_norms(model, x)
    assert sorted(norms) == ["h"]
    np.testing.assert_allclose(norms["h"], hidden_state_jacobian_norms(model, x), rtol=1e-4)


def lstm_blocks_by_autodiff(model, x, k):
    """dh_T/dh_k and dc_T/dc_k (0-based step k) by restarting the LSTM's recurrence at (h_k, c_k)."""
    cell = recurrent_cell(model)
    h, c = tf.zeros((x.shape[0], cell.units)), tf.zeros((x.shape[0], cell.units))
    for t in range(k + 1):
        _, (h, c) = cell(x[:, t], [h, c])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([h, c])
        h_t, c_t = h, c
        for t in range(k + 1, x.shape[1]):
            _, (h_t, c_t) = cell(x[:, t], [h_t, c_t])
    blocks = tape.batch_jacobian(h_t, h), tape.batch_jacobian(c_t, c)
    return [float(np.mean(np.linalg.svd(b.numpy(), compute_uv=False)[:, 0])) for b in blocks]


def test_lstm_hidden_and_cell_paths_match_automatic_differentiation():
    x, _ = adding_problem(4, 8)
    x = tf.constant(x)
    model = recurrent_model("lstm", units=5, timesteps=8)
    norms = state_jacobian_norms(model, x)
    assert sorted(norms) == ["c", "h"] and len(norms["h"]) == 8 and norms["c"][0] == 1.0
    for k in (1, 4):
        h_norm, c_norm = lstm_blocks_by_autodiff(model, x, k)
        distance = 7 - k
        assert norms["h"][distance] == pytest.approx(h_norm, rel=1e-4)
        assert norms["c"][distance] == pytest.approx(c_norm, rel=1e-4)


def test_layer_norm_cell_is_invariant_to_the_scale_of_its_weights():
    x, _ = adding_problem(4, 6)
    model = recurrent_model("simple", units=6, timesteps=6, layer_norm=True, recurrent_scale=1.5)
    cell = recurrent_cell(model)
    assert isinstance(cell, LayerNormSimpleRNNCell)
    before = model(x).numpy()
    cell.kernel.assign(cell.kernel * 3.0)
    cell.recurrent_kernel.assign(cell.recurrent_kernel * 3.0)
    np.testing.assert_allclose(model(x).numpy(), before, atol=1e-2)  # up to LayerNorm's epsilon


@pytest.mark.parametrize(
    "bad",
    [
        dict(cell="transformer"),
        dict(recurrent_init="random"),
        dict(cell="lstm", layer_norm=True),
        dict(cell="gru", activation="relu"),
        dict(units=0),
        dict(recurrent_scale=-1.0),
    ],
)
def test_recurrent_model_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        recurrent_model(**bad)


def test_jacobian_helper_needs_a_recurrent_model():
    with pytest.raises(ValueError, match="exactly one recurrent layer"):
        state_jacobian_norms(deep_mlp(2, 4), np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match="shape"):
        state_jacobian_norms(recurrent_model(units=3, timesteps=4), np.zeros((2, 4)))


def test_residual_mlp_shares_the_plain_networks_kernels_and_adds_skips():
    plain, residual = deep_mlp(4, 64, weight_scale=4.0), residual_mlp(4, weight_scale=4.0)
    for i in range(4):
        np.testing.assert_array_equal(
            plain.get_layer(f"dense_{i}").kernel.numpy(), residual.get_layer(f"dense_{i}").kernel.numpy()
        )
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 4
    x = np.random.default_rng(0).normal(size=(3, 64)).astype("float32")
    h = x
    for i in range(4):  # h + tanh(W h + b), by hand
        h = h + np.tanh(residual.get_layer(f"dense_{i}")(h).numpy())
    np.testing.assert_allclose(residual(x).numpy(), residual.get_layer("output")(h).numpy(), rtol=1e-4, atol=1e-4)


def test_pre_norm_puts_a_layer_norm_before_every_block_and_the_output():
    model = residual_mlp(3, pre_norm=True)
    norms = [layer.name for layer in model.layers if isinstance(layer, keras.layers.LayerNormalization)]
    assert norms == ["layernorm_0", "layernorm_1", "layernorm_2", "layernorm_final"]
    with pytest.raises(ValueError, match="input_dim"):
        residual_mlp(3, width=32)


def test_sequence_trainer_restarts_from_the_same_weights_and_clips():
    x, y = adding_problem(64, 6)
    model = recurrent_model("lstm", units=4, timesteps=None)
    start = model.get_weights()
    trainer = SequenceTrainer(model, keras.losses.MeanSquaredError(), learning_rate=0.01)
    first = trainer.run(x, y, epochs=2, batch_size=16)
    trained = model.get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(start, trained)), "training should move the weights"
    again = trainer.run(x, y, epochs=2, batch_size=16)
    assert again.losses == pytest.approx(first.losses, rel=1e-5)
    clipped = trainer.run(x, y, epochs=2, batch_size=16, clipnorm=1e-6)
    assert clipped.grad_norms[0] == pytest.approx(first.grad_norms[0], rel=1e-5), "the log holds the raw norm"
    x20, y20 = adding_problem(32, 20)
    assert len(trainer.run(x20, y20, epochs=1, batch_size=16).losses) == 2, "one trace serves another length"


def test_evaluate_mse_of_a_diverged_run_is_nan():
    model = recurrent_model(units=3, timesteps=4)
    x, y = adding_problem(8, 4)
    assert np.isnan(evaluate_mse(model, GradientLog(losses=[float("nan")], grad_norms=[1.0], diverged_at=0), x, y))
    assert evaluate_mse(model, GradientLog(), x, y) >= 0.0
    with pytest.raises(ValueError):
        evaluate_mse(model, None, x, y)


def test_residual_mlp_runs_on_the_digits():
    (x, y), _ = load_digits()
    assert residual_mlp(2)(x[:5]).shape == (5, 10)
