"""nvidia-smi text rendered from catalog + state, byte for byte against the reference's blocks."""

from __future__ import annotations

import pytest

from labkit.mig import compute, formats, placement
from labkit.mig.catalog import get_model, get_profile
from labkit.mig.state import MigState

A100 = "A100-SXM4-40GB"


def r580_state() -> MigState:
    """The driver-580 host of §2.3(d): -cgi 4g.20gb, 2g.10gb, 1g.5gb."""
    state = MigState(A100)
    placement.create_gis(state, ["4g.20gb", "2g.10gb", "1g.5gb"])
    return state


@pytest.mark.parametrize(
    "model,fixture",
    [
        (A100, "a100_40gb_r580_lgip_empty.txt"),
        ("H100-SXM5-80GB", "h100_sxm5_lgip.txt"),
        ("H100-PCIE-80GB", "h100_pcie_r570_lgip.txt"),
    ],
    ids=["a100-40gb-r580", "h100-sxm5", "h100-pcie-r570"],
)
def test_lgip_on_an_empty_gpu(ref, model, fixture):
    assert formats.format_lgip(0, model) == ref(fixture)


def test_lgip_free_total_after_4g_2g_1g(ref):
    state = MigState(A100)
    for spec, fixture in [
        ("4g.20gb", "a100_40gb_r580_lgip_after_4g.txt"),
        ("2g.10gb", "a100_40gb_r580_lgip_after_4g_2g.txt"),
        ("1g.5gb", "a100_40gb_r580_lgip_after_4g_2g_1g.txt"),
    ]:
        placement.create_gi(state, spec)
        assert formats.format_lgip(0, A100, state) == ref(fixture), spec


def test_lgip_on_a_gpu_without_mig():
    assert formats.format_lgip(0, "T4") == "No MIG-supported devices found."
    assert formats.format_lgipp(0, "RTX-3090") == formats.NO_MIG_SUPPORTED


def test_lgip_refuses_a_state_of_another_model():
    with pytest.raises(ValueError, match="state is for H100-SXM5-80GB, not A100-SXM4-40GB"):
        formats.format_lgip(0, A100, MigState("H100-SXM5-80GB"))


def test_lgip_prints_the_gpu_index():
    text = formats.format_lgip(3, A100)
    assert text.splitlines()[5].startswith("|   3  MIG 1g.5gb ")


@pytest.mark.parametrize(
    "model,fixture",
    [
        (A100, "a100_lgipp.txt"),
        ("H100-SXM5-80GB", "h100_lgipp.txt"),
        ("H100-NVL-94GB", "a100_lgipp.txt"),
    ],
    ids=["a100", "h100", "h100-nvl-same-lines"],
)
def test_lgipp(ref, model, fixture):
    assert formats.format_lgipp(0, model) == ref(fixture)


def test_lgi_r580_and_h100(ref):
    assert formats.format_lgi(0, r580_state()) == ref("a100_40gb_r580_lgi.txt")
    h100 = MigState("H100-SXM5-80GB", id_scheme="legacy")
    placement.create_gis(h100, [9, 14])
    assert formats.format_lgi(0, h100) == ref("h100_sxm_lgi.txt")


