"""Lab 07 stage 4: a Triton model repository, every config.pbtxt written from parameters.

Layout (``target="embedded"``, the CPU server in the nvidia-pytriton wheel)::

    models/
      preprocess/config.pbtxt   backend "python": runs 1/model.dali with DALI on the CPU
      preprocess/1/model.dali   serialised serving_pipeline() (decode, resize, normalise)
      preprocess/1/model.py
      classifier/config.pbtxt   backend "python": runs 1/model.onnx with ONNX Runtime
      classifier/1/model.onnx
      classifier/1/model.py
      classifier/labels.txt
      pipeline/config.pbtxt     platform "ensemble": IMAGE (encoded bytes) -> preprocess
                                -> classifier -> LOGITS (with the labels)
      pipeline/labels.txt
      pipeline/1/

``target="ngc"`` (the NGC tritonserver container on a GPU) keeps the same names and files
but serves ``classifier`` with ``platform: "onnxruntime_onnx"`` (optionally through the
TensorRT accelerator) and ``preprocess`` with ``backend: "dali"`` and a ``model.dali``
that decodes on the GPU. Field meanings: shared/reference/perf.md §1.4 (dynamic batching,
instance groups, ensembles) and §1.6 (Python backend); the TensorRT accelerator block is
the one in triton-inference-server/onnxruntime_backend's README.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import export as export_mod

__all__ = ["TensorSpec", "DynamicBatching", "InstanceGroup", "EnsembleStep", "ModelConfig",
           "parse_config", "classifier_config", "preprocess_config", "ensemble_config",
           "write_model", "add_classifier", "build_repository", "Repository", "TARGETS",
           "IMAGE_INPUT", "DALI_INPUT", "DALI_OUTPUT"]

TARGETS = ("embedded", "ngc")
IMAGE_INPUT = "IMAGE"                               # the ensemble's input: encoded bytes
DALI_INPUT, DALI_OUTPUT = "DALI_INPUT_0", "DALI_OUTPUT_0"  # the DALI backend's names
_DATA_TYPES = {"TYPE_BOOL", "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64",
               "TYPE_INT8", "TYPE_INT16", "TYPE_INT32", "TYPE_INT64", "TYPE_FP16",
               "TYPE_FP32", "TYPE_FP64", "TYPE_STRING", "TYPE_BF16"}
_BACKENDS = Path(__file__).with_name("backends")


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: name, Triton data type, dims without the batch dimension."""

    name: str
    data_type: str
    dims: tuple[int, ...]
    allow_ragged_batch: bool = False
    label_filename: str = ""

    def render(self, indent: str) -> str:
        if self.data_type not in _DATA_TYPES:
            raise ValueError(f"tensor '{self.name}': data_type '{self.data_type}' is not a "
                             f"Triton type (valid: {', '.join(sorted(_DATA_TYPES))})")
        parts = [f'name: "{self.name}"', f"data_type: {self.data_type}",
                 f"dims: [ {', '.join(str(d) for d in self.dims)} ]"]
        if self.allow_ragged_batch:
            parts.append("allow_ragged_batch: true")
        if self.label_filename:
            parts.append(f'label_filename: "{self.label_filename}"')
        inner = "\n".join(f"{indent}    {p}" for p in parts)
        return f"{indent}  {{\n{inner}\n{indent}  }}"


@dataclass(frozen=True)
class DynamicBatching:
    """``dynamic_batching { }``: delay in microseconds; preferred sizes are rarely useful."""

    max_queue_delay_microseconds: int = 0
    preferred_batch_size: tuple[int, ...] = ()


@dataclass(frozen=True)
class InstanceGroup:
    """``instance_group``: ``count`` copies of the model on KIND_CPU or KIND_GPU."""

    count: int = 1
    kind: str = "KIND_CPU"
    gpus: tuple[int, ...] = ()


@dataclass(frozen=True)
class EnsembleStep:
    """One step: the model's tensor names (keys) mapped to ensemble tensor names (values)."""

    model_name: str
    input_map: dict[str, str]
    output_map: dict[str, str]
    model_version: int = -1


