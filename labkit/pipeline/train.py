"""Lab 07 stage 2: train a small CNN in PyTorch, fed by DALI.

- ``ShapesNet``: three strided conv blocks, global average pooling, one linear layer
  (about 25 k parameters; float32 NCHW input of ``size`` x ``size``).
- ``train(config)``: the loop, with a tqdm bar per epoch, a checkpoint written atomically
  after every epoch (temporary file, then ``os.replace``), and resume from the newest one.
- ``_evaluate(model, loader)``: top-1 accuracy, private: Lab 07-2's exercise writes
  its own, and ``train(evaluate_fn=...)`` runs that one.
- DDP: under ``torchrun --nproc_per_node=N`` (``WORLD_SIZE`` > 1) every rank reads its own
  shard and gradients are all-reduced with gloo on CPU or NCCL on GPUs
  (shared/reference/perf.md §4.2). The world size, the backend and the global batch
  (per-rank batch x world size) are recorded in every checkpoint, in every epoch's history
  row and in ``train.json``. Command-line equivalent::

      torchrun --nproc_per_node=2 -m labkit.pipeline train --data build/pipeline/data
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from .dataset import CorruptImageError, name_files, scan_image_folder

__all__ = ["ShapesNet", "TrainConfig", "TrainResult", "train", "save_checkpoint",
           "load_checkpoint", "latest_checkpoint", "load_model", "resolve_device"]

CHECKPOINT_GLOB = "epoch-*.pt"


class ShapesNet(nn.Module):
    """A small CNN for the synthetic shapes: (N, 3, S, S) float32 -> (N, classes) logits.

    Three conv-BN-ReLU-maxpool blocks (``width``, 2x, 4x channels), then a global max
    pool, so a shape anywhere in the image lights up the same features (about 24 k
    parameters at width 16).
    """

    def __init__(self, num_classes: int = 4, width: int = 16):
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                                 nn.ReLU(inplace=True), nn.MaxPool2d(2))

        self.features = nn.Sequential(block(3, width), block(width, 2 * width),
                                      block(2 * width, 4 * width))
        self.head = nn.Linear(4 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).amax(dim=(2, 3)))


@dataclass
class TrainConfig:
    """Everything ``train`` needs; stored in every checkpoint.

    ``data`` holds ``train/`` and ``val/`` ImageFolder splits; ``out`` receives the
    checkpoints. ``loader`` is ``"dali"`` or ``"baseline"``; ``device`` ``"auto"``, ``"cpu"``
    or ``"cuda"``. ``lr`` is Adam's learning rate.

    ``check`` is how the image files are tested before training (``dataset.scan_image_folder``):
    ``"header"`` (fast; a truncated JPEG passes it) or ``"decode"`` (decodes every file).
    ``skip_corrupt=True`` decodes every file and leaves out the ones that fail
    (``TrainResult.skipped``); False stops at the first bad file, naming it.
    """

    data: str
    out: str
    epochs: int = 8
    batch_size: int = 32
    lr: float = 2e-3
    size: int = 48
    seed: int = 0
    loader: str = "dali"
    num_threads: int = 2
    device: str = "auto"
    width: int = 16
    check: str = "header"
    skip_corrupt: bool = False


@dataclass
class TrainResult:
    """What a run did: per-epoch history, final validation accuracy, files written."""

    config: TrainConfig
    history: list[dict] = field(default_factory=list)
    val_accuracy: float = 0.0
    checkpoint: Path | None = None
    resumed_from: int = 0  # epochs already done when this run started
    seconds: float = 0.0
    skipped: list[Path] = field(default_factory=list)  # corrupt files left out
    world_size: int = 1  # processes (DDP ranks) of this run
    backend: str | None = None  # torch.distributed's backend (gloo, nccl); None alone

    @property
    def global_batch_size(self) -> int:
        """Images per optimiser step over all ranks: the per-rank batch x the world size."""
        return self.config.batch_size * self.world_size

    def to_dict(self) -> dict:
        return {"config": asdict(self.config), "history": self.history,
                "val_accuracy": self.val_accuracy,
                "checkpoint": str(self.checkpoint) if self.checkpoint else None,
                "resumed_from": self.resumed_from, "seconds": self.seconds,
                "skipped": [str(p) for p in self.skipped], "world_size": self.world_size,
                "backend": self.backend, "global_batch_size": self.global_batch_size}


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> cuda when torch sees a GPU, else cpu."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA GPU; "
                         "use device='auto' or 'cpu'")
    return torch.device(name)


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write ``state`` with torch.save to a temporary file, then rename it into place.

    A crash mid-write leaves the previous checkpoint intact: ``os.replace`` is atomic on
    one file system.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        torch.save(state, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def latest_checkpoint(out: str | Path) -> Path | None:
    """The checkpoint with the highest epoch number under ``out``, or None."""
    found = sorted(Path(out).glob(CHECKPOINT_GLOB),
                   key=lambda p: int(p.stem.split("-")[1]))
    return found[-1] if found else None


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint dict: ``epoch``, ``model``, ``optimizer``, ``config``, ``classes``, ..."""
    return torch.load(Path(path), map_location="cpu", weights_only=False)


