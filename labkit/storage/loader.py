"""PyTorch DataLoader settings, one named tuple of knobs, and a throughput measurement.

Lab 05: "loader tuning". The knobs and their defaults are PyTorch's
(``torch.utils.data.DataLoader``, https://docs.pytorch.org/docs/stable/data.html; ref §3.2):

- ``num_workers`` (default 0: load in the training process, in series with compute);
- ``prefetch_factor``: batches loaded ahead *per worker* (None with 0 workers, else 2);
- ``pin_memory``: page-locked host batches, for asynchronous ``.to("cuda", non_blocking=True)``
  copies; without a GPU there is nothing to pin for, and PyTorch ignores it;
- ``persistent_workers``: keep the workers between epochs instead of starting new ones.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

__all__ = ["LoaderConfig", "make_loader", "LoaderResult", "measure_loader"]


@dataclass(frozen=True)
class LoaderConfig:
    """The DataLoader settings under test (``batch_size`` in samples)."""

    num_workers: int = 0
    prefetch_factor: int | None = None
    pin_memory: bool = False
    persistent_workers: bool = False
    batch_size: int = 32

    def __post_init__(self):
        if self.num_workers < 0:
            raise ValueError(f"num_workers {self.num_workers} must be >= 0")
        if self.num_workers == 0 and (self.prefetch_factor is not None
                                      or self.persistent_workers):
            raise ValueError("prefetch_factor and persistent_workers need num_workers > 0 "
                             f"(got num_workers=0, prefetch_factor={self.prefetch_factor}, "
                             f"persistent_workers={self.persistent_workers})")
        if self.prefetch_factor is not None and self.prefetch_factor < 1:
            raise ValueError(f"prefetch_factor {self.prefetch_factor} must be >= 1 or None")

    @property
    def label(self) -> str:
        text = f"workers={self.num_workers}"
        if self.num_workers:
            text += f" prefetch={self.prefetch_factor or 2}"
        if self.pin_memory:
            text += " pin"
        if self.persistent_workers:
            text += " persistent"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


def make_loader(dataset: Dataset, cfg: LoaderConfig, *, shuffle: bool = False,
                seed: int = 0) -> DataLoader:
    """A DataLoader with ``cfg``'s settings. A `TarShards` that batches in its workers gets
    ``batch_size=None`` (its items are already batches)."""
    batched = getattr(dataset, "batch_size", None) is not None
    iterable = isinstance(dataset, IterableDataset)
    kwargs = dict(num_workers=cfg.num_workers, pin_memory=cfg.pin_memory,
                  persistent_workers=cfg.persistent_workers)
    if cfg.num_workers:
        kwargs["prefetch_factor"] = cfg.prefetch_factor or 2
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=None if batched else cfg.batch_size,
                      shuffle=shuffle and not iterable, generator=generator, **kwargs)


@dataclass(frozen=True)
class LoaderResult:
    """Epochs over a dataset with no compute: the loader's own ceiling in samples/s, and
    the wait for each epoch's first batch (worker start-up plus the first batch's work)."""

    config: LoaderConfig
    samples: int
    seconds: float
    epoch_first_batch_s: tuple[float, ...]

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds

    @property
    def epochs(self) -> int:
        return len(self.epoch_first_batch_s)

    @property
    def restart_s(self) -> float:
        """Mean wait for the first batch of the epochs after the first (0 with one epoch)."""
        later = self.epoch_first_batch_s[1:]
        return sum(later) / len(later) if later else 0.0

    def to_dict(self) -> dict:
        return {**self.config.to_dict(), "label": self.config.label, "samples": self.samples,
                "seconds": self.seconds, "epoch_first_batch_s": list(self.epoch_first_batch_s),
                "restart_s": self.restart_s, "samples_per_s": self.samples_per_s}


def _batch_len(batch) -> int:
    first = batch[0] if isinstance(batch, (list, tuple)) else batch
    return len(first)


def measure_loader(dataset: Dataset, cfg: LoaderConfig, *, epochs: int = 1,
                   shuffle: bool = False) -> LoaderResult:
    """Iterate ``epochs`` epochs as fast as possible (no compute). Worker start-up is
    included, as a training job pays it; ``persistent_workers`` pays it once."""
    loader = make_loader(dataset, cfg, shuffle=shuffle)
    samples, firsts = 0, []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        start = time.perf_counter()
        for _ in range(epochs):
            t_epoch = time.perf_counter()
            for i, batch in enumerate(loader):
                if i == 0:
                    firsts.append(time.perf_counter() - t_epoch)
                samples += _batch_len(batch)
        seconds = time.perf_counter() - start
    del loader  # stops persistent workers
    return LoaderResult(cfg, samples, seconds, tuple(firsts))
