import keras
import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.gradients import GradientLog, layer_gradient_norms, train_with_gradient_log, train_with_step
from course_utils.models import deep_mlp


def linear_net(seed=0):
    """x -> W1 -> W2 with zero biases: its MSE gradient can be written by hand."""
    return deep_mlp(depth=1, width=3, activation="linear", weight_scale=1.0, input_dim=4, num_classes=2, seed=seed)


def test_layer_gradient_norms_match_the_hand_derived_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    model = linear_net()
    w1, w2 = (
        k.astype(np.float64)
        for k in (model.get_layer("dense_0").kernel.numpy(), model.get_layer("output").kernel.numpy())
    )
    # L = mean((x W1 W2 - y)^2) over all n*k entries
    residual = x @ w1 @ w2 - y
    upstream = 2 * residual / residual.size
    grad_w2 = (x @ w1).T @ upstream
    grad_w1 = x.T @ upstream @ w2.T
    norms = layer_gradient_norms(model, x, y, loss_fn=keras.losses.MeanSquaredError())
    np.testing.assert_allclose(norms, [np.linalg.norm(grad_w1), np.linalg.norm(grad_w2)], rtol=1e-4)


def test_layer_gradient_norms_rejects_bad_input():
    model = linear_net()
    with pytest.raises(ValueError, match="same length"):
        layer_gradient_norms(model, np.zeros((3, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="must be a keras.Model"):
        layer_gradient_norms("model", np.zeros((3, 4)), np.zeros((3, 2)))
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built yet"):
        layer_gradient_norms(unbuilt, np.zeros((3, 4)), np.zeros((3, 2)))


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 2)).astype("float32")


def test_log_records_every_step_and_catches_divergence():
    x, y = regression_data()
    log = train_with_gradient_log(
        linear_net(),
        x,
        y,
        keras.optimizers.SGD(10.0),
        epochs=50,
        batch_size=16,
        loss_fn=keras.losses.MeanSquaredError(),
    )
    assert log.diverged and log.diverged_at == len(log.losses) - 1 == len(log.grad_norms) - 1
    assert not np.isfinite(log.losses[-1]) or not np.isfinite(log.grad_norms[-1])
    assert np.all(np.isfinite(log.losses[: log.diverged_at]))
    assert log.diverged_at < 50 * 4  # stopped early, not after every epoch


def test_a_healthy_run_does_not_diverge_and_learns():
    x, y = regression_data()
    log = train_with_gradient_log(
        linear_net(), x, y, keras.optimizers.SGD(0.05), epochs=5, batch_size=16, loss_fn=keras.losses.MeanSquaredError()
    )
    assert not log.diverged and len(log.losses) == 5 * 4 == len(log.grad_norms)
    assert log.steps_per_epoch == 4
    means = log.epoch_mean_losses()
    assert len(means) == 5 and means[-1] < means[0]


def test_logged_norm_is_the_raw_norm_before_clipping():
    x, y = regression_data(seed=1)
    x = 100 * x  # large inputs: raw gradient norms far above the threshold
    model = linear_net()
    before = [v.numpy().copy() for v in model.trainable_variables]
    learning_rate, threshold = 0.01, 1.0
    log = train_with_gradient_log(
        model,
        x[:16],
        y[:16],
        keras.optimizers.SGD(learning_rate, global_clipnorm=threshold),
        epochs=1,
        batch_size=16,
        loss_fn=keras.losses.MeanSquaredError(),
    )
    assert log.grad_norms[0] > 100 * threshold  # logged before clipping
    step = np.sqrt(sum(np.sum((v.numpy() - b) ** 2) for v, b in zip(model.trainable_variables, before)))
    assert step == pytest.approx(learning_rate * threshold, rel=1e-3)  # but the update was clipped
    assert log.fraction_above(threshold) == 1.0


def test_regularisation_penalty_is_part_of_the_logged_loss():
    x, y = regression_data()
    model = deep_mlp(
        1,
        3,
        activation="linear",
        weight_scale=1.0,
        input_dim=4,
        num_classes=2,
        kernel_regularizer=keras.regularizers.l2(1.0),
    )
    data_loss = float(keras.losses.MeanSquaredError()(y[:64], model(x[:64])))
    penalty = float(tf.add_n(model.losses))
    log = train_with_gradient_log(
        model, x, y, keras.optimizers.SGD(0.0), epochs=1, batch_size=64, loss_fn=keras.losses.MeanSquaredError()
    )
    assert log.losses[0] == pytest.approx(data_loss + penalty, rel=1e-5)


