"""DALI's CPU pipeline and the PIL baseline: shapes, labels, the shared transforms, serving."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labkit.pipeline import etl
from labkit.pipeline.dataset import scan_image_folder

from .conftest import SIZE


@pytest.fixture(scope="module")
def val(small_data):
    return scan_image_folder(small_data / "val")


@pytest.fixture(scope="module")
def train_split(small_data):
    return scan_image_folder(small_data / "train")


def test_dali_loader_yields_normalised_chw_batches_with_the_files_labels(val):
    loader = etl.dali_loader(val, batch_size=10, size=SIZE, train=False)
    batches = list(loader)
    images = torch.cat([b[0] for b in batches])
    labels = torch.cat([b[1] for b in batches])
    assert [tuple(b[0].shape) for b in batches] == [(10, 3, SIZE, SIZE)] * 2 + [(4, 3, SIZE,
                                                                                 SIZE)]
    assert images.dtype == torch.float32 and labels.dtype == torch.int64
    assert labels.tolist() == val.labels  # no shuffling in evaluation: file order
    assert -3 < float(images.mean()) < 3 and float(images.std()) > 0.3


def test_dali_loader_restarts_every_epoch(val):
    loader = etl.dali_loader(val, batch_size=8, size=SIZE, train=False)
    first = [lab.tolist() for _, lab in loader]
    second = [lab.tolist() for _, lab in loader]
    assert first == second and sum(map(len, first)) == len(val)


def test_training_loader_shuffles_and_drops_the_partial_batch(train_split):
    loader = etl.dali_loader(train_split, batch_size=16, size=SIZE, train=True, seed=3)
    labels = [lab.tolist() for _, lab in loader]
    assert len(labels) == len(train_split) // 16 == len(loader)
    flat = [x for batch in labels for x in batch]
    assert flat != sorted(flat)


def test_dali_and_pil_apply_the_same_transforms(val):
    images, _ = next(iter(etl.dali_loader(val, batch_size=8, size=SIZE, train=False)))
    reference = np.stack([etl.pil_preprocess(f, size=SIZE) for f in val.files[:8]])
    diff = np.abs(images.numpy() - reference)
    # Decoders and resamplers differ in rounding; one grey level is 1/(0.225*255) ~ 0.017.
    assert diff.mean() < 0.02 and diff.max() < 0.2


def test_pil_preprocess_mirrors(val):
    plain = etl.pil_preprocess(val.files[0], size=SIZE)
    mirrored = etl.pil_preprocess(val.files[0].read_bytes(), size=SIZE, mirror=True)
    np.testing.assert_allclose(mirrored, plain[:, :, ::-1], atol=1e-6)


def test_baseline_loader_matches_the_dataset(val):
    loader = etl.baseline_loader(val, batch_size=8, size=SIZE, train=False, workers=0)
    images, labels = zip(*loader, strict=True)
    assert torch.cat(labels).tolist() == val.labels
    assert images[0].shape == (8, 3, SIZE, SIZE) and images[0].dtype == torch.float32
    np.testing.assert_allclose(images[0][0].numpy(), etl.pil_preprocess(val.files[0],
                                                                        size=SIZE), atol=1e-5)


def test_measure_throughput_counts_images_after_the_warmup(val):
    loader = etl.baseline_loader(val, batch_size=4, size=SIZE, train=False, workers=0)
    result = etl.measure_throughput(loader, epochs=2, warmup=2)
    # 24 images in batches of 4 = 6 batches per epoch; the clock starts at batch 3
    assert result.images == 2 * len(val) - 3 * 4
    assert result.images_per_s > 0


def test_serving_pipeline_turns_encoded_bytes_into_the_training_tensors(val):
    pipe = etl.serving_pipeline(batch_size=4, size=SIZE)
    pipe.build()
    blobs = [np.frombuffer(f.read_bytes(), np.uint8) for f in val.files[:3]]
    blobs[1] = np.concatenate([blobs[1], np.zeros(50, np.uint8)])  # client-side padding
    pipe.feed_input("DALI_INPUT_0", blobs)
    (out,) = pipe.run()
    served = np.array(out.as_tensor())
    trained, _ = next(iter(etl.dali_loader(val, batch_size=3, size=SIZE, train=False)))
    np.testing.assert_allclose(served, trained.numpy(), atol=1e-5)


def test_serialized_pipelines_for_both_targets(tmp_path):
    from nvidia.dali import Pipeline

    cpu = etl.serialize_serving_pipeline(tmp_path / "cpu" / "model.dali", batch_size=8,
                                         size=SIZE, gpu=False)
    gpu = etl.serialize_serving_pipeline(tmp_path / "gpu" / "model.dali", batch_size=8,
                                         size=SIZE, gpu=True)
    assert b"mixed" in gpu.read_bytes() and b"mixed" not in cpu.read_bytes()
    pipe = Pipeline.deserialize(filename=str(cpu), device_id=None)
    pipe.build()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only refusal")
def test_mixed_decoding_needs_a_gpu(val):
    with pytest.raises(RuntimeError, match="CUDA"):
        etl.dali_loader(val, batch_size=4, size=SIZE, train=False, device_id=0)


def test_default_device_follows_torch():
    assert etl.default_device_id() == (0 if torch.cuda.is_available() else None)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_mixed_decoding_on_a_gpu_matches_the_cpu(val):
    cpu, _ = next(iter(etl.dali_loader(val, batch_size=8, size=SIZE, train=False)))
    gpu, _ = next(iter(etl.dali_loader(val, batch_size=8, size=SIZE, train=False,
                                       device_id=0)))
    assert gpu.is_cuda
    assert float((gpu.cpu() - cpu).abs().mean()) < 0.05


def test_grey_levels_scales_each_channel_by_its_std_and_refuses_other_shapes():
    base = np.zeros((2, 3, 4, 4))
    red = base.copy()
    red[:, 0] = 1 / etl.STD[0]  # one grey level in red only
    assert etl._grey_levels(base, red) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="shape"):
        etl._grey_levels(base, np.zeros((1, 3, 4, 4)))
