import math

import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.clipping import (
    CLIPPING_OPTIONS,
    clip_like_optimizer,
    compare_clipping,
    cosine,
    global_norm,
    variable_norms,
)

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
