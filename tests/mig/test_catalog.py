"""labkit.mig.catalog against the reference's profile rows, placements and model facts.

The expected values are transcribed here from shared/reference/mig.md (section in each table's
comment), independently of labkit/mig/_profiles.py.
"""

from __future__ import annotations

import pytest

from labkit.mig import catalog
from labkit.mig.catalog import (
    NotMigCapableError,
    UnknownGpuModelError,
    UnknownProfileError,
    get_ci_profile,
    get_model,
    get_profile,
    resolve_device_profile,
)

ALL7 = (0, 1, 2, 3, 4, 5, 6)

# (model, profile, ID, max, GiB as -lgip prints it, SM, CE, DEC, ENC, JPG, OFA, starts, size)
# A100-40GB: §1.1 summary table, driver-580 GiB; H100 SXM5/PCIe: §1.3 summary; H100 NVL: §1.4
# -lgip; A100-80GB: §1.2 (DEC as the reference prefers, CE/JPG/OFA from the 2nd capture,
# placements not captured: None).
LGIP_ROWS = [
    ("A100-SXM4-40GB", "1g.5gb", 19, 7, "4.75", 14, 1, 0, 0, 0, 0, ALL7, 1),
    ("A100-SXM4-40GB", "1g.5gb+me", 20, 1, "4.75", 14, 1, 1, 0, 1, 1, ALL7, 1),
    ("A100-SXM4-40GB", "1g.10gb", 15, 4, "9.75", 14, 1, 1, 0, 0, 0, (0, 2, 4, 6), 2),
    ("A100-SXM4-40GB", "2g.10gb", 14, 3, "9.75", 28, 2, 1, 0, 0, 0, (0, 2, 4), 2),
    ("A100-SXM4-40GB", "3g.20gb", 9, 2, "19.62", 42, 3, 2, 0, 0, 0, (0, 4), 4),
    ("A100-SXM4-40GB", "4g.20gb", 5, 1, "19.62", 56, 4, 2, 0, 0, 0, (0,), 4),
    ("A100-SXM4-40GB", "7g.40gb", 0, 1, "39.38", 98, 7, 5, 0, 1, 1, (0,), 8),
    ("A100-SXM4-80GB", "1g.10gb", 19, 7, "9.50", 14, 1, 0, 0, 0, 0, None, 1),
    ("A100-SXM4-80GB", "1g.10gb+me", 20, 1, "9.50", 14, 1, 1, 0, 1, 1, None, 1),
    ("A100-SXM4-80GB", "1g.20gb", 15, 4, "19.50", 14, 1, 1, 0, 0, 0, None, 2),
    ("A100-SXM4-80GB", "2g.20gb", 14, 3, "19.50", 28, 2, 1, 0, 0, 0, None, 2),
    ("A100-SXM4-80GB", "3g.40gb", 9, 2, "39.25", 42, 3, 2, 0, 0, 0, None, 4),
    ("A100-SXM4-80GB", "4g.40gb", 5, 1, "39.25", 56, 4, 2, 0, 0, 0, None, 4),
    ("A100-SXM4-80GB", "7g.80gb", 0, 1, "79.00", 98, 7, 5, 0, 1, 1, None, 8),
    ("H100-SXM5-80GB", "1g.10gb", 19, 7, "9.75", 16, 1, 1, 0, 1, 0, ALL7, 1),
    ("H100-SXM5-80GB", "1g.10gb+me", 20, 1, "9.75", 16, 1, 1, 0, 1, 1, ALL7, 1),
    ("H100-SXM5-80GB", "1g.20gb", 15, 4, "19.62", 26, 1, 1, 0, 1, 0, (0, 2, 4, 6), 2),
    ("H100-SXM5-80GB", "2g.20gb", 14, 3, "19.62", 32, 2, 2, 0, 2, 0, (0, 2, 4), 2),
    ("H100-SXM5-80GB", "3g.40gb", 9, 2, "39.50", 60, 3, 3, 0, 3, 0, (0, 4), 4),
    ("H100-SXM5-80GB", "4g.40gb", 5, 1, "39.50", 64, 4, 4, 0, 4, 0, (0,), 4),
    ("H100-SXM5-80GB", "7g.80gb", 0, 1, "79.25", 132, 8, 7, 0, 7, 1, (0,), 8),
    ("H100-PCIE-80GB", "1g.10gb", 19, 7, "9.75", 14, 1, 1, 0, 1, 0, ALL7, 1),
    ("H100-PCIE-80GB", "1g.10gb+me", 20, 1, "9.75", 14, 1, 1, 0, 1, 1, ALL7, 1),
    ("H100-PCIE-80GB", "1g.20gb", 15, 4, "19.62", 14, 1, 1, 0, 1, 0, (0, 2, 4, 6), 2),
    ("H100-PCIE-80GB", "2g.20gb", 14, 3, "19.62", 30, 2, 2, 0, 2, 0, (0, 2, 4), 2),
    ("H100-PCIE-80GB", "3g.40gb", 9, 2, "39.50", 46, 3, 3, 0, 3, 0, (0, 4), 4),
    ("H100-PCIE-80GB", "4g.40gb", 5, 1, "39.50", 62, 4, 4, 0, 4, 0, (0,), 4),
    ("H100-PCIE-80GB", "7g.80gb", 0, 1, "79.25", 114, 8, 7, 0, 7, 1, (0,), 8),
    ("H100-NVL-94GB", "1g.12gb", 19, 7, "10.75", 16, 1, 1, 0, 1, 0, ALL7, 1),
    ("H100-NVL-94GB", "1g.12gb+me", 20, 1, "10.75", 16, 1, 1, 0, 1, 1, ALL7, 1),
    ("H100-NVL-94GB", "1g.24gb", 15, 4, "21.62", 26, 1, 1, 0, 1, 0, (0, 2, 4, 6), 2),
    ("H100-NVL-94GB", "2g.24gb", 14, 3, "21.62", 32, 2, 2, 0, 2, 0, (0, 2, 4), 2),
    ("H100-NVL-94GB", "3g.47gb", 9, 2, "46.38", 60, 3, 3, 0, 3, 0, (0, 4), 4),
    ("H100-NVL-94GB", "4g.47gb", 5, 1, "46.38", 64, 4, 4, 0, 4, 0, (0,), 4),
    ("H100-NVL-94GB", "7g.94gb", 0, 1, "93.12", 132, 8, 7, 0, 7, 1, (0,), 8),
]


