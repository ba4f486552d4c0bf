"""Lab 07 stage 0: the data source, a folder of JPEG files in ImageFolder layout.

``make_shapes_dataset()`` draws a deterministic synthetic classification set (circles,
squares, triangles and crosses in random colours, sizes and positions, with noise) and
writes it as JPEG files::

    ROOT/train/<class>/<class>_00000.jpg ...
    ROOT/val/<class>/<class>_00000.jpg ...

``scan_image_folder()`` indexes that layout, or any other ImageFolder directory (one
subfolder per class, classes in sorted order, as torchvision and DALI's file reader number
them). Files that do not decode raise ``CorruptImageError`` naming the file, or are skipped
and counted with ``skip_corrupt=True``. The same seed always gives byte-identical files.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["CLASSES", "DatasetSpec", "ImageFolder", "CorruptImageError", "make_shapes_dataset",
           "scan_image_folder", "name_files", "IMAGE_SUFFIXES"]

CLASSES = ("circle", "cross", "square", "triangle")  # sorted: the label is the index
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
_SPLITS = {"train": 0, "val": 1}
_MANIFEST = "dataset.json"


class CorruptImageError(ValueError):
    """A file in an image folder is not a decodable image."""


@dataclass(frozen=True)
class DatasetSpec:
    """What ``make_shapes_dataset`` draws; the manifest stores it so reruns can skip work.

    ``image_size`` is in pixels (square images); ``jpeg_quality`` is PIL's 1-95 scale.
    """

    train_per_class: int = 200
    val_per_class: int = 50
    image_size: int = 96
    jpeg_quality: int = 90
    noise: float = 12.0  # std of the Gaussian pixel noise, in 0-255 units
    seed: int = 0
    classes: tuple[str, ...] = CLASSES


@dataclass
class ImageFolder:
    """An indexed ImageFolder split: parallel lists of files and integer labels."""

    root: Path
    classes: list[str]
    files: list[Path]
    labels: list[int]
    skipped: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files)

    def counts(self) -> dict[str, int]:
        """Images per class name."""
        return {c: self.labels.count(i) for i, c in enumerate(self.classes)}


def _draw(rng: np.random.Generator, shape: str, size: int, noise: float) -> Image.Image:
    """One image of ``shape``: random colours, scale, position and rotation, plus noise."""
    background = rng.integers(0, 256, 3)
    # Pick a foreground colour far enough from the background to be visible.
    while True:
        colour = rng.integers(0, 256, 3)
        if np.abs(colour - background).sum() > 200:
            break
    img = Image.new("RGB", (size, size), tuple(int(c) for c in background))
    draw = ImageDraw.Draw(img)
    radius = rng.uniform(0.18, 0.32) * size
    cx, cy = rng.uniform(radius + 2, size - radius - 2, 2)
    angle = rng.uniform(0, 2 * np.pi)
    fill = tuple(int(c) for c in colour)
    if shape == "circle":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fill)
    elif shape in ("square", "triangle"):
        corners = 4 if shape == "square" else 3
        points = [(cx + radius * np.cos(angle + 2 * np.pi * k / corners),
                   cy + radius * np.sin(angle + 2 * np.pi * k / corners))
                  for k in range(corners)]
        draw.polygon(points, fill=fill)
    elif shape == "cross":
        width = max(2.0, radius * 0.45)
        for a in (angle, angle + np.pi / 2):
            dx, dy = radius * np.cos(a), radius * np.sin(a)
            draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=fill, width=int(width))
    else:
        raise ValueError(f"shape '{shape}' is not one of {', '.join(CLASSES)}")
    pixels = np.asarray(img, dtype=np.float32) + rng.normal(0, noise, (size, size, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_shapes_dataset(root: str | Path, spec: DatasetSpec | None = None, *,
                        progress: bool = False) -> dict[str, ImageFolder]:
    """Write the synthetic set under ``root`` (Lab 07) and return its indexed splits.

    A second call with the same spec finds the manifest and writes nothing. Every image
    has its own random stream (seed, split, class, index), so the files do not depend on
    the order they are drawn in.
    """
    spec = spec or DatasetSpec()
    root = Path(root)
    manifest = root / _MANIFEST
    wanted = json.loads(json.dumps({"spec": asdict(spec), "format": 1}))  # tuples -> lists
    if manifest.is_file() and json.loads(manifest.read_text()) == wanted:
        return {split: scan_image_folder(root / split, check="none") for split in _SPLITS}
    manifest.unlink(missing_ok=True)
    jobs = [(split, label, shape, i)
            for split, per_class in (("train", spec.train_per_class),
                                     ("val", spec.val_per_class))
            for label, shape in enumerate(spec.classes) for i in range(per_class)]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="drawing JPEGs", unit="img")
    for split, label, shape, i in jobs:
        rng = np.random.default_rng([spec.seed, _SPLITS[split], label, i])
        path = root / split / shape / f"{shape}_{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        _draw(rng, shape, spec.image_size, spec.noise).save(buf, format="JPEG",
                                                            quality=spec.jpeg_quality)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(path)
    manifest.write_text(json.dumps(wanted, indent=2))
    return {split: scan_image_folder(root / split, check="none") for split in _SPLITS}


def _check_image(path: Path, check: str) -> None:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise CorruptImageError(
            f"{path} is not an image file (suffix '{path.suffix}', expected one of "
            f"{', '.join(IMAGE_SUFFIXES)}); move it out of the class folder, or pass "
            f"skip_corrupt=True to skip such files "
            f"(--skip-corrupt on train.py and python -m labkit.pipeline train)")
    if check == "none":
        return
    try:
        with Image.open(path) as img:
            if check == "decode":
                img.load()
            else:
                img.verify()
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
        raise CorruptImageError(
            f"{path} is not a readable image ({type(exc).__name__}: {exc}); delete or "
            f"replace it, or pass skip_corrupt=True to skip such files "
            f"(--skip-corrupt on train.py and python -m labkit.pipeline train)") from exc


def name_files(paths, most: int = 5) -> str:
    """``a.jpg, b.jpg and 3 more``: the first ``most`` paths of a list for a message."""
    names = ", ".join(str(p) for p in paths[:most])
    return names + (f" and {len(paths) - most} more" if len(paths) > most else "")


def scan_image_folder(root: str | Path, *, skip_corrupt: bool = False,
                      check: str = "decode") -> ImageFolder:
    """Index an ImageFolder split: one subfolder per class, labels in sorted order.

    ``check`` is how hard each file is tested: ``"decode"`` (decode it fully with PIL,
    which catches truncated files), ``"header"`` (open and verify, faster for large sets) or
    ``"none"`` (suffix only). A file whose suffix is not an image suffix counts as a
    non-image file. Hidden files (``.name``) are ignored.
    """
    root = Path(root)
    if check not in ("decode", "header", "none"):
        raise ValueError(f"check '{check}' is not one of decode, header, none")
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist; create it with "
                                f"make_shapes_dataset() or point to an ImageFolder directory")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise FileNotFoundError(f"image folder {root} has no class subfolders "
                                f"(expected {root}/<class>/<image>.jpg)")
    folder = ImageFolder(root, classes, [], [])
    for label, name in enumerate(classes):
        for path in sorted((root / name).iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                _check_image(path, check)
            except CorruptImageError:
                if not skip_corrupt:
                    raise
                folder.skipped.append(path)
                continue
            folder.files.append(path)
            folder.labels.append(label)
    if not folder.files:
        raise FileNotFoundError(f"image folder {root} holds no readable image "
                                f"({len(folder.skipped)} skipped as corrupt)")
    return folder
