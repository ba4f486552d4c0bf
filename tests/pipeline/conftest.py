"""Shared fixtures for the Lab 07 pipeline tests: a small dataset, a briefly trained model,
its ONNX file and a serving repository, built once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from labkit.pipeline.dataset import CLASSES, DatasetSpec, make_shapes_dataset

SIZE = 32  # small images keep the fixtures fast; the lab uses 48
SMALL = DatasetSpec(train_per_class=24, val_per_class=6, image_size=64)


@dataclass(frozen=True)
class Trained:
    data: Path
    checkpoints: Path
    checkpoint: Path
    onnx: Path
    model: object
    classes: list[str]


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(root, SMALL)
    return root


@pytest.fixture(scope="session")
def trained(small_data, tmp_path_factory) -> Trained:
    """One epoch of training (accuracy is not the point here), exported to ONNX."""
    from labkit.pipeline.export import export_onnx
    from labkit.pipeline.train import TrainConfig, load_model, train

    out = tmp_path_factory.mktemp("checkpoints")
    result = train(TrainConfig(data=str(small_data), out=str(out), epochs=1, size=SIZE,
                               batch_size=16), progress=False)
    model, state = load_model(result.checkpoint)
    onnx = export_onnx(model, out / "model.onnx", size=SIZE)
    return Trained(small_data, out, result.checkpoint, onnx, model, state["classes"])


@pytest.fixture(scope="session")
def repository(trained, tmp_path_factory):
    from labkit.pipeline.repository import build_repository

    return build_repository(tmp_path_factory.mktemp("models"), trained.onnx,
                            classes=list(CLASSES), size=SIZE)