@pytest.mark.parametrize(
    "model,name,pid,max_count,gib,sm,ce,dec,enc,jpg,ofa,starts,size",
    LGIP_ROWS,
    ids=[f"{r[0]}-{r[1]}" for r in LGIP_ROWS],
)
def test_every_lgip_row_is_in_the_catalog(
    model, name, pid, max_count, gib, sm, ce, dec, enc, jpg, ofa, starts, size
):
    p = get_profile(model, name)
    assert (p.profile_id, p.max_count, f"{p.memory_mib / 1024:.2f}", p.sm_count) == (
        pid,
        max_count,
        gib,
        sm,
    )
    assert (p.ce, p.dec, p.enc, p.jpg, p.ofa, p.p2p) == (ce, dec, enc, jpg, ofa, False)
    assert p.memory_slices == size
    if starts is not None:
        assert p.placements == tuple((s, size) for s in starts)


def test_catalog_profiles_are_exactly_the_reference_rows():
    for model in ("A100-SXM4-40GB", "A100-SXM4-80GB", "H100-SXM5-80GB", "H100-NVL-94GB"):
        expected = [r[1] for r in LGIP_ROWS if r[0] == model]
        assert get_model(model).profile_names() == expected


# -lgipp as printed (profile ID -> starts, size): A100 §2.4(a) [S10], H100 §1.3 [S20],
# H100 NVL §1.4 [S15] ("identical seven lines").
LGIPP = {19: (ALL7, 1), 20: (ALL7, 1), 15: ((0, 2, 4, 6), 2), 14: ((0, 2, 4), 2)}
LGIPP |= {9: ((0, 4), 4), 5: ((0,), 4), 0: ((0,), 8)}


@pytest.mark.parametrize("model", ["A100-SXM4-40GB", "H100-SXM5-80GB", "H100-NVL-94GB"])
@pytest.mark.parametrize("pid", sorted(LGIPP, reverse=True), ids=lambda pid: f"profile-{pid}")
def test_every_lgipp_line_is_in_the_catalog(model, pid):
    starts, size = LGIPP[pid]
    p = get_profile(model, pid)
    assert (p.starts, p.memory_slices) == (starts, size)