def test_gradient_log_summaries():
    log = GradientLog(losses=[1.0, 2.0, 3.0, 4.0], grad_norms=[1.0, 5.0, float("nan"), 2.0], steps_per_epoch=2)
    assert log.max_grad_norm == 5.0
    assert log.fraction_above(1.5) == 0.5
    assert log.epoch_mean_losses() == [1.5, 3.5]
    assert GradientLog(
        losses=[1.0, float("nan")], grad_norms=[1.0, 1.0], diverged_at=1, steps_per_epoch=1
    ).epoch_mean_losses() == [1.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=0), "epochs must be an int >= 1"),
        (dict(batch_size=0), "batch_size must be an int >= 1"),
        (dict(optimizer="sgd"), "optimizer must be a keras.optimizers.Optimizer"),
        (dict(y=np.zeros((3, 2))), "same length"),
    ],
)
def test_train_with_gradient_log_rejects_bad_arguments(kwargs, message):
    x, y = regression_data()
    arguments = dict(model=linear_net(), x=x, y=y, optimizer=keras.optimizers.SGD(0.1), epochs=1, batch_size=8)
    with pytest.raises(ValueError, match=message):
        train_with_gradient_log(**{**arguments, **kwargs})


def test_train_with_step_uses_the_same_minibatches_as_train_with_gradient_log():
    x, y = regression_data(n=40)  # 2 full batches of 16 per epoch, 8 examples left over
    loss_fn = keras.losses.MeanSquaredError()
    reference = train_with_gradient_log(linear_net(), x, y, keras.optimizers.SGD(0.05), 3, 16, loss_fn=loss_fn)

    model, optimizer = linear_net(), keras.optimizers.SGD(0.05)

    @tf.function
    def step(x_batch, y_batch):
        with tf.GradientTape() as tape:
            loss = loss_fn(y_batch, model(x_batch, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss, tf.linalg.global_norm(grads)

    log = train_with_step(step, x, y, epochs=3, batch_size=16)
    np.testing.assert_allclose(log.losses, reference.losses, rtol=1e-5)
    np.testing.assert_allclose(log.grad_norms, reference.grad_norms, rtol=1e-5)
    assert log.steps_per_epoch == reference.steps_per_epoch == 2


def test_every_batch_is_full_unless_asked_otherwise():
    x, y = regression_data(n=40)
    sizes = []

    def step(x_batch, y_batch):
        sizes.append(len(x_batch))
        return 0.0, 1.0

    train_with_step(step, x, y, epochs=2, batch_size=16)
    assert sizes == [16, 16] * 2
    sizes.clear()
    train_with_step(step, x, y, epochs=1, batch_size=16, drop_remainder=False)
    assert sizes == [16, 16, 8]
    with pytest.raises(ValueError, match="no full batch"):
        train_with_step(step, x, y, epochs=1, batch_size=64)


def test_train_with_step_calls_on_step_before_each_step_and_stops_at_nan():
    calls, seen = [], []

    def step(x_batch, y_batch):
        seen.append(len(calls))
        return (float("nan") if len(seen) == 4 else 1.0), 2.0

    log = train_with_step(step, np.zeros((10, 1)), np.zeros(10), epochs=5, batch_size=4, on_step=calls.append)
    assert calls == [0, 1, 2, 3] and seen == [1, 2, 3, 4]  # on_step(i) ran before step i
    assert log.diverged_at == 3 and len(log.losses) == 4


def test_train_with_step_rejects_bad_input():
    with pytest.raises(ValueError, match="step must be a function"):
        train_with_step("step", np.zeros((4, 1)), np.zeros(4), 1, 2)
    with pytest.raises(ValueError, match="same length"):
        train_with_step(lambda x, y: (0.0, 0.0), np.zeros((4, 1)), np.zeros(3), 1, 2)
    with pytest.raises(ValueError, match="batch_size"):
        train_with_step(lambda x, y: (0.0, 0.0), np.zeros((4, 1)), np.zeros(4), 1, 0)
