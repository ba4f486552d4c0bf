"""config.pbtxt from parameters, checked with Triton's own ModelConfig protobuf."""

from __future__ import annotations

import pytest

from labkit.pipeline.dataset import CLASSES
from labkit.pipeline.repository import (
    DynamicBatching,
    EnsembleStep,
    InstanceGroup,
    ModelConfig,
    TensorSpec,
    build_repository,
    classifier_config,
    ensemble_config,
    parse_config,
    preprocess_config,
)

from .conftest import SIZE

CONFIGS = [
    pytest.param(classifier_config(size=48, num_classes=4), id="classifier-embedded"),
    pytest.param(classifier_config(target="ngc", size=48, num_classes=4,
                                   tensorrt_precision="FP16"), id="classifier-ngc-trt"),
    pytest.param(classifier_config(size=48, num_classes=4, dynamic_batching=None,
                                   instances=2, versions_to_serve=(1, 2)),
                 id="classifier-no-batching-2-instances-2-versions"),
    pytest.param(classifier_config(size=48, num_classes=4, versions_to_serve="all",
                                   dynamic_batching=DynamicBatching(500, (4, 8)),
                                   emulated_batch_us=2040), id="classifier-preferred-sizes"),
    pytest.param(preprocess_config(size=48), id="preprocess-embedded"),
    pytest.param(preprocess_config(target="ngc", size=48), id="preprocess-ngc-dali"),
    pytest.param(ensemble_config(size=48, num_classes=4), id="ensemble"),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_every_config_parses_as_a_triton_model_config(config):
    parsed = parse_config(config.to_pbtxt())
    assert parsed.name == config.name
    assert parsed.max_batch_size == config.max_batch_size
    assert (parsed.backend, parsed.platform) == (config.backend, config.platform)
    assert [i.name for i in parsed.input] == [i.name for i in config.inputs]
    assert [list(i.dims) for i in parsed.input] == [list(i.dims) for i in config.inputs]
    assert parsed.HasField("dynamic_batching") == (config.dynamic_batching is not None)
    if config.dynamic_batching is not None:
        assert (parsed.dynamic_batching.max_queue_delay_microseconds
                == config.dynamic_batching.max_queue_delay_microseconds)
        assert (list(parsed.dynamic_batching.preferred_batch_size)
                == list(config.dynamic_batching.preferred_batch_size))
    assert [(g.count, g.kind) for g in parsed.instance_group] == [
        (g.count, parsed.instance_group[0].Kind.Value(g.kind)) for g in config.instance_groups]
    assert {k: v.string_value for k, v in parsed.parameters.items()} == config.parameters


def test_version_policies():
    specific = parse_config(classifier_config(size=8, num_classes=2,
                                              versions_to_serve=(1, 3)).to_pbtxt())
    assert list(specific.version_policy.specific.versions) == [1, 3]
    every = parse_config(classifier_config(size=8, num_classes=2,
                                           versions_to_serve="all").to_pbtxt())
    assert every.version_policy.HasField("all")
    default = parse_config(classifier_config(size=8, num_classes=2).to_pbtxt())
    assert not default.HasField("version_policy")


def test_ngc_targets_use_the_gpu_backends():
    onnx = parse_config(classifier_config(target="ngc", size=48, num_classes=4,
                                          tensorrt_precision="FP16").to_pbtxt())
    assert onnx.platform == "onnxruntime_onnx" and onnx.instance_group[0].kind == 1  # GPU
    (accelerator,) = onnx.optimization.execution_accelerators.gpu_execution_accelerator
    assert accelerator.name == "tensorrt" and accelerator.parameters["precision_mode"] == "FP16"
    dali = parse_config(preprocess_config(target="ngc", size=48).to_pbtxt())
    assert dali.backend == "dali" and not dali.input[0].allow_ragged_batch
    embedded = parse_config(preprocess_config(size=48).to_pbtxt())
    assert embedded.input[0].allow_ragged_batch


def test_ensemble_wires_preprocess_into_the_classifier():
    parsed = parse_config(ensemble_config(size=48, num_classes=4).to_pbtxt())
    first, second = parsed.ensemble_scheduling.step
    assert (first.model_name, dict(first.input_map)) == ("preprocess",
                                                         {"DALI_INPUT_0": "IMAGE"})
    assert dict(first.output_map)["DALI_OUTPUT_0"] == dict(second.input_map)["images"]
    assert parsed.output[0].label_filename == "labels.txt"


def _cfg(**kw):
    base = {"name": "m", "backend": "python", "max_batch_size": 8}
    return ModelConfig(**{**base, **kw})


@pytest.mark.parametrize(("config", "message"), [
    pytest.param(_cfg(platform="onnxruntime_onnx"), "exactly one of backend or platform",
                 id="backend-and-platform"),
    pytest.param(_cfg(backend=""), "exactly one of backend or platform", id="neither"),
    pytest.param(_cfg(max_batch_size=-1), "must be >= 0", id="negative-batch"),
    pytest.param(_cfg(max_batch_size=0, dynamic_batching=DynamicBatching()),
                 "needs max_batch_size > 0", id="batching-without-batch"),
    pytest.param(_cfg(dynamic_batching=DynamicBatching(100, (4, 16))),
                 r"preferred_batch_size \[16\]", id="preferred-too-big"),
    pytest.param(_cfg(dynamic_batching=DynamicBatching(-5)), "max_queue_delay",
                 id="negative-delay"),
    pytest.param(_cfg(instance_groups=(InstanceGroup(0),)), "count 0", id="zero-instances"),
    pytest.param(_cfg(instance_groups=(InstanceGroup(1, "KIND_TPU"),)), "KIND_TPU",
                 id="unknown-kind"),
    pytest.param(_cfg(backend="", platform="ensemble", instance_groups=(InstanceGroup(),),
                      steps=(EnsembleStep("a", {}, {}),)),
                 "ensemble cannot have an instance_group", id="ensemble-instances"),
    pytest.param(_cfg(backend="", platform="ensemble"), "needs steps", id="ensemble-empty"),
    pytest.param(_cfg(inputs=(TensorSpec("x", "FLOAT32", (3,)),)), "'FLOAT32' is not a Triton",
                 id="bad-dtype"),
])
def test_invalid_configs_are_explained(config, message):
    with pytest.raises(ValueError, match=message):
        config.to_pbtxt()


def test_unknown_target_and_analogue_on_ngc_are_refused():
    with pytest.raises(ValueError, match="embedded, ngc"):
        classifier_config(target="tpu", size=8, num_classes=2)
    with pytest.raises(ValueError, match="analogue"):
        classifier_config(target="ngc", size=8, num_classes=2, emulated_batch_us=100)


def test_parse_config_names_the_bad_field():
    with pytest.raises(ValueError, match="max_batch"):
        parse_config('name: "m"\nmax_batch: 8\n')


@pytest.mark.parametrize("target", ["embedded", "ngc"])
def test_repository_layout(trained, tmp_path, target):
    repo = build_repository(tmp_path / target, trained.onnx, classes=list(CLASSES),
                            size=SIZE, target=target, versions=(1, 2))
    root = repo.root
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    expected = {"classifier/config.pbtxt", "classifier/labels.txt", "classifier/1/model.onnx",
                "classifier/2/model.onnx", "preprocess/config.pbtxt",
                "preprocess/1/model.dali", "pipeline/config.pbtxt", "pipeline/labels.txt"}
    if target == "embedded":
        expected |= {"classifier/1/model.py", "classifier/2/model.py", "preprocess/1/model.py"}
    assert set(files) == expected
    assert (root / "pipeline" / "1").is_dir()
    assert (root / "classifier" / "labels.txt").read_text().split() == list(CLASSES)
    classifier = parse_config((root / "classifier" / "config.pbtxt").read_text())
    assert list(classifier.version_policy.specific.versions) == [1, 2]
    dali = (root / "preprocess" / "1" / "model.dali").read_bytes()
    assert (b"mixed" in dali) == (target == "ngc")