def test_lcip_and_cci_sequence_of_the_580_capture(ref):
    # §2.7(c): -lcip / -cci on GIs 2 (4g), 3 (2g) and 9 (1g), byte for byte.
    state = r580_state()
    steps = [
        (2, None, "a100_40gb_r580_lcip_gi2_empty.txt"),
        (2, "4g.20gb", "a100_40gb_r580_lcip_gi2_full.txt"),
        (3, None, "a100_40gb_r580_lcip_gi3_empty.txt"),
        (3, "1c.2g.10gb", "a100_40gb_r580_lcip_gi3_one.txt"),
        (3, "1c.2g.10gb", "a100_40gb_r580_lcip_gi3_two.txt"),
        (9, None, "a100_40gb_r580_lcip_gi9_empty.txt"),
        (9, "1g.5gb", "a100_40gb_r580_lcip_gi9_full.txt"),
    ]
    messages = []
    for gi_id, create, fixture in steps:
        if create:
            ci = compute.create_ci(state, gi_id, create)
            messages.append(formats.cci_message(0, A100, state.find_gi(gi_id), ci))
        assert formats.format_lcip(0, state, gi_id) == ref(fixture), fixture
    expected = ref("a100_40gb_r580_cci_messages.txt").splitlines()
    # The capture's second 1c.2g.10gb line says "compute instance ID  0" although its own -lci
    # lists CI 1 (§2.7(c) note); every other line must match exactly.
    assert [messages[i] for i in (0, 1, 3)] == [expected[i] for i in (0, 1, 3)]
    assert messages[2] == expected[2].replace("instance ID  0 on", "instance ID  1 on")
    lci = formats.format_lci(0, state).splitlines()
    assert "\n".join(lci[:-1]) == ref("a100_40gb_r580_lci.txt")  # capture ends before the border
    assert lci[-1] == "+" + "-" * 68 + "+"


def test_lcip_of_the_guide_with_three_1c_cis(ref):
    # §2.7(a): GI 1 is a 3g.20gb holding three 1c.3g.20gb CIs: every profile 0 free.
    state = MigState(A100)
    gi = placement.create_gi(state, "3g.20gb")
    assert gi.gi_id == 1
    for _ in range(3):
        compute.create_ci(state, 1, 0)
    assert formats.format_lcip(0, state, 1) == ref("a100_guide_lcip_gi1.txt")


def test_h100_default_cis(ref):
    # §2.7(d): -cci without a profile on GIs 2 (3g.40gb) and 3 (2g.20gb), then -lci.
    state = MigState("H100-SXM5-80GB", id_scheme="legacy")
    placement.create_gis(state, [9, 14])
    lines = []
    for gi_id in (2, 3):
        ci = compute.create_ci(state, gi_id)
        lines.append(formats.cci_message(0, state.model, state.find_gi(gi_id), ci))
    assert "\n".join(lines) == ref("h100_sxm_cci_messages.txt")
    assert formats.format_lci(0, state) == ref("h100_sxm_lci.txt")


def test_empty_listings_print_nvidia_smis_not_found_lines():
    state = MigState(A100)
    assert formats.format_lgi(0, state) == "No GPU instances found: Not Found"
    assert formats.format_lci(0, state) == "No compute instances found: Not Found"
    placement.create_gi(state, "1g.5gb")
    assert formats.format_lci(0, state) == formats.NO_COMPUTE_INSTANCES
    assert formats.format_lcip(0, state, 5) == formats.NO_GPU_INSTANCES


@pytest.mark.parametrize(
    "gpu,gi,ci,expected",
    [
        (0, 1, 0, "Successfully destroyed compute instance ID  0 from GPU  0 GPU instance ID  1"),
        (7, 13, 2, "Successfully destroyed compute instance ID  2 from GPU  7 GPU instance ID 13"),
    ],
    ids=["guide", "two-digit-gi"],
)
def test_dci_message(gpu, gi, ci, expected):
    assert formats.dci_message(gpu, gi, ci) == expected


def test_dgi_message():
    assert formats.dgi_message(0, 2) == "Successfully destroyed GPU instance ID  2 from GPU  0"


# ---- parsers ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fixture,model,rows,second_row",
    [
        ("a100_40gb_r580_lgip_empty.txt", A100, 7, True),
        ("a100_40gb_guide_lgip.txt", A100, 7, True),
        ("a100_pcie_40gb_r450_lgip.txt", A100, 5, True),
        ("a100_80gb_lgip.txt", "A100-SXM4-80GB", 7, False),
        ("h100_sxm5_lgip.txt", "H100-SXM5-80GB", 7, True),
        ("h100_pcie_r570_lgip.txt", "H100-PCIE-80GB", 7, True),
        ("h100_nvl_r560_lgip.txt", "H100-NVL-94GB", 7, True),
    ],
    ids=["a100-r580", "a100-guide", "a100-r450", "a100-80gb", "h100-sxm5", "h100-pcie", "h100-nvl"],
)
def test_parse_lgip_of_every_capture_agrees_with_the_catalog(ref, fixture, model, rows, second_row):
    records = formats.parse_lgip(ref(fixture))
    assert len(records) == rows
    for r in records:
        p = get_profile(model, r.name)
        assert (r.gpu, r.profile_id, r.free, r.total, r.p2p) == (
            0,
            p.profile_id,
            p.max_count,
            p.max_count,
            False,
        )
        assert (r.sm_count, r.dec, r.enc) == (p.sm_count, p.dec, p.enc)
        assert (r.ce, r.jpg, r.ofa) == ((p.ce, p.jpg, p.ofa) if second_row else (None, None, None))


