import numpy as np
import pytest

from course_utils import setup_notebook
from course_utils.baselines import adding_data, mlp_baseline
from course_utils.data import load_digits
from course_utils.seeding import SEED_STRIDE, course_seed, current_course_seed, seed_from_environment, set_course_seed


@pytest.fixture(autouse=True)
def restore_course_seed():
    yield
    set_course_seed(0)


def first_kernel(model):
    return model.layers[0].kernel.numpy()


def test_course_seed_shifts_every_relative_seed():
    set_course_seed(0)
    assert course_seed(0) == 0 and course_seed(7) == 7
    set_course_seed(2)
    assert course_seed(0) == 2 * SEED_STRIDE and course_seed(7) == 2 * SEED_STRIDE + 7


def test_the_environment_variable_sets_the_course_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "3")
    assert seed_from_environment() == 3
    setup_notebook()
    assert current_course_seed() == 3
    monkeypatch.delenv("COURSE_SEED")
    assert seed_from_environment() == 0


@pytest.mark.parametrize("text", ["-1", "one", "1.5"])
def test_a_malformed_environment_variable_is_explained(monkeypatch, text):
    monkeypatch.setenv("COURSE_SEED", text)
    with pytest.raises(ValueError, match="COURSE_SEED must be a non-negative integer"):
        setup_notebook()


def test_another_course_seed_is_another_run_of_everything():
    def everything():
        (x_train, _), _ = load_digits()
        (x_adding, _), _ = adding_data(timesteps=5)
        return first_kernel(mlp_baseline(depth=2)), x_train[:5], x_adding[:5]

    set_course_seed(0)
    first = everything()
    assert all(np.array_equal(a, b) for a, b in zip(first, everything())), "one course seed, one run"
    set_course_seed(1)
    assert not any(np.array_equal(a, b) for a, b in zip(first, everything())), "weights, split and data all move"


def test_setup_notebook_announces_a_rerolled_run(capsys):
    setup_notebook(seed=0)
    assert capsys.readouterr().out == ""
    setup_notebook(seed=2)
    assert "COURSE_SEED = 2" in capsys.readouterr().out
