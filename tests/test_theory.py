import numpy as np
import pytest

from course_utils.data import load_digits
from course_utils.gradients import layer_gradient_norms
from course_utils.models import deep_mlp
from course_utils.theory import chi1, q_star

# DESIGN.md's reference values (tanh, bias 0, fine-grid integration)
REFERENCE = [(1.5, 0.793, 1.1393), (2.0, 2.1215, 1.3627), (3.0, 6.305, 1.8599), (4.0, 12.50, 2.3768)]


@pytest.mark.parametrize("weight_scale, expected_q, expected_chi1", REFERENCE)
def test_tanh_reference_values(weight_scale, expected_q, expected_chi1):
    assert q_star(weight_scale) == pytest.approx(expected_q, rel=1e-3)
    assert chi1(weight_scale) == pytest.approx(expected_chi1, abs=1e-4)


@pytest.mark.parametrize("weight_scale", [0.3, 0.5, 0.9, 1.0])
def test_tanh_without_bias_at_or_below_one_has_q_star_zero_and_chi1_sigma_squared(weight_scale):
    assert q_star(weight_scale) == 0.0
    assert chi1(weight_scale) == pytest.approx(weight_scale**2, rel=1e-9)


@pytest.mark.parametrize("weight_scale", [0.5, 1.0, np.sqrt(2.0), 2.0, 4.0])
def test_relu_chi1_is_half_sigma_squared(weight_scale):
    assert chi1(weight_scale, activation="relu") == pytest.approx(weight_scale**2 / 2, rel=1e-9)


def test_leaky_relu_and_linear():
    assert chi1(2.0, activation="leaky_relu") == pytest.approx(4.0 * (1 + 0.2**2) / 2, rel=1e-9)
    assert chi1(1.3, activation="linear") == pytest.approx(1.69, rel=1e-9)


def test_bias_moves_tanh_off_the_origin():
    # with sigma_b > 0 the fixed point is positive, so chi_1 falls below sigma_w^2
    assert q_star(1.0, bias_scale=0.5) > 0
    assert chi1(1.0, bias_scale=0.5) < 1.0


def test_chi1_decreases_with_saturation_relative_to_sigma_squared():
    ratios = [chi1(s) / s**2 for s in (1.5, 2.0, 3.0, 4.0)]
    assert ratios == sorted(ratios, reverse=True)


def test_measured_growth_of_deep_tanh_mlp_matches_sqrt_chi1():
    (x, y), _ = load_digits()
    norms = np.array(layer_gradient_norms(deep_mlp(depth=30, width=64, weight_scale=4.0), x[:512], y[:512]))
    hidden = norms[:-1]
    layers = np.arange(len(hidden))
    middle = slice(5, 25)  # away from the input and output boundary layers
    slope = np.polyfit(layers[middle], np.log(hidden[middle]), 1)[0]
    measured = np.exp(-slope)  # growth per layer toward the input
    assert measured == pytest.approx(np.sqrt(chi1(4.0)), rel=0.10)
    assert hidden[0] / hidden[-1] > 1e3


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: chi1(0.0), "weight_scale must be a finite number > 0"),
        (lambda: chi1(-2.0), "weight_scale must be a finite number > 0"),
        (lambda: chi1(1.0, activation="gelu"), "activation must be one of"),
        (lambda: q_star(1.0, bias_scale=-0.1), "bias_scale must be a finite number >= 0"),
    ],
)
def test_bad_input_is_rejected_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call()
