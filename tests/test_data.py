import numpy as np
import pytest

from course_utils.data import adding_problem, load_digits


def test_digits_shapes_dtypes_and_ranges():
    (x_train, y_train), (x_test, y_test) = load_digits()
    assert x_train.shape == (1347, 64) and x_test.shape == (450, 64)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    assert 0.0 == x_train.min() and x_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_digits_split_is_reproducible_and_depends_on_seed():
    (a, _), _ = load_digits(seed=0)
    (b, _), _ = load_digits(seed=0)
    (c, _), _ = load_digits(seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_digits_rejects_bad_test_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=1.5)


def test_adding_problem_shapes_and_dtypes():
    x, y = adding_problem(n=50, timesteps=12)
    assert x.shape == (50, 12, 2) and y.shape == (50, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert 0.0 <= x[..., 0].min() and x[..., 0].max() < 1.0


def test_adding_problem_has_two_markers_one_per_half_and_target_is_their_sum():
    timesteps = 15
    x, y = adding_problem(n=200, timesteps=timesteps, seed=3)
    markers = x[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    half = timesteps // 2
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), 1.0)
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * markers).sum(axis=1), rtol=1e-6)


def test_adding_problem_is_reproducible_by_seed():
    x0, y0 = adding_problem(10, 8, seed=0)
    x1, y1 = adding_problem(10, 8, seed=0)
    x2, _ = adding_problem(10, 8, seed=1)
    np.testing.assert_array_equal(x0, x1)
    np.testing.assert_array_equal(y0, y1)
    assert not np.array_equal(x0, x2)


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(n=0, timesteps=10), "n"), (dict(n=5, timesteps=1), "timesteps"), (dict(n=5, timesteps=2.5), "timesteps")],
)
def test_adding_problem_rejects_bad_sizes(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be an int >= "):
        adding_problem(**kwargs)