# The guide's official tables: (profile, memory slices of 8, compute slices of 7, DEC, JPG,
# OFA, CE, max). A100 Table 6 §1.1 (1g.10gb: the guide prints 1/8 but -lgipp shows size 2, a
# typo per §1.1 / §6.9); H100 Table 7 §1.3; H200 Table 8 §1.5 ("Full" = 8/8 and 7/7).
OFFICIAL = {
    "A100-SXM4-40GB": [
        ("1g.5gb", 1, 1, 0, 0, 0, 1, 7),
        ("1g.5gb+me", 1, 1, 1, 1, 1, 1, 1),
        ("1g.10gb", 2, 1, 1, 0, 0, 1, 4),
        ("2g.10gb", 2, 2, 1, 0, 0, 2, 3),
        ("3g.20gb", 4, 3, 2, 0, 0, 3, 2),
        ("4g.20gb", 4, 4, 2, 0, 0, 4, 1),
        ("7g.40gb", 8, 7, 5, 1, 1, 7, 1),
    ],
    "H100-SXM5-80GB": [
        ("1g.10gb", 1, 1, 1, 1, 0, 1, 7),
        ("1g.10gb+me", 1, 1, 1, 1, 1, 1, 1),
        ("1g.20gb", 2, 1, 1, 1, 0, 1, 4),
        ("2g.20gb", 2, 2, 2, 2, 0, 2, 3),
        ("3g.40gb", 4, 3, 3, 3, 0, 3, 2),
        ("4g.40gb", 4, 4, 4, 4, 0, 4, 1),
        ("7g.80gb", 8, 7, 7, 7, 1, 8, 1),
    ],
    "H200-141GB": [
        ("1g.18gb", 1, 1, 1, 1, 0, 1, 7),
        ("1g.18gb+me", 1, 1, 1, 1, 1, 1, 1),
        ("1g.35gb", 2, 1, 1, 1, 0, 1, 4),
        ("2g.35gb", 2, 2, 2, 2, 0, 2, 3),
        ("3g.71gb", 4, 3, 3, 3, 0, 3, 2),
        ("4g.71gb", 4, 4, 4, 4, 0, 4, 1),
        ("7g.141gb", 8, 7, 7, 7, 1, 8, 1),
    ],
}
OFFICIAL_ROWS = [(m, *row) for m, rows in OFFICIAL.items() for row in rows]


@pytest.mark.parametrize(
    "model,name,mem,compute,dec,jpg,ofa,ce,max_count",
    OFFICIAL_ROWS,
    ids=[f"{r[0]}-{r[1]}" for r in OFFICIAL_ROWS],
)
def test_official_profile_tables(model, name, mem, compute, dec, jpg, ofa, ce, max_count):
    p = get_profile(model, name)
    assert (p.memory_slices, p.slices, p.dec, p.jpg, p.ofa, p.ce, p.max_count) == (
        mem,
        compute,
        dec,
        jpg,
        ofa,
        ce,
        max_count,
    )


def test_h200_uses_the_documented_pattern_for_unconfirmed_ids_and_placements():
    # §1.5 / §6.1: no real H200 -lgip; IDs and placements follow every other GPU (§1.6, §2.4).
    h200, h100 = get_model("H200-141GB"), get_model("H100-SXM5-80GB")
    assert [p.profile_id for p in h200.gi_profiles] == [19, 20, 15, 14, 9, 5, 0]
    assert [p.placements for p in h200.gi_profiles] == [p.placements for p in h100.gi_profiles]
    assert get_profile(h200, "1g.18gb").sm_count == 16  # users' reports, §1.5


# A100-40GB -lcip (§1.1 CI table; §2.7(a)/(c)): (GI, CI name, CI profile ID, max, SMs, default).
# 7g.40gb is UNCONFIRMED in the reference: mock CI sizes 1/2/3/4/7, max 7/3/2/1/1, NVML enum IDs.
CI_ROWS = [
    ("1g.5gb", "1g.5gb", 0, 1, 14, True),
    ("2g.10gb", "1c.2g.10gb", 0, 2, 14, False),
    ("2g.10gb", "2g.10gb", 1, 1, 28, True),
    ("3g.20gb", "1c.3g.20gb", 0, 3, 14, False),
    ("3g.20gb", "2c.3g.20gb", 1, 1, 28, False),
    ("3g.20gb", "3g.20gb", 2, 1, 42, True),
    ("4g.20gb", "1c.4g.20gb", 0, 4, 14, False),
    ("4g.20gb", "2c.4g.20gb", 1, 2, 28, False),
    ("4g.20gb", "4g.20gb", 3, 1, 56, True),
    ("7g.40gb", "1c.7g.40gb", 0, 7, 14, False),
    ("7g.40gb", "2c.7g.40gb", 1, 3, 28, False),
    ("7g.40gb", "3c.7g.40gb", 2, 2, 42, False),
    ("7g.40gb", "4c.7g.40gb", 3, 1, 56, False),
    ("7g.40gb", "7g.40gb", 4, 1, 98, True),
]


