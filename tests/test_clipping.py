import math

import keras
import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.clipping import (
    CLIPPING_OPTIONS,
    clip_like_optimizer,
    compare_clipping,
    cosine,
    global_norm,
    train_with_step,
    variable_norms,
)
from course_utils.gradients import train_with_gradient_log
from course_utils.models import deep_mlp

# Two variables with norms 5 and 13 (global norm sqrt(194)), and one entry far above 1.
GRADS = [np.array([3.0, 4.0], dtype=np.float32), np.array([[5.0, 0.0], [0.0, 12.0]], dtype=np.float32)]


def test_norms_and_cosine_by_hand():
    assert variable_norms(GRADS) == pytest.approx([5.0, 13.0])
    assert global_norm(GRADS) == pytest.approx(math.sqrt(194.0))
    assert cosine(GRADS, [2 * g for g in GRADS]) == pytest.approx(1.0)
    assert cosine([np.array([1.0, 0.0])], [np.array([0.0, 1.0])]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="different sizes"):
        cosine([np.zeros(2)], [np.zeros(3)])


def test_clipnorm_caps_each_variable_and_keeps_its_direction():
    clipped = clip_like_optimizer(GRADS, clipnorm=1.0)
    assert variable_norms(clipped) == pytest.approx([1.0, 1.0], rel=1e-5)
    np.testing.assert_allclose(clipped[0], GRADS[0] / 5.0, rtol=1e-5)
    np.testing.assert_allclose(clipped[1], GRADS[1] / 13.0, rtol=1e-5)


def test_global_clipnorm_scales_everything_by_one_factor():
    clipped = clip_like_optimizer(GRADS, global_clipnorm=1.0)
    factor = 1.0 / math.sqrt(194.0)
    for raw, clip in zip(GRADS, clipped):
        np.testing.assert_allclose(clip, raw * factor, rtol=1e-5)


def test_clipvalue_clips_each_number():
    clipped = clip_like_optimizer(GRADS, clipvalue=4.5)
    np.testing.assert_allclose(clipped[0], [3.0, 4.0])
    np.testing.assert_allclose(clipped[1], [[4.5, 0.0], [0.0, 4.5]])


@pytest.mark.parametrize("option", CLIPPING_OPTIONS)
def test_gradients_below_the_threshold_pass_unchanged(option):
    for raw, clip in zip(GRADS, clip_like_optimizer(GRADS, **{option: 100.0})):
        np.testing.assert_allclose(clip, raw, rtol=1e-6)


def test_clip_like_optimizer_matches_the_tensorflow_ops():
    tensors = [tf.constant(g) for g in GRADS]
    expected = {
        "clipnorm": [tf.clip_by_norm(g, 2.0) for g in tensors],
        "global_clipnorm": tf.clip_by_global_norm(tensors, 2.0)[0],
        "clipvalue": [tf.clip_by_value(g, -2.0, 2.0) for g in tensors],
    }
    for option, ops in expected.items():
        for ours, theirs in zip(clip_like_optimizer(tensors, **{option: 2.0}), ops):
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "exactly one"),
        ({"clipnorm": 1.0, "clipvalue": 1.0}, "exactly one"),
        ({"clip": 1.0}, "exactly one"),
        ({"clipnorm": 0.0}, "finite number > 0"),
        ({"clipnorm": -1.0}, "finite number > 0"),
    ],
)
def test_clip_like_optimizer_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        clip_like_optimizer(GRADS, **options)


def test_bad_gradients_are_rejected():
    with pytest.raises(ValueError, match="non-empty list"):
        global_norm([])
    with pytest.raises(ValueError, match="non-empty list"):
        global_norm(np.zeros(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        clip_like_optimizer([np.array([np.nan, 1.0])], clipnorm=1.0)


def test_compare_clipping_says_who_turns_the_gradient():
    effects = {e.option: e for e in compare_clipping(GRADS, threshold=1.0)}
    assert list(effects) == ["raw", *CLIPPING_OPTIONS]
    assert effects["raw"].global_norm == pytest.approx(math.sqrt(194.0))
    assert effects["global_clipnorm"].cosine_with_raw == pytest.approx(1.0)
    assert effects["global_clipnorm"].global_norm == pytest.approx(1.0, rel=1e-5)
    # clipnorm: each variable keeps its direction, but 5 and 13 both become 1, so the whole update turns
    assert effects["clipnorm"].worst_variable_cosine == pytest.approx(1.0)
    assert effects["clipnorm"].cosine_with_raw < 0.99
    assert effects["clipnorm"].global_norm == pytest.approx(math.sqrt(2.0), rel=1e-5)
    # clipvalue: [3, 4] -> [1, 1] turns the first variable
    assert effects["clipvalue"].worst_variable_cosine < 0.99


def small_problem(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = rng.normal(size=(n, 2)).astype("float32")
    return x, y


def linear_net():
    return deep_mlp(depth=1, width=3, activation="linear", weight_scale=1.0, input_dim=4, num_classes=2, seed=0)


def test_train_with_step_uses_the_same_minibatches_as_train_with_gradient_log():
    x, y = small_problem()
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
    assert log.steps_per_epoch == reference.steps_per_epoch == 3


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
