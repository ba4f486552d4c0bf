import pytest

from labkit.hw import detect
from labkit.hw.smi import render_query_gpu

FIELDS = ["index", "name", "memory.total", "memory.used", "utilization.gpu"]


def test_noheader_nounits_matches_nvidia_smi_layout():
    text = render_query_gpu(detect("sim"), FIELDS, "csv,noheader,nounits")
    assert text == "0, NVIDIA A100-SXM4-40GB, 40960, 0, 0\n"


def test_header_and_units():
    text = render_query_gpu(detect("sim"), FIELDS, "csv")
    assert text.splitlines() == [
        "index, name, memory.total [MiB], memory.used [MiB], utilization.gpu [%]",
        "0, NVIDIA A100-SXM4-40GB, 40960 MiB, 0 MiB, 0 %",
    ]


def test_mig_fields_of_a_non_mig_gpu_are_na(monkeypatch):
    """shared/reference/mig.md §2.1(g): [N/A] for mig.mode.* on a non-MIG GPU."""
    monkeypatch.setenv("LABKIT_SIM_GPUS", "T4")
    text = render_query_gpu(detect("sim"), ["index", "mig.mode.current", "mig.mode.pending"])
    assert text.splitlines()[1] == "0, [N/A], [N/A]"


def test_bus_id_and_mig_mode_query():
    text = render_query_gpu(detect("sim"), ["pci.bus_id", "mig.mode.current"])
    assert text.splitlines() == ["pci.bus_id, mig.mode.current", "00000000:10:00.0, Disabled"]


@pytest.mark.parametrize(("fields", "fmt", "message"), [
    (["index", "bogus"], "csv", 'field "bogus" is not a valid field'),
    (["index"], "json", "format 'json' is not supported"),
    (["index"], "csv,pretty", "format 'csv,pretty' is not supported"),
], ids=["unknown-field", "not-csv", "unknown-option"])
def test_bad_queries_are_explained(fields, fmt, message):
    with pytest.raises(ValueError, match=message):
        render_query_gpu(detect("sim"), fields, fmt)


def test_count_and_several_indices(monkeypatch):
    monkeypatch.setenv("LABKIT_SIM_GPUS", "A100-SXM4-40GB:3")
    text = render_query_gpu(detect("sim"), ["count", "index"], "csv,noheader", indices=[2, 0])
    assert text == "3, 2\n3, 0\n"
