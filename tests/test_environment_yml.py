"""environment.yml is the conda twin of pyproject.toml: the same pins, nothing more."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(req: str) -> str:
    return req.replace(" ", "").lower()


def test_environment_yml_mirrors_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = project["dependencies"] + project["optional-dependencies"]["dev"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = [p for p in pip if p != "-e ."]
    assert sorted(map(_normalise, conda_pins)) == sorted(map(_normalise, pins))
    assert "-e ." in pip, "the conda env installs labkit itself"


def test_every_dependency_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        spec = req.split(";")[0]
        assert "==" in spec, f"{req} is not pinned with =="


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    minor = python.split("=")[1]
    assert project["requires-python"] == ">=3.10,<3.13" and minor in {"3.10", "3.11", "3.12"}
