"""Lab 07 end to end: the stages in order, sharing one workspace folder.

``run_all()`` is ``make pipeline`` (``python -m labkit.pipeline all``): dataset, ETL
benchmark, train, export, repository, serve, infer, sweep, stop. It prints a short report,
writes ``<workspace>/report.json`` and leaves no server running. The notebooks call the
``ensure_*`` helpers, which reuse what an earlier stage (or notebook) already made and
build whatever is missing, so each notebook also runs alone.

Workspace layout::

    data/            the synthetic ImageFolder (train/, val/, dataset.json)
    checkpoints/     epoch-NNN.pt, train.json
    model.onnx
    models/          the serving repository (preprocess, classifier, pipeline)
    models-ngc/      the NGC container's repository, with the load-test variants
    sweep-models/    classifier variants for the load test
    sweep/           one perf_analyzer-format CSV per configuration (<config>.csv)
    sweep.json, latency_throughput.png, report.json, tritonserver*.log
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .dataset import DatasetSpec, make_shapes_dataset
from .optimise import (
    CPU_CONFIGS,
    SWEEP_CONFIGS,
    _choose_configuration,
    batching_gain,
    build_sweep_repository,
    run_sweep,
    sweep_rows,
)

__all__ = ["DEFAULT_ROOT", "Profile", "QUICK", "FULL", "Workspace", "ensure_dataset",
           "etl_benchmark", "ensure_model", "ensure_onnx", "ensure_repository", "run_all",
           "format_report", "save_stage", "RESULTS_FILE"]

RESULTS_FILE = "results.json"  # one file every Lab 07 notebook updates with its stage

DEFAULT_ROOT = Path("build/pipeline")  # make pipeline's workspace, relative to the repo


@dataclass(frozen=True)
class Profile:
    """Sizes for one run. ``window_s`` is the load test's measurement window."""

    name: str
    dataset: DatasetSpec
    epochs: int
    etl_epochs: int
    concurrencies: tuple[int, ...]
    window_s: float
    size: int = 48
    batch_size: int = 32
    threads: int = 2
    max_batch_size: int = 8
    etl_repeats: int = 1


QUICK = Profile("quick", DatasetSpec(train_per_class=500, val_per_class=100), epochs=8,
                etl_epochs=2, concurrencies=(1, 4, 16), window_s=0.5)
FULL = Profile("full", DatasetSpec(train_per_class=500, val_per_class=100), epochs=8,
               etl_epochs=2, concurrencies=(1, 2, 4, 8, 16), window_s=1.0, etl_repeats=3)


@dataclass(frozen=True)
class Workspace:
    """Paths under one root folder (created on first use)."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))
        self.root.mkdir(parents=True, exist_ok=True)

    data = property(lambda self: self.root / "data")
    checkpoints = property(lambda self: self.root / "checkpoints")
    onnx = property(lambda self: self.root / "model.onnx")
    models = property(lambda self: self.root / "models")
    models_ngc = property(lambda self: self.root / "models-ngc")  # docker-compose mounts it
    sweep_models = property(lambda self: self.root / "sweep-models")
    sweep_csv = property(lambda self: self.root / "sweep")  # <config>.csv, perf_analyzer's
    report = property(lambda self: self.root / "report.json")

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"


def save_stage(out: str | Path, stage: str, data: dict) -> Path:
    """Write ``out/<stage>.json`` and merge ``data`` into ``out/results.json`` (Lab 07).

    Each notebook records its stage, so tests and later notebooks can read the results.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stage}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    results = out / RESULTS_FILE
    merged = json.loads(results.read_text()) if results.is_file() else {}
    merged[stage] = data
    tmp = results.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged, indent=2, default=str))
    tmp.replace(results)
    return path


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, flush=True)


def ensure_dataset(ws: Workspace, profile: Profile, *, progress: bool = True) -> dict:
    """The synthetic dataset (drawn once; the manifest makes reruns free)."""
    return make_shapes_dataset(ws.data, profile.dataset, progress=progress)


def etl_benchmark(ws: Workspace, profile: Profile, *, progress: bool = True) -> dict:
    """DALI (CPU, ``threads`` threads) vs PIL + DataLoader (``threads`` workers), same run.

    The two loaders take turns ``etl_repeats`` times and each reports its median, so a
    burst of load from elsewhere on the machine hits both alike.
    """
    import statistics

    from . import etl

    train = ensure_dataset(ws, profile, progress=progress)["train"]
    common = {"batch_size": 64, "size": profile.size, "train": True}
    result = {"images": len(train), "epochs": profile.etl_epochs, "threads": profile.threads,
              "batch_size": 64, "size": profile.size, "repeats": profile.etl_repeats}
    loaders = {
        "dali": lambda: etl.dali_loader(train, num_threads=profile.threads,
                                        device_id=etl.default_device_id(), **common),
        "baseline": lambda: etl.baseline_loader(train, workers=profile.threads, **common),
    }
    runs: dict[str, list[float]] = {name: [] for name in loaders}
    for repeat in range(profile.etl_repeats):
        for name, make in loaders.items():
            label = f"ETL {name} ({repeat + 1}/{profile.etl_repeats})" if progress else None
            speed = etl.measure_throughput(make(), epochs=profile.etl_epochs, progress=label)
            runs[name].append(speed.images_per_s)
    for name, values in runs.items():
        result[f"{name}_img_s"] = statistics.median(values)
        result[f"{name}_runs"] = [round(v, 1) for v in values]
    result["ratio"] = result["dali_img_s"] / result["baseline_img_s"]
    return result