@dataclass(frozen=True)
class ModelConfig:
    """A model's config.pbtxt. Exactly one of ``backend`` or ``platform`` is set.

    ``versions_to_serve``: None keeps Triton's default policy (the latest version);
    ``"all"``, or a tuple of version numbers (``specific``).
    """

    name: str
    backend: str = ""
    platform: str = ""
    max_batch_size: int = 0
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    dynamic_batching: DynamicBatching | None = None
    instance_groups: tuple[InstanceGroup, ...] = ()
    versions_to_serve: str | tuple[int, ...] | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    steps: tuple[EnsembleStep, ...] = ()
    tensorrt_precision: str = ""  # "FP16" / "FP32": ONNX Runtime's TensorRT accelerator

    def validate(self) -> None:
        """Raise ValueError naming the field, the value and what Triton accepts."""
        if bool(self.backend) == bool(self.platform):
            raise ValueError(f"model '{self.name}': set exactly one of backend or platform "
                             f"(got backend='{self.backend}', platform='{self.platform}')")
        if self.max_batch_size < 0:
            raise ValueError(f"model '{self.name}': max_batch_size {self.max_batch_size} "
                             f"must be >= 0 (0 disables batching)")
        if self.dynamic_batching is not None:
            if self.max_batch_size == 0:
                raise ValueError(f"model '{self.name}': dynamic_batching needs "
                                 f"max_batch_size > 0 (got 0)")
            too_big = [s for s in self.dynamic_batching.preferred_batch_size
                       if not 0 < s <= self.max_batch_size]
            if too_big:
                raise ValueError(f"model '{self.name}': preferred_batch_size {too_big} must "
                                 f"be between 1 and max_batch_size {self.max_batch_size}")
            if self.dynamic_batching.max_queue_delay_microseconds < 0:
                raise ValueError(f"model '{self.name}': max_queue_delay_microseconds must "
                                 f"be >= 0")
        for group in self.instance_groups:
            if group.count < 1 or group.kind not in ("KIND_CPU", "KIND_GPU", "KIND_AUTO"):
                raise ValueError(f"model '{self.name}': instance_group count {group.count} "
                                 f"kind {group.kind} (need count >= 1 and KIND_CPU, "
                                 f"KIND_GPU or KIND_AUTO)")
        if self.platform == "ensemble":
            if self.instance_groups:
                raise ValueError(f"model '{self.name}': an ensemble cannot have an "
                                 f"instance_group; set it on the composing models")
            if not self.steps:
                raise ValueError(f"model '{self.name}': an ensemble needs steps")

    def to_pbtxt(self) -> str:
        """The config.pbtxt text (protobuf text format of Triton's ModelConfig)."""
        self.validate()
        lines = [f'name: "{self.name}"']
        lines.append(f'backend: "{self.backend}"' if self.backend
                     else f'platform: "{self.platform}"')
        lines.append(f"max_batch_size: {self.max_batch_size}")
        if self.versions_to_serve == "all":
            lines.append("version_policy: { all: { } }")
        elif self.versions_to_serve:
            versions = ", ".join(str(v) for v in self.versions_to_serve)
            lines.append(f"version_policy: {{ specific: {{ versions: [ {versions} ] }} }}")
        for key, specs in (("input", self.inputs), ("output", self.outputs)):
            if specs:
                lines.append(f"{key} [\n" + ",\n".join(s.render("") for s in specs) + "\n]")
        if self.dynamic_batching is not None:
            body = []
            if self.dynamic_batching.preferred_batch_size:
                sizes = ", ".join(str(s) for s in self.dynamic_batching.preferred_batch_size)
                body.append(f"  preferred_batch_size: [ {sizes} ]")
            if self.dynamic_batching.max_queue_delay_microseconds:
                body.append("  max_queue_delay_microseconds: "
                            f"{self.dynamic_batching.max_queue_delay_microseconds}")
            lines.append("dynamic_batching {\n" + "\n".join(body) + ("\n" if body else "")
                         + "}")
        if self.instance_groups:
            groups = []
            for g in self.instance_groups:
                gpus = f", gpus: [ {', '.join(map(str, g.gpus))} ]" if g.gpus else ""
                groups.append(f"  {{ count: {g.count}, kind: {g.kind}{gpus} }}")
            lines.append("instance_group [\n" + ",\n".join(groups) + "\n]")
        for key, value in sorted(self.parameters.items()):
            lines.append(f'parameters {{ key: "{key}" value: {{ string_value: "{value}" }} }}')
        if self.tensorrt_precision:
            lines.append(
                "optimization { execution_accelerators {\n"
                "  gpu_execution_accelerator: [ {\n"
                '    name: "tensorrt"\n'
                f'    parameters {{ key: "precision_mode" value: "{self.tensorrt_precision}" }}\n'
                '    parameters { key: "max_workspace_size_bytes" value: "1073741824" }\n'
                "  } ]\n"
                "} }")
        if self.steps:
            steps = []
            for s in self.steps:
                maps = "".join(
                    f"\n      {kind} {{ key: \"{k}\" value: \"{v}\" }}"
                    for kind, mapping in (("input_map", s.input_map),
                                          ("output_map", s.output_map))
                    for k, v in mapping.items())
                steps.append(f'    {{\n      model_name: "{s.model_name}"\n'
                             f"      model_version: {s.model_version}{maps}\n    }}")
            lines.append("ensemble_scheduling {\n  step [\n" + ",\n".join(steps) + "\n  ]\n}")
        return "\n".join(lines) + "\n"