def load_model(path: str | Path) -> tuple[ShapesNet, dict]:
    """The trained model (eval mode, CPU) and its checkpoint dict."""
    state = load_checkpoint(path)
    model = ShapesNet(len(state["classes"]), state["config"].get("width", 16))
    model.load_state_dict(state["model"])
    return model.eval(), state


@torch.no_grad()
def _evaluate(model: nn.Module, loader, device: torch.device | str = "cpu") -> dict:
    """Top-1 accuracy over ``loader``: ``{"correct", "total", "accuracy"}``."""
    was_training = model.training
    model.eval()
    correct = total = 0
    for images, labels in loader:
        logits = model(images.to(device))
        correct += int((logits.argmax(dim=1).cpu() == labels.cpu()).sum())
        total += int(labels.numel())
    model.train(was_training)
    return {"correct": correct, "total": total, "accuracy": correct / total if total else 0.0}


def _make_loader(config: TrainConfig, folder, *, train: bool, device: torch.device,
                 rank: int, world: int):
    from . import etl

    if config.loader == "dali":
        device_id = (device.index or 0) if device.type == "cuda" else None
        return etl.dali_loader(folder, batch_size=config.batch_size, size=config.size,
                               train=train, num_threads=config.num_threads,
                               device_id=device_id, seed=config.seed, shard_id=rank,
                               num_shards=world)
    if config.loader == "baseline":
        return etl.baseline_loader(folder, batch_size=config.batch_size, size=config.size,
                                   train=train, workers=config.num_threads, seed=config.seed)
    raise ValueError(f"loader '{config.loader}' is not 'dali' or 'baseline'")


def _find_corrupt(data: Path) -> list[Path]:
    """Every file under ``data``'s train/ and val/ that does not decode fully."""
    return [path for split in ("train", "val")
            for path in scan_image_folder(data / split, check="decode",
                                          skip_corrupt=True).skipped]


def _corrupt_error(bad: list[Path], cause: Exception) -> CorruptImageError:
    return CorruptImageError(
        f"training stopped: {len(bad)} image file(s) do not decode (truncated or corrupt): "
        f"{name_files(bad)}; delete or replace them, or rerun with --skip-corrupt "
        f"(TrainConfig(skip_corrupt=True)) to leave them out "
        f"({type(cause).__name__} in the input pipeline)")


