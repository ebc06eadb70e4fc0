"""The two ways to set up (pip and conda) and the README's commands must not drift apart."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def pyproject_requirements():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def conda_pip_requirements():
    dependencies = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pip_section = next(item["pip"] for item in dependencies if isinstance(item, dict) and "pip" in item)
    return pip_section


def test_environment_yml_names_the_same_requirements_as_pyproject():
    conda = conda_pip_requirements()
    assert "-e ." in conda, "environment.yml must install course_utils itself"
    assert sorted(r for r in conda if r != "-e .") == sorted(pyproject_requirements())


def test_environment_yml_python_satisfies_requires_python():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(p) for p in re.fullmatch(r">=(\d+)\.(\d+)", requires).groups())
    dependencies = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    python = next(d for d in dependencies if isinstance(d, str) and d.startswith("python="))
    assert tuple(int(p) for p in python.split("=")[1].split(".")) >= minimum


def ci_commands():
    """The lines of .ci/run marked as the README's set-up and test commands."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return {
        tag: line.split("#")[0].strip()
        for line in lines
        for tag in ("set-up", "test")
        if line.endswith(f"# README: {tag}")
    }


def test_ci_runs_exactly_the_readme_commands():
    commands = ci_commands()
    assert set(commands) == {"set-up", "test"}
    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    for command in commands.values():
        assert f"\n{command}\n" in quick_start, f"README's quick start does not show `{command}` on a line of its own"
