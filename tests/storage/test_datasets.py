"""The same dataset three ways: what is written, and that every reader gets it back."""

from __future__ import annotations

import tarfile

import numpy as np
import pytest
import torch

from labkit.storage.datasets import FORMATS, synthetic_images, write_all_formats
from labkit.storage.loader import LoaderConfig, make_loader
from labkit.storage.readers import (
    JpegFiles,
    MmapArray,
    TarShards,
    iter_tar,
    make_dataset,
    read_throughput,
)

N, SIZE = 40, 32


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    return write_all_formats(tmp_path_factory.mktemp("ds"), N, SIZE, samples_per_shard=16)


def test_synthetic_images_are_deterministic_and_labelled():
    a, la = synthetic_images(6, 16, seed=3)
    b, lb = synthetic_images(6, 16, seed=3)
    assert a.shape == (6, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, synthetic_images(6, 16, seed=4)[0])
    assert set(la) <= {0, 1, 2, 3}


def test_layouts(stored):
    assert set(stored) == set(FORMATS)
    files, shards, array = stored["jpeg-files"], stored["tar-shards"], stored["npy-mmap"]
    assert len(files.files) == N and files.files[0].parent.name.startswith("cls")
    assert len(shards.files) == 3  # 16 + 16 + 8 samples
    assert array.nbytes > N * SIZE * SIZE * 3  # raw pixels plus .npy headers
    assert all(s.samples == N for s in stored.values())
    assert all(s.nbytes == sum(f.stat().st_size for f in s.files) for s in stored.values())


def test_iter_tar_agrees_with_tarfile(stored):
    path = stored["tar-shards"].files[0]
    data = path.read_bytes()
    with tarfile.open(path) as tar:
        expected = [(m.name, m.offset_data, m.size) for m in tar.getmembers()]
    assert list(iter_tar(data)) == expected
    assert [n for n, _, _ in expected[:2]] == ["00000000.jpg", "00000000.cls"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_back_the_same_samples(stored, fmt):
    original, labels = synthetic_images(N, SIZE)
    dataset = make_dataset(stored[fmt])
    items = list(dataset) if fmt == "tar-shards" else [dataset[i] for i in range(N)]
    assert [y for _, y in items] == labels.tolist()
    image = items[5][0]
    assert image.dtype == torch.uint8 and tuple(image.shape) == (3, SIZE, SIZE)
    error = np.abs(image.permute(1, 2, 0).numpy().astype(int) - original[5].astype(int))
    assert error.mean() < (0.5 if fmt == "npy-mmap" else 12)  # JPEG is lossy, .npy is not


@pytest.mark.parametrize("workers", [0, 2], ids=["main-process", "two-workers"])
def test_tar_shards_batched_in_workers_cover_every_sample_once(stored, workers):
    dataset = TarShards(stored["tar-shards"], batch_size=8, read_threads=2)
    loader = make_loader(dataset, LoaderConfig(num_workers=workers, batch_size=8))
    labels = torch.cat([y for _, y in loader])
    assert loader.batch_size is None
    assert sorted(labels.tolist()) == sorted(stored["tar-shards"].labels)


@pytest.mark.parametrize("direct", [False, True], ids=["buffered", "o-direct"])
def test_read_shard_returns_the_file(stored, direct):
    path = stored["tar-shards"].files[-1]
    assert TarShards.read_shard(str(path), direct, chunk=8192).numpy().tobytes() == \
        path.read_bytes()


def test_raw_shard_payload_spans_point_at_jpegs(stored):
    buf, spans = next(iter(TarShards(stored["tar-shards"], decode=False)))
    offset, size = spans[0].tolist()
    assert buf[offset: offset + 2].tolist() == [0xFF, 0xD8]  # JPEG start-of-image
    assert len(spans) == 16 and size > 0


def test_mmap_dataset_pickles_without_its_mapping(stored):
    import pickle

    dataset = MmapArray(stored["npy-mmap"])
    dataset[0]
    assert pickle.loads(pickle.dumps(dataset))._array is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_throughput_reads_everything(stored, fmt):
    result = read_throughput(stored[fmt], decode=True)
    assert result.samples == N and result.nbytes == stored[fmt].nbytes
    assert result.samples_per_s > 0 and result.decoded == (fmt != "npy-mmap")


def test_unknown_format(stored):
    from dataclasses import replace

    with pytest.raises(ValueError, match="format 'hdf5' is not a dataset format"):
        make_dataset(replace(stored["npy-mmap"], format="hdf5"))


def test_jpeg_files_dataset_len(stored):
    assert len(JpegFiles(stored["jpeg-files"])) == N
