"""``python -m labkit.pipeline STAGE`` (and ``labkit pipeline STAGE``): Lab 07 from a shell.

Stages: ``all`` (what ``make pipeline`` runs), ``dataset``, ``etl``, ``train``, ``export``,
``repo``, ``serve``, ``infer``, ``sweep``. Each reuses what earlier stages left in the
workspace (``--out``, default build/pipeline) and builds what is missing. Errors end as
one ``ERROR:`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["build_parser", "main", "train_script", "inference_script", "positive_int"]

STAGES = ("all", "dataset", "etl", "train", "export", "repo", "serve", "infer", "sweep")


def positive_int(text: str) -> int:
    """argparse type: an integer of 1 or more (counts and sizes)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number; "
                                         f"give a positive integer such as 8") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive; give 1 or more")
    return value


def _add_corrupt_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", choices=["header", "decode"], default=None,
                        help="how image files are tested before training: header (fast, "
                             "the default; a truncated JPEG passes) or decode (every file "
                             "decoded; the default with --skip-corrupt)")
    parser.add_argument("--skip-corrupt", action="store_true",
                        help="leave out image files that do not decode (named in the "
                             "output) instead of stopping at the first one")


def _print_skipped(skipped: list) -> None:
    from .dataset import name_files

    if skipped:
        print(f"skipped {len(skipped)} corrupt image file(s): {name_files(skipped)}")


def _print_predictions(files: list[Path], classify) -> int:
    """Run ``classify()`` and print one line per file; 0 when all were classified, else 1.

    Bad files (``ImageErrors``) are reported one per line on stderr, by path.
    """
    from .client import ImageErrors

    try:
        preds = classify()
        failed: list[tuple[str, str]] = []
    except ImageErrors as exc:
        preds, failed = exc.predictions, exc.failed
    for path, pred in zip(files, preds, strict=True):
        if pred is not None:
            print(f"{path}: {pred.label} ({pred.score:.3f})")
    for name, reason in failed:
        print(f"ERROR: {name}: {reason}", file=sys.stderr)
    if failed:
        print(f"ERROR: {len(failed)} of {len(files)} images could not be classified; replace "
              f"or remove the files named above", file=sys.stderr)
    return 1 if failed else 0