def _train_config(ws: Workspace, profile: Profile, seed: int):
    from .train import TrainConfig

    return TrainConfig(data=str(ws.data), out=str(ws.checkpoints), epochs=profile.epochs,
                       batch_size=profile.batch_size, size=profile.size, seed=seed,
                       num_threads=profile.threads)


def ensure_model(ws: Workspace, profile: Profile, *, seed: int = 0, progress: bool = True,
                 evaluate_fn=None):
    """Train (or resume, or reuse) the classifier; returns ``train.TrainResult``.

    Checkpoints written for another configuration are deleted, never mixed in.
    """
    from .train import latest_checkpoint, load_checkpoint, train

    ensure_dataset(ws, profile, progress=progress)
    config = _train_config(ws, profile, seed)
    last = latest_checkpoint(ws.checkpoints)
    if last is not None:
        stored = load_checkpoint(last)["config"]
        keys = ("data", "epochs", "batch_size", "lr", "size", "seed", "loader", "width")
        if any(stored.get(k) != getattr(config, k) for k in keys):
            shutil.rmtree(ws.checkpoints)
    return train(config, progress=progress, evaluate_fn=evaluate_fn)


def ensure_onnx(ws: Workspace, profile: Profile, *, seed: int = 0,
                progress: bool = True) -> dict:
    """``model.onnx`` from the newest checkpoint, with its parity check."""
    from . import export
    from .dataset import scan_image_folder
    from .etl import dali_loader
    from .train import latest_checkpoint, load_model

    last = latest_checkpoint(ws.checkpoints)
    if last is None or load_model(last)[1]["epoch"] < profile.epochs:
        ensure_model(ws, profile, seed=seed, progress=progress)
        last = latest_checkpoint(ws.checkpoints)
    model, state = load_model(last)
    if not ws.onnx.is_file() or ws.onnx.stat().st_mtime < last.stat().st_mtime:
        export.export_onnx(model, ws.onnx, size=profile.size)
    val = scan_image_folder(ws.data / "val", check="none")
    images, _ = next(iter(dali_loader(val, batch_size=64, size=profile.size, train=False)))
    diff = export.parity(model, ws.onnx, images)
    return {"onnx": str(ws.onnx), "opset": export.OPSET, "checkpoint": str(last),
            "classes": state["classes"], "max_abs_diff": diff,
            "parity_ok": diff <= export.PARITY_TOLERANCE}


def ensure_repository(ws: Workspace, profile: Profile, *, target: str = "embedded",
                      seed: int = 0, progress: bool = True):
    """The serving repository: ``models/``, or ``models-ngc/`` for the NGC container.

    The NGC repository also holds the load test's classifier variants
    (``optimise.SWEEP_CONFIGS`` on the GPU, without the analogue).
    """
    from .repository import build_repository

    exported = ensure_onnx(ws, profile, seed=seed, progress=progress)
    root = ws.models if target == "embedded" else ws.models_ngc
    repo = build_repository(root, ws.onnx, classes=exported["classes"], size=profile.size,
                            target=target, max_batch_size=profile.max_batch_size)
    if target == "ngc":  # the load test's variants, for the SDK container's perf_analyzer
        build_sweep_repository(root, ws.onnx, profile, SWEEP_CONFIGS, target="ngc",
                               classes=exported["classes"], clean=False)
    return repo


@dataclass
class _Timer:
    stages: dict = field(default_factory=dict)

    def stage(self, name: str, progress: bool):
        timer = self

        class _Ctx:
            def __enter__(self):
                _say(progress, f"== {name}")
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timer.stages[name] = round(time.perf_counter() - self.start, 2)

        return _Ctx()


