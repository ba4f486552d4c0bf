"""DataLoader settings, the loader measurement, MLPerf Storage workloads and DLIO-style AU."""

from __future__ import annotations

import time

import pytest

from labkit.storage.au import WORKLOADS, emulate_training, get_workload
from labkit.storage.datasets import write_all_formats
from labkit.storage.loader import LoaderConfig, make_loader, measure_loader
from labkit.storage.readers import make_dataset


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_workers": -1}, "num_workers -1 must be >= 0"),
    ({"prefetch_factor": 2}, "need num_workers > 0"),
    ({"persistent_workers": True}, "need num_workers > 0"),
    ({"num_workers": 2, "prefetch_factor": 0}, "prefetch_factor 0 must be >= 1"),
], ids=["negative-workers", "prefetch-without-workers", "persistent-without-workers",
        "zero-prefetch"])
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LoaderConfig(**kwargs)


@pytest.mark.parametrize(("cfg", "label"), [
    (LoaderConfig(), "workers=0"),
    (LoaderConfig(2), "workers=2 prefetch=2"),
    (LoaderConfig(2, 4, True, True), "workers=2 prefetch=4 pin persistent"),
], ids=["naive", "default-prefetch", "everything"])
def test_labels(cfg, label):
    assert cfg.label == label


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_all_formats(tmp_path_factory.mktemp("au"), 48, 24)["jpeg-files"]


@pytest.mark.parametrize("cfg", [LoaderConfig(batch_size=16),
                                 LoaderConfig(1, 2, persistent_workers=True, batch_size=16)],
                         ids=["main-process", "persistent-worker"])
def test_measure_loader_counts_every_epoch(files, cfg):
    result = measure_loader(make_dataset(files), cfg, epochs=2, shuffle=True)
    assert result.samples == 96 and result.epochs == 2
    assert result.restart_s == result.epoch_first_batch_s[1] > 0


# perf.md §3.1: per simulated H100, about 3.2 GB/s (U-Net), 0.2 GB/s (ResNet-50),
# 0.8 GB/s (CosmoFlow).
@pytest.mark.parametrize(("model", "gbps"), [("unet3d", 3.2), ("resnet50", 0.2),
                                             ("cosmoflow", 0.8)])
def test_h100_read_demand_matches_the_reference(model, gbps):
    assert get_workload(model, "h100")._read_bytes_per_s / 1e9 == pytest.approx(gbps, rel=0.05)


def test_a100_is_slower_than_h100_per_sample():
    for model in ("resnet50", "unet3d", "cosmoflow"):
        assert (get_workload(model, "A100").seconds_per_sample
                > get_workload(model, "H100").seconds_per_sample)
    assert {w.au_threshold for w in WORKLOADS.values()} == {0.9, 0.7}


def test_unknown_workload_lists_the_valid_ones():
    with pytest.raises(KeyError, match="no MLPerf Storage workload 'bert' on 'h100'.*resnet50/"):
        get_workload("bert", "h100")


class SlowBatches:
    """Batches of 10 samples that each take ``delay`` seconds to arrive."""

    def __init__(self, steps, delay):
        self.steps, self.delay = steps, delay

    def __iter__(self):
        for _ in range(self.steps):
            time.sleep(self.delay)
            yield [list(range(10))]


@pytest.mark.parametrize(("delay", "per_sample", "expected_au"), [
    (0.0, 0.002, 1.0),       # data always ready: AU ~ 1
    (0.02, 0.002, 0.5),      # waiting as long as computing: AU ~ 0.5
    (0.06, 0.002, 0.25),     # loader three times slower than compute
], ids=["ready", "half", "quarter"])
def test_au_is_compute_over_wall(delay, per_sample, expected_au):
    result = emulate_training(SlowBatches(8, delay), per_sample)
    assert result.steps == 7 and result.samples == 70  # first step excluded, as in DLIO
    assert result.au == pytest.approx(expected_au, abs=0.08)
    assert result.passed == (result.au >= 0.9)
    assert result.compute_s == pytest.approx(7 * 10 * per_sample, rel=0.2)


def test_epochs_repeat_the_loader(files):
    loader = make_loader(make_dataset(files), LoaderConfig(batch_size=16))
    result = emulate_training(loader, 1e-4, epochs=2)
    assert result.steps == 5 and result.samples == 80