def build_parser(prog: str = "python -m labkit.pipeline") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=STAGES, help="what to run (all: every stage)")
    parser.add_argument("--out", type=Path, default=Path("build/pipeline"),
                        help="workspace folder (default: build/pipeline)")
    parser.add_argument("--quick", action="store_true",
                        help="the notebooks' smaller profile (shorter windows, fewer levels)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="train: epochs (override)")
    parser.add_argument("--loader", choices=["dali", "baseline"], default="dali",
                        help="train: the input pipeline")
    parser.add_argument("--target", choices=["embedded", "ngc"], default="embedded",
                        help="repo: the embedded CPU server or the NGC container")
    parser.add_argument("--url", default=None,
                        help="infer/sweep: a running server (host:port); default: start "
                             "the embedded server on the workspace's repository")
    parser.add_argument("--protocol", choices=["http", "grpc"], default="grpc")
    parser.add_argument("--model", default="pipeline", help="infer: model to ask")
    parser.add_argument("--slo-ms", type=float, default=25.0,
                        help="all/sweep: the p99 latency objective for the choice")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_corrupt_options(parser)
    parser.add_argument("images", nargs="*", type=Path, help="infer: image files")
    return parser


def _infer(args, ws, profile) -> int:
    from .client import TritonClient
    from .server import TritonServer
    from .workflow import ensure_repository

    images = args.images or sorted((ws.data / "val").glob("*/*.jpg"))[:8]
    if not images:
        raise FileNotFoundError("no image given and no dataset in the workspace; pass "
                                "image files or run the 'dataset' stage first")
    missing = [str(p) for p in images if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such image file: {', '.join(missing)}")

    def classify(url: str) -> int:
        with TritonClient(url, args.protocol) as client:
            return _print_predictions(images, lambda: client.classify(images,
                                                                      model=args.model))

    if args.url:
        return classify(args.url)
    repo = ensure_repository(ws, profile, seed=args.seed, progress=not args.quiet)
    with TritonServer(repo.root, workdir=ws.root, log_path=ws.log("tritonserver")) as server:
        return classify(server.grpc_address if args.protocol == "grpc"
                        else server.http_address)


def _sweep(args, ws, profile) -> int:
    from . import loadtest
    from .optimise import SWEEP_CONFIGS, build_sweep_repository, run_sweep
    from .server import TritonServer
    from .workflow import ensure_onnx

    if args.url:
        results = run_sweep(args.url, profile, protocol=args.protocol,
                            progress=not args.quiet)
    else:
        ensure_onnx(ws, profile, seed=args.seed, progress=not args.quiet)
        build_sweep_repository(ws.sweep_models, ws.onnx, profile, SWEEP_CONFIGS)
        with TritonServer(ws.sweep_models, workdir=ws.root,
                          log_path=ws.log("tritonserver-sweep")) as server:
            results = run_sweep(server.grpc_address, profile, protocol=args.protocol,
                                progress=not args.quiet)
    points = [p for pts in results.values() for p in pts]
    paths = loadtest.write_config_csvs(results, ws.sweep_csv)
    for p in points:
        print(f"{p.label:<32} c={p.concurrency:<3} {p.infer_per_s:8.0f} infer/s  "
              f"p50 {p.p50_us / 1e3:6.1f} ms  p99 {p.p99_us / 1e3:6.1f} ms  "
              f"batch {p.avg_batch:.1f}")
    print(f"CSV per configuration (perf_analyzer's columns): "
          f"{', '.join(str(p) for p in paths.values())}")
    return 0


def run(args) -> int:
    from dataclasses import replace

    from .workflow import FULL, QUICK, Workspace

    profile = QUICK if args.quick else FULL
    if args.epochs:
        profile = replace(profile, epochs=args.epochs)
    ws = Workspace(args.out)
    progress = not args.quiet
    if args.stage == "all":
        from .workflow import run_all

        run_all(ws.root, quick=args.quick, seed=args.seed, progress=progress,
                slo_p99_ms=args.slo_ms)
        return 0
    if args.stage == "dataset":
        from .workflow import ensure_dataset

        splits = ensure_dataset(ws, profile, progress=progress)
        for name, folder in splits.items():
            print(f"{name}: {len(folder)} images in {folder.root} {folder.counts()}")
    elif args.stage == "etl":
        from .workflow import etl_benchmark

        print(json.dumps(etl_benchmark(ws, profile, progress=progress), indent=2))
    elif args.stage == "train":
        from .train import train
        from .workflow import _train_config, ensure_dataset

        ensure_dataset(ws, profile, progress=progress)
        config = _train_config(ws, profile, args.seed)
        config.loader = args.loader
        config.check = args.check or "header"
        config.skip_corrupt = args.skip_corrupt
        result = train(config, progress=progress)
        _print_skipped(result.skipped)
        print(f"val accuracy {result.val_accuracy:.3f}; checkpoint {result.checkpoint}")
    elif args.stage == "export":
        from .workflow import ensure_onnx

        print(json.dumps(ensure_onnx(ws, profile, seed=args.seed, progress=progress),
                         indent=2))
    elif args.stage == "repo":
        from .workflow import ensure_repository

        repo = ensure_repository(ws, profile, target=args.target, seed=args.seed,
                                 progress=progress)
        print(f"{repo.target} repository: {repo.root} ({', '.join(repo.models)})")
    elif args.stage == "serve":
        import signal
        import threading

        from .server import TritonServer
        from .workflow import ensure_repository

        repo = ensure_repository(ws, profile, seed=args.seed, progress=progress)
        with TritonServer(repo.root, workdir=ws.root, log_path=ws.log("tritonserver")) as s:
            print(f"serving {repo.root}: HTTP {s.http_address}, gRPC {s.grpc_address}, "
                  f"metrics {s.metrics_url}; Ctrl+C stops", flush=True)
            done = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: done.set())
            try:
                while not done.wait(1.0):
                    if s.process is None or s.process.poll() is not None:
                        raise RuntimeError(f"tritonserver exited; log: {s.log_path}")
            except KeyboardInterrupt:
                pass
    elif args.stage == "infer":
        return _infer(args, ws, profile)
    elif args.stage == "sweep":
        return _sweep(args, ws, profile)
    return 0


def _say(line: str) -> None:
    """One line in one write: lines of ranks sharing a pipe never interleave mid-line."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _cli_device(name: str):
    """``resolve_device(name)``, refused in the CLI's words.

    The library's message names the Python argument (``device='auto'``); a shell user typed
    ``--device``, so the CLI says that instead.
    """
    from .train import resolve_device

    try:
        return resolve_device(name)
    except ValueError:
        raise ValueError(f"--device {name}: torch sees no CUDA GPU on this machine; use "
                         f"--device auto (the GPU when there is one, else the CPU) or "
                         f"--device cpu") from None


def _announce_ranks(device) -> None:
    """Under torchrun: rank 0 says how many processes and which backend, then every rank
    says where it runs. Nothing for a single process."""
    import os

    from .train import _distributed  # joins the process group that train() then uses

    rank, world = _distributed(device)
    if world == 1:
        return
    import torch
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":  # the GPU train() gives this rank
        device = torch.device("cuda", local)
    if rank == 0:
        here = os.environ.get("LOCAL_WORLD_SIZE", str(world))
        _say(f"distributed: {world} processes (world size {world}; {here} on this node), "
             f"backend {dist.get_backend()}")
    dist.barrier()  # the summary line first, then one line per rank
    _say(f"rank {rank}/{world}: local rank {local}, pid {os.getpid()}, device {device}")


def _guarded(func, args) -> int:
    from .client import ClientError
    from .dataset import CorruptImageError
    from .server import TritonServerError

    try:
        return func(args)
    except (ClientError, CorruptImageError, TritonServerError, ValueError,
            FileNotFoundError, RuntimeError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2


def train_script(argv: list[str] | None = None, prog: str = "train.py") -> int:
    """The outline's training script: data -> DALI -> PyTorch -> checkpoint -> ONNX.

    Works under torchrun too (DDP with gloo on CPU, NCCL on GPUs).
    """
    parser = argparse.ArgumentParser(
        prog=prog, description="Train the Lab 07 classifier from an ImageFolder (DALI feeds "
        "PyTorch), export it to ONNX and write the Triton model repository. Without --data "
        "it draws the synthetic shapes dataset first. Under torchrun it trains with DDP.")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder with train/ and val/ ImageFolder splits "
                             "(default: the synthetic set in OUT/data)")
    parser.add_argument("--out", type=Path, default=Path("build/pipeline"),
                        help="workspace for checkpoints, model.onnx, models/ (default: "
                             "build/pipeline)")
    parser.add_argument("--epochs", type=positive_int, default=8)
    parser.add_argument("--batch-size", type=positive_int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--size", type=positive_int, default=48, help="input size in pixels")
    parser.add_argument("--loader", choices=["dali", "baseline"], default="dali")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=positive_int, default=2,
                        help="DALI threads / workers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=["embedded", "ngc"], default="embedded",
                        help="repository layout: embedded CPU server or the NGC container")
    parser.add_argument("--no-export", action="store_true", help="stop after training")
    _add_corrupt_options(parser)
    args = parser.parse_args(argv)

    def run_training(args) -> int:
        import os
        from dataclasses import replace

        from . import export
        from .dataset import scan_image_folder
        from .etl import dali_loader
        from .optimise import SWEEP_CONFIGS, build_sweep_repository
        from .repository import build_repository
        from .train import TrainConfig, load_model, train
        from .workflow import FULL, Workspace, ensure_dataset

        device = _cli_device(args.device)  # before any work: a wrong option fails at once
        _announce_ranks(device)
        ws = Workspace(args.out)
        data = args.data
        if data is None:
            data = ws.data
            if int(os.environ.get("RANK", "0")) == 0:
                ensure_dataset(ws, FULL)
        result = train(TrainConfig(
            data=str(data), out=str(ws.checkpoints), epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, size=args.size, seed=args.seed,
            loader=args.loader, num_threads=args.threads, device=args.device,
            check=args.check or "header", skip_corrupt=args.skip_corrupt))
        if int(os.environ.get("RANK", "0")) != 0:
            return 0
        _print_skipped(result.skipped)
        print(f"val accuracy {result.val_accuracy:.4f}; checkpoint {result.checkpoint}")
        if args.no_export:
            return 0
        model, state = load_model(result.checkpoint)
        export.export_onnx(model, ws.onnx, size=args.size)
        val = scan_image_folder(Path(data) / "val", check="none")
        val.files = [f for f in val.files if f not in result.skipped]  # corrupt ones out
        images, _ = next(iter(dali_loader(val, batch_size=64, size=args.size, train=False)))
        diff = export.parity(model, ws.onnx, images)
        print(f"ONNX {ws.onnx} (opset {export.OPSET}): max |diff| vs PyTorch {diff:.2e} "
              f"({'ok' if diff <= export.PARITY_TOLERANCE else 'TOO LARGE'})")
        root = ws.models if args.target == "embedded" else ws.models_ngc
        profile = replace(FULL, size=args.size)
        repo = build_repository(root, ws.onnx, classes=state["classes"], size=args.size,
                                target=args.target, max_batch_size=profile.max_batch_size)
        models = list(repo.models)
        if args.target == "ngc":  # the load-test variants docker/perf-analyzer/sweep.sh asks
            build_sweep_repository(root, ws.onnx, profile, SWEEP_CONFIGS, target="ngc",
                                   classes=state["classes"], clean=False)
            models += [c.name for c in SWEEP_CONFIGS]
        print(f"Triton repository ({repo.target}): {repo.root} ({', '.join(models)})")
        return 0 if diff <= export.PARITY_TOLERANCE else 1

    return _guarded(run_training, args)


def inference_script(argv: list[str] | None = None, prog: str = "inference.py") -> int:
    """The outline's inference client: image files -> Triton -> class and score."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Classify images with the Lab 07 model on Triton. With --url "
        "it talks to a running server (the docker-compose triton-server: 127.0.0.1:8001 "
        "gRPC, 127.0.0.1:8000 HTTP); without, it starts the embedded server on --repo.")
    parser.add_argument("images", nargs="+", type=Path,
                        help="image files, or folders whose images are all sent")
    parser.add_argument("--url", default=None, help="host:port of a running server")
    parser.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    parser.add_argument("--model", default="pipeline",
                        help="the ensemble taking encoded images (default: pipeline)")
    parser.add_argument("--repo", type=Path, default=Path("build/pipeline/models"),
                        help="repository for the embedded server (made by train.py)")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="images per request (default: the model's max_batch_size)")
    args = parser.parse_args(argv)

    def run_inference(args) -> int:
        from .client import TritonClient
        from .dataset import IMAGE_SUFFIXES
        from .server import TritonServer

        files: list[Path] = []
        for item in args.images:
            if item.is_dir():
                files += sorted(p for p in item.rglob("*")
                                if p.suffix.lower() in IMAGE_SUFFIXES)
            elif item.is_file():
                files.append(item)
            else:
                raise FileNotFoundError(f"{item} is neither an image file nor a folder")
        if not files:
            raise FileNotFoundError("no image found in the given paths")

        def classify(url: str) -> int:
            from .client import ImageErrors

            preds: list = []

            def ask():
                try:
                    preds[:] = client.classify(files, model=args.model,
                                               batch_size=args.batch_size)
                except ImageErrors as exc:
                    preds[:] = exc.predictions
                    raise
                return preds

            with TritonClient(url, args.protocol) as client:
                code = _print_predictions(files, ask)
            done = [(p, f) for p, f in zip(preds, files, strict=True) if p is not None]
            matched = sum(p.label == f.parent.name for p, f in done)
            print(f"{matched}/{len(done)} predictions match the image's folder name "
                  f"(ImageFolder layout: the folder is the true class)")
            return code

        if args.url:
            return classify(args.url)
        if not (args.repo / args.model / "config.pbtxt").is_file():
            raise FileNotFoundError(f"no model '{args.model}' in {args.repo}; run train.py "
                                    f"first, or pass --url of a running server")
        with TritonServer(args.repo, workdir=args.repo.parent,
                          log_path=args.repo.parent / "tritonserver.log") as server:
            return classify(server.grpc_address if args.protocol == "grpc"
                            else server.http_address)

    return _guarded(run_inference, args)


def main(argv: list[str] | None = None, prog: str = "python -m labkit.pipeline") -> int:
    return _guarded(run, build_parser(prog).parse_intermixed_args(argv))


if __name__ == "__main__":
    sys.exit(main())