@pytest.mark.parametrize("gi,name,pid,max_count,sm,default", CI_ROWS, ids=[r[1] for r in CI_ROWS])
def test_a100_compute_instance_profiles(gi, name, pid, max_count, sm, default):
    ci = get_ci_profile("A100-SXM4-40GB", gi, name)
    assert (ci.profile_id, ci.max_count, ci.sm_count, ci.is_default) == (
        pid,
        max_count,
        sm,
        default,
    )
    assert get_ci_profile("A100-SXM4-40GB", gi, pid) == ci


def test_ci_profiles_per_gi_are_complete_for_a100():
    by_gi = get_model("A100-SXM4-40GB").ci_profiles
    for gi in ("1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"):
        assert [c.name for c in by_gi[gi]] == [r[1] for r in CI_ROWS if r[0] == gi]


@pytest.mark.parametrize(
    "model,gi,default_id",
    [
        ("H100-SXM5-80GB", "3g.40gb", 2),
        ("H100-SXM5-80GB", "2g.20gb", 1),
        ("H100-PCIE-80GB", "1g.10gb", 0),
    ],
    ids=["h100-3g-default-ID-2", "h100-2g-default-ID-1", "h100-pcie-1g-default-ID-0"],
)
def test_h100_default_ci_ids_match_the_captures(model, gi, default_id):
    # §2.7(d) [S13] "(ID  2)", "(ID  1)"; §2.5(f) [S14] "(ID  0)".
    assert get_ci_profile(model, gi).profile_id == default_id


# Model facts the reference gives: product name (§2.2, §1.3, §1.4, §4.3), total MiB (§2.2,
# §4.2, §1.4), SMs (§1.3, §1.4), minimum driver for MIG (§1.0), architecture.
MODEL_FACTS = [
    ("A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB", "Ampere", 40960, None, "525.53", True),
    ("H100-SXM5-80GB", "NVIDIA H100 80GB HBM3", "Hopper", 81559, 132, "450.80.02", True),
    ("H100-PCIE-80GB", "NVIDIA H100 PCIe", "Hopper", None, 114, "450.80.02", True),
    ("H100-NVL-94GB", "NVIDIA H100 NVL", "Hopper", 95830, 132, "450.80.02", True),
    ("H200-141GB", None, "Hopper", None, None, "450.80.02", True),
    ("T4", "Tesla T4", "Turing", None, None, None, False),
    ("V100-SXM2-32GB", None, "Volta", None, None, None, False),
    ("L4", None, "Ada Lovelace", None, None, None, False),
    ("RTX-3090", None, "Ampere", None, None, None, False),
]


@pytest.mark.parametrize(
    "name,product,arch,mib,sms,min_driver,mig", MODEL_FACTS, ids=[r[0] for r in MODEL_FACTS]
)
def test_model_facts(name, product, arch, mib, sms, min_driver, mig):
    m = get_model(name)
    assert (m.name, m.architecture, m.mig_capable, m.min_driver) == (name, arch, mig, min_driver)
    assert product is None or m.product_name == product
    assert mib is None or m.memory_mib == mib
    assert sms is None or m.sm_count == sms
    assert bool(m.gi_profiles) == mig


def test_models_mapping_and_names():
    assert list(catalog.MODELS) == catalog.model_names()
    assert catalog.model_names()[:6] == [
        "A100-SXM4-40GB",
        "A100-SXM4-80GB",
        "H100-SXM5-80GB",
        "H100-PCIE-80GB",
        "H100-NVL-94GB",
        "H200-141GB",
    ]
    assert {"V100-SXM2-32GB", "T4", "L4", "RTX-3090"} <= set(catalog.model_names())