def run_all(root: str | Path = DEFAULT_ROOT, *, quick: bool = False, seed: int = 0,
            progress: bool = True, slo_p99_ms: float = 25.0) -> dict:
    """Every stage on this machine; returns (and writes) the report."""
    from . import loadtest
    from .client import TritonClient
    from .server import TritonServer

    start = time.perf_counter()
    profile = QUICK if quick else FULL
    ws = Workspace(root)
    timer = _Timer()
    report: dict = {"profile": profile.name, "workspace": str(ws.root)}
    with timer.stage("dataset", progress):
        splits = ensure_dataset(ws, profile, progress=progress)
        report["dataset"] = {k: len(v) for k, v in splits.items()}
    with timer.stage("etl", progress):
        report["etl"] = etl_benchmark(ws, profile, progress=progress)
    with timer.stage("train", progress):
        trained = ensure_model(ws, profile, seed=seed, progress=progress)
        report["train"] = {"val_accuracy": trained.val_accuracy, "epochs": profile.epochs,
                           "resumed_from": trained.resumed_from,
                           "seconds": round(trained.seconds, 2)}
    with timer.stage("export", progress):
        report["export"] = ensure_onnx(ws, profile, seed=seed, progress=progress)
    with timer.stage("repository", progress):
        ensure_repository(ws, profile, seed=seed, progress=progress)
        ngc = ensure_repository(ws, profile, target="ngc", seed=seed, progress=progress)
        report["repository"] = {"embedded": str(ws.models), "ngc": str(ngc.root)}
    with timer.stage("serve + infer", progress), \
            TritonServer(ws.models, workdir=ws.root, log_path=ws.log("tritonserver")) as server:
        val = sorted((ws.data / "val").glob("*/*.jpg"))[:: max(1, len(splits["val"]) // 32)]
        served = {}
        for protocol, address in (("http", server.http_address),
                                  ("grpc", server.grpc_address)):
            with TritonClient(address, protocol) as client:
                predictions = client.classify(val)
                served[protocol] = sum(p.label == f.parent.name
                                       for p, f in zip(predictions, val, strict=True))
        report["serve"] = {"images": len(val), **{f"{k}_correct": v for k, v in served.items()}}
    with timer.stage("sweep", progress):
        build_sweep_repository(ws.sweep_models, ws.onnx, profile)
        with TritonServer(ws.sweep_models, workdir=ws.root,
                          log_path=ws.log("tritonserver-sweep")) as server:
            results = run_sweep(server.grpc_address, profile, progress=progress)
            results |= run_sweep(server.grpc_address, profile, CPU_CONFIGS,
                                 concurrencies=(16,), progress=progress)
        points = [p for pts in results.values() for p in pts]
        loadtest.write_config_csvs(results, ws.sweep_csv)
        loadtest.plot_latency_throughput(
            {c.label: results[c.name] for c in SWEEP_CONFIGS}, ws.root / "latency_throughput.png",
            title="classifier, accelerator analogue (2,040 us per execution)",
            slo_ms=slo_p99_ms)
        rows = sweep_rows(results)
        (ws.root / "sweep.json").write_text(json.dumps([p.to_dict() for p in points], indent=2))
        report["sweep"] = rows
        report["batching_gain"] = {
            "analogue": batching_gain(results, "nobatch_1", "batch_1"),
            "cpu": batching_gain(results, "cpu_nobatch_1", "cpu_batch_1")}
        analogue_rows = [r for r in rows if not r["config"].startswith("cpu_")]
        report["choice"] = {"slo_p99_ms": slo_p99_ms,
                            "best": _choose_configuration(analogue_rows, slo_p99_ms)}
        report["errors"] = sum(p.errors for p in points)
    report["stages_s"] = timer.stages
    report["wall_s"] = round(time.perf_counter() - start, 1)
    report["profile_settings"] = asdict(profile)
    ws.report.write_text(json.dumps(report, indent=2, default=str))
    print(format_report(report), flush=True)  # always: it is what `make pipeline` shows
    return report


def format_report(report: dict) -> str:
    """The short text summary ``make pipeline`` prints."""
    etl, gain = report["etl"], report["batching_gain"]
    best = report["choice"]["best"]
    lines = [
        f"pipeline report ({report['profile']} profile, {report['workspace']})",
        f"  ETL           DALI {etl['dali_img_s']:,.0f} img/s vs PIL+DataLoader "
        f"{etl['baseline_img_s']:,.0f} img/s: {etl['ratio']:.2f}x "
        f"({etl['threads']} threads / workers)",
        f"  training      val accuracy {report['train']['val_accuracy']:.3f} after "
        f"{report['train']['epochs']} epochs",
        f"  export        ONNX opset {report['export']['opset']}, max |diff| vs PyTorch "
        f"{report['export']['max_abs_diff']:.1e}",
        f"  serving       {report['serve']['http_correct']}/{report['serve']['images']} "
        f"correct over HTTP, {report['serve']['grpc_correct']}/{report['serve']['images']}"
        f" over gRPC",
        f"  batching c16  {gain['analogue']['ratio']:.1f}x with the accelerator analogue "
        f"({gain['analogue']['without_infer_s']:,.0f} -> "
        f"{gain['analogue']['with_infer_s']:,.0f} infer/s); "
        f"{gain['cpu']['ratio']:.1f}x on this CPU "
        f"({gain['cpu']['without_infer_s']:,.0f} -> {gain['cpu']['with_infer_s']:,.0f})",
    ]
    if best:
        lines.append(f"  choice        {best['label']} at concurrency {best['concurrency']}: "
                     f"{best['infer_per_s']:,.0f} infer/s, p99 {best['p99_ms']:.1f} ms "
                     f"(SLO {report['choice']['slo_p99_ms']:g} ms)")
    lines.append(f"  wall time     {report['wall_s']:.0f} s; {report['errors']} failed "
                 f"requests; report: {Path(report['workspace']) / 'report.json'}")
    return "\n".join(lines)