def test_parse_lgip_reads_memory_and_free_counts(ref):
    records = formats.parse_lgip(ref("a100_40gb_r580_lgip_after_4g.txt"))
    assert [(r.name, r.free, r.total, r.memory_gib) for r in records][:3] == [
        ("1g.5gb", 3, 7, 4.75),
        ("1g.5gb+me", 1, 1, 4.75),
        ("1g.10gb", 2, 4, 9.75),
    ]
    assert formats.parse_lgip(formats.format_lgip(0, A100, r580_state()))[0].free == 0


def test_gib_column_rounds_half_to_even():
    # §1.1 DERIVED: 19.625 -> "19.62" but 39.375 -> "39.38" (printf %.2f, half to even).
    memory = {r.name: r.memory_gib for r in formats.parse_lgip(formats.format_lgip(0, A100))}
    assert (memory["4g.20gb"], memory["7g.40gb"]) == (19.62, 39.38)
    memory = {
        r.name: r.memory_gib for r in formats.parse_lgip(formats.format_lgip(0, "H100-NVL-94GB"))
    }
    assert (memory["1g.24gb"], memory["3g.47gb"], memory["7g.94gb"]) == (21.62, 46.38, 93.12)


@pytest.mark.parametrize(
    "fixture,expected",
    [
        ("a100_guide_lgi_a.txt", [(1, "3g.20gb", 9, 4, 4), (2, "3g.20gb", 9, 0, 4)]),
        (
            "a100_40gb_r580_lgi.txt",
            [(9, "1g.5gb", 19, 6, 1), (3, "2g.10gb", 14, 4, 2), (2, "4g.20gb", 5, 0, 4)],
        ),
    ],
    ids=["guide-older-width", "r580"],
)
def test_parse_lgi(ref, fixture, expected):
    assert [
        (r.gi_id, r.name, r.profile_id, r.start, r.size) for r in formats.parse_lgi(ref(fixture))
    ] == expected


def test_parse_lgi_round_trips_the_renderer():
    state = r580_state()
    records = formats.parse_lgi(formats.format_lgi(0, state))
    assert {(r.gi_id, r.name, r.start, r.size) for r in records} == {
        (g.gi_id, g.profile, g.start, g.size) for g in state.gpu_instances
    }


@pytest.mark.parametrize(
    "fixture,model", [("a100_lgipp.txt", A100), ("h100_lgipp.txt", "H100-SXM5-80GB")]
)
def test_parse_lgipp_matches_the_catalog(ref, fixture, model):
    parsed = formats.parse_lgipp(ref(fixture))
    assert parsed == {
        (0, p.profile_id): (p.starts, p.memory_slices) for p in get_model(model).gi_profiles
    }


@pytest.mark.parametrize(
    "fixture,expected",
    [
        ("a100_40gb_r580_lci.txt",
         [(9, "1g.5gb", 0, 0, 0, 1), (3, "1c.2g.10gb", 0, 0, 0, 1),
          (3, "1c.2g.10gb", 0, 1, 1, 1), (2, "4g.20gb", 3, 0, 0, 4)]),
    ],
    ids=["r580"],
)
def test_parse_lci(ref, fixture, expected):
    assert [
        (r.gi_id, r.name, r.profile_id, r.ci_id, r.start, r.size)
        for r in formats.parse_lci(ref(fixture))
    ] == expected


def test_parse_lci_ignores_lgi_rows(ref):
    assert formats.parse_lci(ref("a100_40gb_r580_lgi.txt")) == []