def _distributed(device: torch.device | None = None) -> tuple[int, int]:
    """(rank, world size), initialising torch.distributed when torchrun started us.

    The backend follows the training device: NCCL for CUDA, gloo for the CPU (``--device
    cpu`` on a GPU machine too). ``device=None``: CUDA when torch sees a GPU.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        cuda = torch.cuda.is_available() if device is None else device.type == "cuda"
        dist.init_process_group("nccl" if cuda else "gloo")
    return dist.get_rank(), world


def _backend() -> str:
    import torch.distributed as dist

    return dist.get_backend()


def train(config: TrainConfig, *, progress: bool = True, evaluate_fn=None) -> TrainResult:
    """Train (or resume) ``ShapesNet`` on ``config.data``; checkpoint after every epoch.

    ``evaluate_fn(model, loader) -> accuracy`` replaces ``_evaluate`` for the validation
    pass (the lab passes the student's). Only rank 0 writes checkpoints and shows bars.
    """
    start = time.perf_counter()
    device = resolve_device(config.device)
    rank, world = _distributed(device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.manual_seed(config.seed)
    check = "decode" if config.skip_corrupt else config.check
    train_folder = scan_image_folder(Path(config.data) / "train", check=check,
                                     skip_corrupt=config.skip_corrupt)
    val_folder = scan_image_folder(Path(config.data) / "val", check=check,
                                   skip_corrupt=config.skip_corrupt)
    model = ShapesNet(len(train_folder.classes), config.width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    result = TrainResult(config, skipped=train_folder.skipped + val_folder.skipped,
                         world_size=world, backend=_backend() if world > 1 else None)
    out = Path(config.out)
    last = latest_checkpoint(out)
    if last is not None:
        state = load_checkpoint(last)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        result.history = state.get("history", [])
        result.resumed_from = state["epoch"]
        result.checkpoint = last
    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model)
    loss_fn = nn.CrossEntropyLoss()
    try:  # DALI's iterator reads its first batch when it is made
        train_loader = _make_loader(config, train_folder, train=True, device=device,
                                    rank=rank, world=world)
        val_loader = _make_loader(config, val_folder, train=False, device=device, rank=0,
                                  world=1)
        for epoch in range(result.resumed_from + 1, config.epochs + 1):
            net.train()
            batches = train_loader
            if progress and rank == 0:
                from tqdm.auto import tqdm

                # TQDM_DISABLE=1 in the environment turns the bar off (the notebooks do so
                # in quick mode, so no "0%" line is saved in executed outputs).
                batches = tqdm(train_loader, desc=f"epoch {epoch}/{config.epochs}",
                               unit="batch", leave=False)
            seen, loss_sum, epoch_start = 0, 0.0, time.perf_counter()
            for images, labels in batches:
                images, labels = images.to(device), labels.to(device)
                loss = loss_fn(net(images), labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                seen += int(labels.numel())
                loss_sum += loss.item() * int(labels.numel())
            accuracy = (evaluate_fn or (lambda m, ld: _evaluate(m, ld, device)["accuracy"]))(
                model, val_loader)
            record = {"epoch": epoch, "loss": loss_sum / max(seen, 1), "val_accuracy": accuracy,
                      "images_per_s": seen * world / (time.perf_counter() - epoch_start),
                      "world_size": world, "global_batch_size": result.global_batch_size,
                      "samples_per_rank": seen}  # images this rank (rank 0) trained on
            result.history.append(record)
            if progress and rank == 0:
                print(f"epoch {epoch}: loss {record['loss']:.4f}, val accuracy {accuracy:.3f}, "
                      f"{record['images_per_s']:.0f} img/s")
            if rank == 0:
                result.checkpoint = save_checkpoint(out / f"epoch-{epoch:03d}.pt", {
                    "epoch": epoch, "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "config": asdict(config),
                    "classes": train_folder.classes, "history": result.history,
                    "world_size": world, "backend": result.backend})
    except (RuntimeError, OSError) as exc:
        # A file the scan let through (check="header" passes a truncated JPEG) ends in a
        # long DALI "Critical error in pipeline" (or PIL's OSError); name the file instead.
        if check == "decode":
            raise
        bad = _find_corrupt(Path(config.data))
        if not bad:
            raise
        raise _corrupt_error(bad, exc) from None
    if result.history:
        result.val_accuracy = result.history[-1]["val_accuracy"]
    result.seconds = time.perf_counter() - start
    if rank == 0:
        with contextlib.suppress(OSError):
            (out / "train.json").write_text(json.dumps(result.to_dict(), indent=2))
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    return result