def parse_config(text: str):
    """Parse config.pbtxt text with Triton's own ModelConfig protobuf (from tritonclient).

    Raises ValueError with the parser's line and column for a field Triton does not know.
    """
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    try:
        return text_format.Parse(text, model_config_pb2.ModelConfig())
    except text_format.ParseError as exc:
        raise ValueError(f"config.pbtxt is not a valid Triton ModelConfig: {exc}") from exc


def classifier_config(name: str = "classifier", *, target: str = "embedded", size: int,
                      num_classes: int, max_batch_size: int = 8,
                      dynamic_batching: DynamicBatching | None = DynamicBatching(100),
                      instances: int = 1, versions_to_serve=None,
                      emulated_batch_us: int = 0, tensorrt_precision: str = "",
                      analogue_overlap: float = 0.0, analogue_devices: int = 1) -> ModelConfig:
    """The classifier: ``images`` (FP32 3 x size x size) -> ``logits`` (FP32 classes).

    ``emulated_batch_us`` > 0 (embedded only) makes each execution take at least that long,
    whatever the batch size: an *accelerator analogue* (see ``backends/onnx_classifier.py``).
    Its instances share ``analogue_devices`` analogue devices; ``analogue_overlap`` is the
    fraction of an execution that can run beside another instance's.
    """
    _check_target(target)
    inputs = (TensorSpec(export_mod.INPUT_NAME, "TYPE_FP32", (3, size, size)),)
    outputs = (TensorSpec(export_mod.OUTPUT_NAME, "TYPE_FP32", (num_classes,),
                          label_filename="labels.txt"),)
    params = {}
    if target == "embedded":
        params = {"onnx_file": "model.onnx", "intra_op_threads": "1"}
        if emulated_batch_us:
            params["emulated_batch_us"] = str(int(emulated_batch_us))
            params["analogue_overlap"] = f"{float(analogue_overlap):g}"
            params["analogue_devices"] = str(int(analogue_devices))
    elif emulated_batch_us:
        raise ValueError("emulated_batch_us is an analogue for the embedded CPU server; "
                         "on the NGC target the GPU itself does the batching work")
    return ModelConfig(
        name=name, backend="python" if target == "embedded" else "",
        platform="" if target == "embedded" else "onnxruntime_onnx",
        max_batch_size=max_batch_size, inputs=inputs, outputs=outputs,
        dynamic_batching=dynamic_batching,
        instance_groups=(InstanceGroup(instances,
                                       "KIND_CPU" if target == "embedded" else "KIND_GPU"),),
        versions_to_serve=versions_to_serve, parameters=params,
        tensorrt_precision=tensorrt_precision if target == "ngc" else "")


def preprocess_config(name: str = "preprocess", *, target: str = "embedded", size: int,
                      max_batch_size: int = 8,
                      dynamic_batching: DynamicBatching | None = DynamicBatching(100),
                      threads: int = 1) -> ModelConfig:
    """Preprocessing: ``DALI_INPUT_0`` (encoded image bytes) -> ``DALI_OUTPUT_0`` (FP32 CHW)."""
    _check_target(target)
    # The Python backend gets each request's tensor separately, so requests whose byte
    # lengths differ can share a batch (allow_ragged_batch). The DALI backend wants one
    # shape per batch (perf.md §2.4), so there the client pads.
    inputs = (TensorSpec(DALI_INPUT, "TYPE_UINT8", (-1,),
                         allow_ragged_batch=target == "embedded"),)
    outputs = (TensorSpec(DALI_OUTPUT, "TYPE_FP32", (3, size, size)),)
    if target == "embedded":
        return ModelConfig(name=name, backend="python", max_batch_size=max_batch_size,
                           inputs=inputs, outputs=outputs, dynamic_batching=dynamic_batching,
                           instance_groups=(InstanceGroup(1, "KIND_CPU"),),
                           parameters={"dali_file": "model.dali", "threads": str(threads)})
    return ModelConfig(name=name, backend="dali", max_batch_size=max_batch_size,
                       inputs=inputs, outputs=outputs, dynamic_batching=dynamic_batching,
                       instance_groups=(InstanceGroup(1, "KIND_GPU"),))