@pytest.mark.parametrize(
    "text,expected",
    [
        ("A100-SXM4-40GB", "A100-SXM4-40GB"),
        ("NVIDIA A100-SXM4-40GB", "A100-SXM4-40GB"),
        ("a100-sxm4-40gb", "A100-SXM4-40GB"),
        ("A100 SXM4 40GB", "A100-SXM4-40GB"),
        ("a100_sxm4_40gb", "A100-SXM4-40GB"),
        ("NVIDIA H100 80GB HBM3", "H100-SXM5-80GB"),
        ("NVIDIA-H100-80GB-HBM3", "H100-SXM5-80GB"),
        ("NVIDIA H100 PCIe", "H100-PCIE-80GB"),
        ("nvidia h100 nvl", "H100-NVL-94GB"),
        ("Tesla T4", "T4"),
        ("Tesla-T4", "T4"),
        ("t4", "T4"),
        ("NVIDIA GeForce RTX 3090", "RTX-3090"),
    ],
    ids=lambda v: v.replace(" ", "_"),
)
def test_get_model_accepts_key_product_name_and_variants(text, expected):
    assert get_model(text).name == expected
    assert get_model(get_model(text)) is get_model(text)


def test_unknown_model_names_the_value_and_lists_valid_names():
    with pytest.raises(UnknownGpuModelError) as err:
        get_model("A200-SXM4-40GB")
    message = str(err.value)
    assert message.startswith("unknown GPU model 'A200-SXM4-40GB' (valid: A100-SXM4-40GB, ")
    assert all(name in message for name in catalog.model_names())
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    "spelling",
    ["3g.20gb", "MIG 3g.20gb", "3G.20GB", 9, "9"],
    ids=["short", "full", "upper", "id", "id-text"],
)
def test_get_profile_accepts_the_spellings_of_cgi(spelling):
    # §1.6: -cgi accepts "Profile ID (e.g. 9, 14, 5)", a short name or a full name
    assert get_profile("A100-SXM4-40GB", spelling).name == "3g.20gb"


def test_unknown_profile_message_is_mig_parted_style():
    with pytest.raises(UnknownProfileError) as err:
        get_profile("A100-SXM4-40GB", "3g.25gb")
    assert str(err.value) == (
        "profile '3g.25gb' is not a MIG profile of A100-SXM4-40GB (valid: 1g.5gb, 1g.5gb+me, "
        "1g.10gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb)"
    )


@pytest.mark.parametrize("model", ["T4", "V100-SXM2-32GB", "L4", "RTX-3090"])
def test_non_mig_models_refuse_mig_questions(model):
    with pytest.raises(NotMigCapableError, match=f"^{model} is not MIG capable"):
        get_profile(model, "1g.5gb")
    with pytest.raises(NotMigCapableError):
        resolve_device_profile(model, "1g.5gb")


@pytest.mark.parametrize(
    "name,gi,ci",
    [
        ("2g.10gb", "2g.10gb", "2g.10gb"),
        ("1c.2g.10gb", "2g.10gb", "1c.2g.10gb"),
        ("1g.5gb+me", "1g.5gb+me", "1g.5gb+me"),
        ("MIG 1c.7g.40gb", "7g.40gb", "1c.7g.40gb"),
    ],
    ids=["full-gi", "ci-of-2g", "media-extension", "full-name"],
)
def test_resolve_device_profile(name, gi, ci):
    gi_profile, ci_profile = resolve_device_profile("A100-SXM4-40GB", name)
    assert (gi_profile.name, ci_profile.name) == (gi, ci)


def test_unknown_ci_profile_lists_the_valid_ones():
    with pytest.raises(UnknownProfileError) as err:
        resolve_device_profile("A100-SXM4-40GB", "3c.4g.20gb")
    assert str(err.value) == (
        "compute instance profile '3c.4g.20gb' is not a profile of 4g.20gb on A100-SXM4-40GB "
        "(valid: 1c.4g.20gb, 2c.4g.20gb, 4g.20gb)"
    )


def test_profile_properties():
    p = get_profile("A100-SXM4-40GB", "1g.5gb+me")
    assert (p.nominal_gb, p.media_extensions, p.starts) == (5, True, ALL7)
    assert get_profile("H200-141GB", "7g.141gb").nominal_gb == 141
    assert (catalog.MEMORY_SLICES, catalog.COMPUTE_SLICES) == (8, 7)
