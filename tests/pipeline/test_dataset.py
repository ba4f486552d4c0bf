"""The synthetic ImageFolder: deterministic files, the layout, corrupt-file handling."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from PIL import Image

from labkit.pipeline.dataset import (
    CLASSES,
    CorruptImageError,
    DatasetSpec,
    make_shapes_dataset,
    scan_image_folder,
)

TINY = DatasetSpec(train_per_class=3, val_per_class=2, image_size=40)


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.jpg"))}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    make_shapes_dataset(tmp_path / "a", TINY)
    make_shapes_dataset(tmp_path / "b", TINY)
    make_shapes_dataset(tmp_path / "c", DatasetSpec(**{**TINY.__dict__, "seed": 1}))
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_layout_counts_and_labels(tmp_path):
    splits = make_shapes_dataset(tmp_path, TINY)
    assert splits["train"].classes == sorted(CLASSES) == list(CLASSES)
    assert splits["train"].counts() == {c: 3 for c in CLASSES}
    assert splits["val"].counts() == {c: 2 for c in CLASSES}
    for path, label in zip(splits["train"].files, splits["train"].labels, strict=True):
        assert path.parent.name == CLASSES[label]
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.size == (40, 40) and img.mode == "RGB"


def test_second_call_with_the_same_spec_writes_nothing(tmp_path):
    make_shapes_dataset(tmp_path, TINY)
    first = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*.jpg"))
    make_shapes_dataset(tmp_path, TINY)
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*.jpg")) == first


def test_a_changed_spec_redraws(tmp_path):
    make_shapes_dataset(tmp_path, TINY)
    before = _digest(tmp_path)
    make_shapes_dataset(tmp_path, DatasetSpec(**{**TINY.__dict__, "noise": 30.0}))
    assert _digest(tmp_path) != before


@pytest.fixture
def folder(tmp_path):
    make_shapes_dataset(tmp_path, TINY)
    return tmp_path / "train"


CORRUPT = [
    pytest.param("text.jpg", lambda good: b"this is not an image at all", id="text-named-jpg"),
    pytest.param("cut.jpg", lambda good: good[:200], id="truncated-jpeg"),
    pytest.param("empty.png", lambda good: b"", id="empty-file"),
    pytest.param("notes.txt", lambda good: b"labels are folder names", id="non-image-suffix"),
]


@pytest.mark.parametrize(("name", "content"), CORRUPT)
def test_a_corrupt_file_is_named_in_the_error(folder, name, content):
    good = next((folder / "circle").glob("*.jpg")).read_bytes()
    bad = folder / "square" / name
    bad.write_bytes(content(good))
    with pytest.raises(CorruptImageError, match="skip_corrupt=True") as info:
        scan_image_folder(folder)
    assert str(bad) in str(info.value)


@pytest.mark.parametrize(("name", "content"), CORRUPT)
def test_corrupt_files_are_skipped_and_counted_when_asked(folder, name, content):
    good = next((folder / "circle").glob("*.jpg")).read_bytes()
    (folder / "square" / name).write_bytes(content(good))
    (folder / "cross" / name).write_bytes(content(good))
    scanned = scan_image_folder(folder, skip_corrupt=True)
    assert sorted(p.parent.name for p in scanned.skipped) == ["cross", "square"]
    assert len(scanned) == 4 * 3
    assert all(p.name != name for p in scanned.files)


def test_header_check_misses_a_truncated_jpeg_that_decode_catches(folder):
    good = next((folder / "circle").glob("*.jpg")).read_bytes()
    (folder / "circle" / "cut.jpg").write_bytes(good[:len(good) // 2])
    assert len(scan_image_folder(folder, check="header")) == 4 * 3 + 1
    with pytest.raises(CorruptImageError, match="cut.jpg"):
        scan_image_folder(folder, check="decode")


def test_hidden_files_are_ignored(folder):
    (folder / "circle" / ".DS_Store").write_bytes(b"\x00\x01")
    assert len(scan_image_folder(folder)) == 4 * 3


@pytest.mark.parametrize(("setup", "message"), [
    pytest.param(lambda root: None, "does not exist", id="missing-folder"),
    pytest.param(lambda root: root.mkdir(), "no class subfolders", id="no-classes"),
    pytest.param(lambda root: (root / "circle").mkdir(parents=True), "no readable image",
                 id="empty-classes"),
])
def test_unusable_folders_are_explained(tmp_path, setup, message):
    root = tmp_path / "data"
    setup(root)
    with pytest.raises(FileNotFoundError, match=message):
        scan_image_folder(root)


def test_any_imagefolder_is_accepted_with_sorted_class_order(tmp_path, folder):
    other = tmp_path / "mine"
    for name, src in (("zebra", "circle"), ("apple", "square")):
        shutil.copytree(folder / src, other / name)
    scanned = scan_image_folder(other)
    assert scanned.classes == ["apple", "zebra"]
    assert scanned.counts() == {"apple": 3, "zebra": 3}


def test_unknown_check_is_refused(folder):
    with pytest.raises(ValueError, match="decode, header, none"):
        scan_image_folder(folder, check="fast")
