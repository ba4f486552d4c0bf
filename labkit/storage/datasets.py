"""One synthetic image dataset, stored three ways: small JPEG files, tar shards, one array.

Lab 05: "data formats". The layouts:

- ``jpeg-files``: ``root/cls{label}/{index:08d}.jpg``, one file per sample (the ImageFolder
  layout that many training sets start in);
- ``tar-shards``: ``root/shard-{k:06d}.tar`` holding ``{index:08d}.jpg`` + ``{index:08d}.cls``
  pairs, WebDataset's convention (samples grouped by the file name before the first dot;
  https://github.com/webdataset/webdataset README), written as plain POSIX ustar;
- ``npy-mmap``: ``root/images.npy`` (N, H, W, 3) uint8 and ``root/labels.npy``, read back with
  ``numpy.load(mmap_mode="r")``: decoded pixels, no decode cost, more bytes.

The JPEG files and the shards hold the same encoded bytes, so their read throughput differs
only by the layout. Datasets belong in a temporary folder, never in the repository.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["StoredDataset", "synthetic_images", "encode_jpegs", "write_jpeg_files",
           "write_tar_shards", "write_array", "write_all_formats", "FORMATS"]

FORMATS = ("jpeg-files", "tar-shards", "npy-mmap")


@dataclass(frozen=True)
class StoredDataset:
    """A dataset on disk: its format, folder, files, sample count and bytes on disk."""

    format: str
    root: Path
    files: tuple[Path, ...]
    samples: int
    nbytes: int
    image_size: int
    labels: tuple[int, ...] = field(repr=False, default=())

    @property
    def mean_sample_bytes(self) -> float:
        return self.nbytes / max(1, self.samples)


def synthetic_images(n: int, size: int = 96, classes: int = 4,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` RGB images (n, size, size, 3) uint8 and their labels (n,) int64.

    Smooth gradients and waves plus mild noise, so that JPEG sizes resemble photographs'
    more than pure noise (which does not compress) or flat colour (which compresses to
    nothing). The label sets the dominant colour channel, so it is learnable.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    grid = np.linspace(0.0, 1.0, size, dtype=np.float32)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        a = rng.uniform(0.0, 1.0, (3, 3)).astype(np.float32)
        fx, fy = rng.uniform(1.0, 4.0, 2)
        wave = np.sin(6.2832 * (fx * xx + fy * yy))
        img = a[:, 0, None, None] * xx + a[:, 1, None, None] * yy + a[:, 2, None, None] * wave
        img = img.transpose(1, 2, 0) * 110.0 + 50.0
        img[..., labels[i] % 3] += 60.0
        img += rng.normal(0.0, 6.0, img.shape).astype(np.float32)
        images[i] = np.clip(img, 0, 255)
    return images, labels.astype(np.int64)


def encode_jpegs(images: np.ndarray, quality: int = 90) -> list[bytes]:
    """JPEG-encode each image with PIL (Pillow) at ``quality``."""
    from PIL import Image

    out = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=quality)
        out.append(buf.getvalue())
    return out


def _size(files) -> int:
    return sum(f.stat().st_size for f in files)


def write_jpeg_files(jpegs: list[bytes], labels: np.ndarray, root: str | Path,
                     image_size: int) -> StoredDataset:
    """One file per sample under ``root/cls{label}/``."""
    root = Path(root)
    files = []
    for index, (data, label) in enumerate(zip(jpegs, labels, strict=True)):
        path = root / f"cls{int(label)}" / f"{index:08d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files.append(path)
    return StoredDataset("jpeg-files", root, tuple(files), len(files), _size(files),
                         image_size, tuple(int(x) for x in labels))


def write_tar_shards(jpegs: list[bytes], labels: np.ndarray, root: str | Path,
                     image_size: int, samples_per_shard: int = 256) -> StoredDataset:
    """WebDataset-style shards of ``samples_per_shard`` samples (``.jpg`` + ``.cls``)."""
    if samples_per_shard < 1:
        raise ValueError(f"samples_per_shard {samples_per_shard} must be >= 1")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for start in range(0, len(jpegs), samples_per_shard):
        path = root / f"shard-{start // samples_per_shard:06d}.tar"
        with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
            for index in range(start, min(start + samples_per_shard, len(jpegs))):
                for ext, data in (("jpg", jpegs[index]), ("cls", str(int(labels[index])).encode())):
                    info = tarfile.TarInfo(f"{index:08d}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        files.append(path)
    return StoredDataset("tar-shards", root, tuple(files), len(jpegs), _size(files),
                         image_size, tuple(int(x) for x in labels))


def write_array(images: np.ndarray, labels: np.ndarray, root: str | Path) -> StoredDataset:
    """``images.npy`` and ``labels.npy``, decoded pixels for ``numpy.load(mmap_mode="r")``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "images.npy", images)
    np.save(root / "labels.npy", labels)
    files = (root / "images.npy", root / "labels.npy")
    return StoredDataset("npy-mmap", root, files, len(images), _size(files), images.shape[1],
                         tuple(int(x) for x in labels))


def write_all_formats(root: str | Path, n: int, size: int = 96, *, quality: int = 90,
                      samples_per_shard: int = 256, seed: int = 0) -> dict[str, StoredDataset]:
    """The same ``n`` synthetic images in every format, under ``root/<format>/``."""
    root = Path(root)
    images, labels = synthetic_images(n, size, seed=seed)
    jpegs = encode_jpegs(images, quality)
    return {
        "jpeg-files": write_jpeg_files(jpegs, labels, root / "jpeg-files", size),
        "tar-shards": write_tar_shards(jpegs, labels, root / "tar-shards", size,
                                       samples_per_shard),
        "npy-mmap": write_array(images, labels, root / "npy-mmap"),
    }