def ensemble_config(name: str = "pipeline", *, size: int, num_classes: int,
                    max_batch_size: int = 8, preprocess: str = "preprocess",
                    classifier: str = "classifier") -> ModelConfig:
    """``IMAGE`` (encoded bytes) -> preprocess -> classifier -> ``LOGITS`` (with labels)."""
    return ModelConfig(
        name=name, platform="ensemble", max_batch_size=max_batch_size,
        inputs=(TensorSpec(IMAGE_INPUT, "TYPE_UINT8", (-1,)),),
        outputs=(TensorSpec("LOGITS", "TYPE_FP32", (num_classes,),
                            label_filename="labels.txt"),),
        steps=(EnsembleStep(preprocess, {DALI_INPUT: IMAGE_INPUT}, {DALI_OUTPUT: "images"}),
               EnsembleStep(classifier, {export_mod.INPUT_NAME: "images"},
                            {export_mod.OUTPUT_NAME: "LOGITS"})))


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"target '{target}' is not one of {', '.join(TARGETS)}")


def write_model(root: str | Path, config: ModelConfig, files: dict[str, Path | bytes] | None = None,
                *, versions: tuple[int, ...] = (1,), labels: list[str] | None = None) -> Path:
    """Write ``root/<name>/config.pbtxt`` and each version folder with ``files`` in it."""
    model_dir = Path(root) / config.name
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True)
    (model_dir / "config.pbtxt").write_text(config.to_pbtxt())
    if labels is not None:
        (model_dir / "labels.txt").write_text("\n".join(labels) + "\n")
    for version in versions:
        vdir = model_dir / str(version)
        vdir.mkdir()
        for name, content in (files or {}).items():
            if isinstance(content, bytes):
                (vdir / name).write_bytes(content)
            else:
                shutil.copyfile(content, vdir / name)
    return model_dir


def add_classifier(root: str | Path, onnx_path: str | Path, *, classes: list[str],
                   target: str = "embedded", versions: tuple[int, ...] = (1,),
                   **config_kwargs) -> Path:
    """One classifier model (any name, batching and instance settings) in ``root``."""
    config = classifier_config(target=target, num_classes=len(classes), **config_kwargs)
    files: dict[str, Path | bytes] = {"model.onnx": Path(onnx_path)}
    if target == "embedded":
        files["model.py"] = _BACKENDS / "onnx_classifier.py"
    return write_model(root, config, files, versions=versions, labels=classes)


@dataclass(frozen=True)
class Repository:
    """A written repository: its root folder and the models in it."""

    root: Path
    target: str
    models: tuple[str, ...]


def build_repository(root: str | Path, onnx_path: str | Path, *, classes: list[str],
                     size: int, target: str = "embedded", max_batch_size: int = 8,
                     queue_delay_us: int | None = 100, instances: int = 1,
                     versions: tuple[int, ...] = (1,), tensorrt_precision: str = "FP16",
                     emulated_batch_us: int = 0) -> Repository:
    """Write preprocess + classifier + pipeline (ensemble) for ``target``.

    ``queue_delay_us=None`` turns dynamic batching off (each request runs alone).
    """
    _check_target(target)
    from .etl import serialize_serving_pipeline

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    batching = None if queue_delay_us is None else DynamicBatching(queue_delay_us)
    add_classifier(root, onnx_path, classes=classes, target=target, versions=versions,
                   size=size, max_batch_size=max_batch_size, dynamic_batching=batching,
                   instances=instances, emulated_batch_us=emulated_batch_us,
                   versions_to_serve=versions if len(versions) > 1 else None,
                   tensorrt_precision=tensorrt_precision)
    with tempfile.TemporaryDirectory() as tmp:
        dali_file = serialize_serving_pipeline(Path(tmp) / "model.dali",
                                               batch_size=max_batch_size, size=size,
                                               gpu=target == "ngc")
        pre_files: dict[str, Path | bytes] = {"model.dali": dali_file.read_bytes()}
    if target == "embedded":
        pre_files["model.py"] = _BACKENDS / "dali_preprocess.py"
    write_model(root, preprocess_config(target=target, size=size,
                                        max_batch_size=max_batch_size,
                                        dynamic_batching=batching), pre_files)
    write_model(root, ensemble_config(size=size, num_classes=len(classes),
                                      max_batch_size=max_batch_size), {}, labels=classes)
    return Repository(root, target, ("preprocess", "classifier", "pipeline"))
