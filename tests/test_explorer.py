import math

import numpy as np
import pytest

from course_utils.data import load_digits
from course_utils.explorer import depth_profile, explore_depth, explore_time, time_profile


@pytest.fixture(scope="module")
def probe():
    (x, y), _ = load_digits()
    return x[:256], y[:256]


def test_depth_profile_follows_mean_field_theory(probe):
    profile = depth_profile(*probe, weight_scale=4.0, depth=20)
    assert len(profile.norms) == 20
    assert profile.predicted_growth == pytest.approx(1.542, abs=1e-3)
    assert abs(profile.measured_growth / profile.predicted_growth - 1) < 0.1
    assert profile.predicted()[-1] == profile.norms[-1]  # the prediction is anchored at the last layer
    assert "chi_1 = 2.38, sqrt(chi_1) = 1.54 per layer" in profile.summary()


def test_batch_norm_prediction_ignores_the_weight_scale(probe):
    small, large = (depth_profile(*probe, weight_scale=s, depth=10, batch_norm=True) for s in (0.5, 4.0))
    assert small.predicted_growth == large.predicted_growth
    assert "sigma_w cancels" in large.summary()


def test_time_profile_stays_under_pascanus_bound():
    profile = time_profile(1.5, timesteps=20)
    assert len(profile.norms) == 20 and profile.norms[-1] == 1.0  # dh_T/dh_T = I
    assert np.all(profile.norms <= profile.predicted() * (1 + 1e-6))
    assert profile.summary().startswith("Pascanu's bound: s_max(U) = 1.50 per step")


@pytest.mark.parametrize(
    "bad, message", [(dict(weight_scale=0.0), "weight_scale"), (dict(activation="elu"), "activation")]
)
def test_bad_settings_are_explained(probe, bad, message):
    with pytest.raises(ValueError, match=message):
        depth_profile(*probe, **{"weight_scale": 1.0, **bad})


def controls(widget):
    return {control.description: control for control in widget.children[0].children}


def test_moving_a_slider_redraws_with_the_new_prediction(probe, capsys):
    widget = explore_depth(*probe)
    assert "chi_1 = 2.38" in capsys.readouterr().out  # drawn once at creation
    controls(widget)["depth"].value = 10
    controls(widget)["sigma_w"].value = 2.0
    assert "chi_1 = 1.36" in capsys.readouterr().out.splitlines()[-1]
    controls(widget)["init"].value = "He (sigma_w = sqrt 2)"
    controls(widget)["activation"].value = "relu"
    assert "chi_1 = 1.00" in capsys.readouterr().out.splitlines()[-1]


def test_the_time_explorer_redraws_on_the_spectral_radius(capsys):
    widget = explore_time(timesteps=10)
    assert "s_max(U) = 1.50" in capsys.readouterr().out
    controls(widget)["spectral radius"].value = 0.5
    assert "s_max(U) = 0.50" in capsys.readouterr().out


def test_a_redraw_measures_in_under_a_second_once_warm(probe):
    depth_profile(*probe, weight_scale=4.0)  # the first call traces TensorFlow functions
    assert min(depth_profile(*probe, weight_scale=s).seconds for s in (1.0, 2.0, 3.0)) < 1.0
    assert not math.isnan(time_profile(1.2).measured_growth)
