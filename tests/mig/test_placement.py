"""The placement engine against the reference's transcripts, Free/Total tables and errors."""

from __future__ import annotations

import json

import pytest

from labkit.mig import compute, placement
from labkit.mig.catalog import NotMigCapableError
from labkit.mig.formats import cgi_transcript, dci_message, dgi_message, parse_lgi
from labkit.mig.state import (
    InsufficientResourcesError,
    InUseError,
    InvalidArgumentError,
    MigError,
    MigState,
    NotFoundError,
)

A100 = "A100-SXM4-40GB"


def a100(scheme: str = "r560") -> MigState:
    return MigState(A100, id_scheme=scheme)


def gis(state: MigState) -> list[tuple[int, str, int, int]]:
    return [(g.gi_id, g.profile, g.start, g.size) for g in state.gpu_instances]


# ---- Free/Total, driver 580 (§1.7 table / §2.3(d) [S12]) -----------------------------------
# profile order: 1g.5gb, 1g.5gb+me, 1g.10gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb
FREE_TOTAL = [
    ("empty", [], [7, 1, 4, 3, 2, 1, 1]),
    ("after-4g.20gb", ["4g.20gb"], [3, 1, 2, 1, 1, 0, 0]),
    ("after-4g-2g.10gb", ["4g.20gb", "2g.10gb"], [1, 1, 1, 0, 0, 0, 0]),
    ("after-4g-2g-1g.5gb", ["4g.20gb", "2g.10gb", "1g.5gb"], [0, 0, 0, 0, 0, 0, 0]),
]


@pytest.mark.parametrize(
    "created,free", [r[1:] for r in FREE_TOTAL], ids=[r[0] for r in FREE_TOTAL]
)
def test_free_total_after_4g_2g_1g(created, free):
    state = a100()
    placement.create_gis(state, created)
    assert [(f, t) for _, f, t in placement.availability(state)] == list(
        zip(free, [7, 1, 4, 3, 2, 1, 1], strict=True)
    )


def test_driver_580_sequence_ids_and_placements():
    # §2.3(d) / §2.6(f) [S12]: GI 2 at 0:4, GI 3 at 4:2, GI 9 at 6:1.
    state = a100()
    for spec in ("4g.20gb", "2g.10gb", "1g.5gb"):
        placement.create_gi(state, spec)
    assert gis(state) == [(2, "4g.20gb", 0, 4), (3, "2g.10gb", 4, 2), (9, "1g.5gb", 6, 1)]


# ---- -cgi transcripts, byte for byte (§2.5) --------------------------------------------------
TRANSCRIPTS = [
    # (id, model, ID scheme, -cgi arguments, -C, fixture)
    ("guide-19,14,5", A100, "legacy", [19, 14, 5], False, "transcript_cgi_19_14_5.txt"),
    ("guide-9,19,14,19", A100, "legacy", [9, 19, 14, 19], False, "transcript_cgi_9_19_14_19.txt"),
    (
        "guide-14,19x5",
        A100,
        "legacy",
        [14, 19, 19, 19, 19, 19],
        False,
        "transcript_cgi_14_19x5.txt",
    ),
    (
        "h100-sxm-9,14",
        "H100-SXM5-80GB",
        "legacy",
        [9, 14],
        False,
        "transcript_cgi_h100_sxm_9_14.txt",
    ),
    (
        "h100-pcie-r570-7x1g-C",
        "H100-PCIE-80GB",
        "r560",
        [19] * 7,
        True,
        "transcript_cgi_h100_pcie_7x1g_C.txt",
    ),
    (
        "a100-r580-4g,2g,1g",
        A100,
        "r560",
        ["4g.20gb", "2g.10gb", "1g.5gb"],
        False,
        "a100_40gb_r580_cgi_messages.txt",
    ),
]


@pytest.mark.parametrize(
    "model,scheme,specs,default_ci,fixture",
    [t[1:] for t in TRANSCRIPTS],
    ids=[t[0] for t in TRANSCRIPTS],
)
def test_cgi_transcripts(ref, model, scheme, specs, default_ci, fixture):
    state = MigState(model, id_scheme=scheme)
    created = placement.create_gis(state, specs, default_ci=default_ci)
    assert "\n".join(cgi_transcript(0, model, created)) == ref(fixture)


def test_cgi_with_default_ci_matches_the_guide_messages(ref):
    # §2.5(a): -cgi 9,3g.20gb -C: GI 2 then GI 1, each with CI 0 of profile 3g.20gb (ID 2).
    state = a100("legacy")
    created = placement.create_gis(state, [9, "3g.20gb"], default_ci=True)
    assert "\n".join(cgi_transcript(0, A100, created)) == ref("transcript_cgi_9_3g_C.txt")


def test_insufficient_resources_transcript(ref):
    # §2.5(c): "-cgi 19,19,14,9": three created, then the error lines; the three remain.
    state = a100("legacy")
    with pytest.raises(InsufficientResourcesError) as err:
        placement.create_gis(state, [19, 19, 14, 9])
    lines = cgi_transcript(0, A100, err.value.done) + list(err.value.lines)
    assert "\n".join(lines) == ref("transcript_cgi_19_19_14_9.txt")
    assert len(state.gpu_instances) == 3


def test_nvidia_smi_echoes_the_profile_as_typed():
    state = a100()
    placement.create_gis(state, ["7g.40gb"])
    with pytest.raises(InsufficientResourcesError) as err:
        placement.create_gi(state, "MIG 1g.5gb")
    assert err.value.lines[0].endswith("using profile MIG 1g.5gb: Insufficient Resources")


def test_invalid_argument_for_a_profile_the_gpu_lacks(ref):
    # §2.5(h): "-cgi 7g.40gb" on a GPU without that profile.
    with pytest.raises(InvalidArgumentError) as err:
        placement.create_gi(MigState("H100-SXM5-80GB"), "7g.40gb")
    assert str(err.value) == ref("transcript_cgi_invalid_argument.txt")


@pytest.mark.parametrize(
    "model,scheme,specs,fixture",
    [
        (A100, "legacy", [9, 19, 14, 19], "a100_guide_lgi_c.txt"),
        (A100, "legacy", [14, 19, 19, 19, 19, 19], "a100_guide_lgi_d.txt"),
        (A100, "legacy", [19, 14, 5], "a100_guide_lgi_b.txt"),
        (A100, "legacy", [19] * 7, "a100_guide_lgi_e.txt"),
        ("H100-SXM5-80GB", "legacy", [9, 14], "h100_sxm_lgi.txt"),
        (A100, "r560", ["4g.20gb", "2g.10gb", "1g.5gb"], "a100_40gb_r580_lgi.txt"),
    ],
    ids=[
        "guide-lgi-c",
        "guide-lgi-d",
        "guide-lgi-b",
        "mig-parted-7x1g-lgi-e",
        "h100-lgi",
        "r580-lgi",
    ],
)
def test_gi_ids_and_placements_match_captured_lgi(ref, model, scheme, specs, fixture):
    state = MigState(model, id_scheme=scheme)
    placement.create_gis(state, specs)
    expected = {(r.gi_id, r.name, r.start, r.size) for r in parse_lgi(ref(fixture))}
    assert set(gis(state)) == expected


def test_h100_nvl_r560_ids():
    # §1.4 [S15] driver 560: "-cgi 9,15,19 -C" -> GI 1 (3g), GI 5 (1g.24gb), GI 13 (1g.12gb).
    state = MigState("H100-NVL-94GB")
    created = placement.create_gis(state, [9, 15, 19], default_ci=True)
    assert [g.gi_id for g in created] == [1, 5, 13]


# Observed driver choices (§1.7): (id, existing GIs, profile, expected start)
CHOICES = [
    ("1g-on-empty-goes-right", [], "1g.5gb", 6),
    ("2g-on-empty-at-4", [], "2g.10gb", 4),
    ("3g-on-empty-at-4", [], "3g.20gb", 4),
    ("1g-after-3g-at-0", ["3g.20gb:4"], "1g.5gb", 0),
    ("1g-after-1g-at-4", ["1g.5gb:6"], "1g.5gb", 4),
    ("2g-after-two-1g-at-0", ["1g.5gb:6", "1g.5gb:4"], "2g.10gb", 0),
    ("2g-after-1g-at-4", ["1g.5gb:6"], "2g.10gb", 4),
    ("1g-after-4g-2g-at-6", ["4g.20gb:0", "2g.10gb:4"], "1g.5gb", 6),
]


@pytest.mark.parametrize(
    "existing,profile,start", [c[1:] for c in CHOICES], ids=[c[0] for c in CHOICES]
)
def test_choose_placement_follows_observed_driver_choices(existing, profile, start):
    state = a100()
    placement.create_gis(state, existing)
    assert placement.choose_placement(state, profile) == start


@pytest.mark.parametrize(
    "start,size,r560,legacy",
    [
        (0, 8, 0, 0),
        (0, 4, 2, 1),
        (4, 4, 1, 2),
        (4, 2, 3, 5),
        (0, 2, 5, 3),
        (6, 1, 9, 13),
        (0, 1, 11, 7),
        (3, 1, 14, 10),
    ],
    ids=lambda v: str(v),
)
def test_gi_id_schemes(start, size, r560, legacy):
    assert placement.gi_id_for(start, size, "r560") == r560
    assert placement.gi_id_for(start, size, "legacy") == legacy


# ---- max count, fragmentation, explicit placements ------------------------------------------
def test_only_one_media_extension_instance():
    state = a100()
    placement.create_gi(state, "1g.5gb+me")
    assert placement.free_count(state, "1g.5gb+me") == 0
    assert placement.free_count(state, "1g.5gb") == 6  # six 1-slice starts still free
    with pytest.raises(InsufficientResourcesError) as err:
        placement.create_gi(state, 20)
    assert err.value.lines == (
        "Unable to create a GPU instance on GPU  0 using profile 20: Insufficient Resources",
        "Failed to create GPU instances: Insufficient Resources",
    )


def test_fragmentation_blocks_3g_despite_free_slices():
    # 1g.5gb at slices 1 and 5: six memory slices and five compute slices are free, yet neither
    # 3g.20gb start (0:4, 4:4) nor 4g.20gb (0:4) is whole (§1.0 fragmentation).
    state = a100()
    placement.create_gis(state, ["1g.5gb:1", "1g.5gb:5"])
    assert 8 - len(placement.used_slices(state)) == 6
    assert [p.name for p in placement._fragmented_profiles(state)] == ["3g.20gb", "4g.20gb"]
    assert placement.free_count(state, "3g.20gb") == 0
    with pytest.raises(InsufficientResourcesError):
        placement.create_gi(state, "3g.20gb")
    placement.destroy_gi(state, state.gpu_instances[0].gi_id)
    assert placement._fragmented_profiles(state) == []


def test_no_fragmentation_when_the_gpu_is_simply_full():
    state = a100()
    placement.create_gis(state, ["3g.20gb", "3g.20gb"])
    assert placement._fragmented_profiles(state) == []


@pytest.mark.parametrize(
    "spec,kwargs,error",
    [
        ("1g.5gb:7", {}, InvalidArgumentError),
        ("3g.20gb:2", {}, InvalidArgumentError),
        ("3g.20gb", {"start": 1}, InvalidArgumentError),
        ("2g.10gb:0", {}, InsufficientResourcesError),
        ("7g.40gb", {}, InsufficientResourcesError),
        ("5g.25gb", {}, InvalidArgumentError),
    ],
    ids=["start-not-allowed", "3g-at-2", "start-keyword", "occupied", "no-room", "unknown-profile"],
)
def test_explicit_placement_errors(spec, kwargs, error):
    state = a100()
    placement.create_gi(state, "1g.5gb:0")
    with pytest.raises(error) as err:
        placement.create_gi(state, spec, **kwargs)
    assert (
        err.value.lines[0]
        == f"Unable to create a GPU instance on GPU  0 using profile {spec}: {error.reason}"
    )
    assert len(state.gpu_instances) == 1


def test_explicit_placement_is_honoured():
    state = a100()
    assert placement.create_gi(state, "19:3").start == 3
    assert placement.create_gi(state, "2g.10gb", start=4).start == 4
    assert placement._free_starts(state, "1g.5gb") == [0, 1, 2, 6]


# ---- destroy --------------------------------------------------------------------------------
def test_destroy_gi_with_a_ci_is_refused_verbatim(ref):
    # §2.8(b): "Unable to destroy GPU instance ID  1 from GPU  7: In use by another client"
    state = a100()
    gi = placement.create_gi(state, "3g.20gb", default_ci=True)
    assert gi.gi_id == 1
    with pytest.raises(InUseError) as err:
        placement.destroy_gis(state, gpu_index=7)
    assert str(err.value) == ref("transcript_dgi_in_use.txt")
    assert state.gpu_instances == [gi]


def test_destroy_transcript_of_the_guide(ref):
    # §2.8(a): "-dci -ci 0,1,2 -gi 1" then "-dgi": GIs 1 and 2 on a two-3g GPU.
    state = a100()
    placement.create_gis(state, [9, 9])
    for _ in range(3):
        compute.create_ci(state, 1, "1c.3g.20gb")
    lines = [dci_message(0, g, ci.ci_id) for g, ci in compute.destroy_cis(state, [1], [0, 1, 2])]
    lines += [dgi_message(0, gi.gi_id) for gi in placement.destroy_gis(state)]
    assert "\n".join(lines) == ref("transcript_dci_dgi_guide.txt")
    assert state.gpu_instances == []


def test_destroy_missing_instances_is_not_found():
    state = a100()
    with pytest.raises(
        NotFoundError, match="Unable to destroy GPU instance ID  4 from GPU  0: Not Found"
    ):
        placement.destroy_gi(state, 4)
    placement.create_gi(state, "1g.5gb")
    with pytest.raises(NotFoundError):
        compute.destroy_ci(state, 9, 0)


def test_destroy_all_cis_then_all_gis():
    state = a100()
    placement.create_gis(state, ["4g.20gb", "2g.10gb", "1g.5gb"], default_ci=True)
    done = compute.destroy_cis(state)
    assert [(g, ci.ci_id) for g, ci in done] == [(2, 0), (3, 0), (9, 0)]
    assert [g.gi_id for g in placement.destroy_gis(state)] == [2, 3, 9]


# ---- compute instances ----------------------------------------------------------------------
def test_ci_free_counts_and_placements_of_the_580_capture():
    # §2.7(c): 1c.2g.10gb 2/2 -> 1/2 -> 0/2 and 2g.10gb 1/1 -> 0/1; CIs 0 and 1 at 0:1, 1:1;
    # the 4g.20gb full CI prints 0:4.
    state = a100()
    placement.create_gis(state, ["4g.20gb", "2g.10gb", "1g.5gb"])
    counts = []
    for _ in range(2):
        counts.append([compute.ci_free_count(state, 3, p) for p in ("1c.2g.10gb", "2g.10gb")])
        compute.create_ci(state, 3, "1c.2g.10gb")
    counts.append([compute.ci_free_count(state, 3, p) for p in ("1c.2g.10gb", "2g.10gb")])
    assert counts == [[2, 1], [1, 0], [0, 0]]
    full = compute.create_ci(state, 2, "4g.20gb")
    assert (full.ci_id, full.start, full.size) == (0, 0, 4)
    assert [(c.ci_id, c.start, c.size) for c in state.find_gi(3).compute_instances] == [
        (0, 0, 1),
        (1, 1, 1),
    ]


def test_ci_creation_errors():
    state = a100()
    gi = placement.create_gi(state, "2g.10gb", default_ci=True)
    with pytest.raises(InsufficientResourcesError) as err:
        compute.create_ci(state, gi.gi_id, "1c.2g.10gb")
    assert err.value.lines[1] == "Failed to create compute instances: Insufficient Resources"
    with pytest.raises(InvalidArgumentError):
        compute.create_ci(state, gi.gi_id, "1c.3g.20gb")
    with pytest.raises(NotFoundError):
        compute.create_ci(state, 12)


def test_freed_ci_id_is_reused():
    state = a100()
    gi = placement.create_gi(state, "3g.20gb")
    for _ in range(3):
        compute.create_ci(state, gi.gi_id, 0)
    compute.destroy_ci(state, gi.gi_id, 1)
    again = compute.create_ci(state, gi.gi_id, 0)
    assert (again.ci_id, again.start) == (1, 1)


# ---- state serialisation ----------------------------------------------------------------------
def test_state_round_trips_through_json():
    state = a100()
    placement.create_gis(state, ["4g.20gb", "2g.10gb", "1g.5gb"], default_ci=True)
    compute.destroy_ci(state, 3, 0)
    compute.create_ci(state, 3, "1c.2g.10gb")
    data = json.loads(json.dumps(state.to_dict()))
    assert MigState.from_dict(data) == state
    assert data["gpu_instances"][0] == {
        "id": 2,
        "profile": "4g.20gb",
        "start": 0,
        "size": 4,
        "compute_instances": [{"id": 0, "profile": "4g.20gb", "start": 0, "size": 4}],
    }


@pytest.mark.parametrize(
    "instances,message",
    [
        ([{"id": 1, "profile": "3g.20gb", "start": 2, "size": 4}], "not a placement of 3g.20gb"),
        (
            [
                {"id": 2, "profile": "4g.20gb", "start": 0, "size": 4},
                {"id": 7, "profile": "1g.5gb", "start": 0, "size": 1},
            ],
            "overlaps",
        ),
        (
            [
                {
                    "id": 9,
                    "profile": "1g.5gb",
                    "start": 6,
                    "size": 1,
                    "compute_instances": [{"id": 0, "profile": "2g.10gb", "start": 0, "size": 2}],
                }
            ],
            "cannot live in a 1g.5gb GI",
        ),
    ],
    ids=["bad-start", "overlap", "ci-of-another-gi"],
)
def test_from_dict_rejects_impossible_states(instances, message):
    with pytest.raises(ValueError, match=message):
        MigState.from_dict({"model": A100, "gpu_instances": instances})


def test_a_gpu_without_mig_has_no_mig_state():
    with pytest.raises(NotMigCapableError, match="^T4 is not MIG capable"):
        MigState("T4")


def test_unknown_id_scheme_is_refused():
    with pytest.raises(ValueError, match="unknown id_scheme 'r999'"):
        MigState(A100, id_scheme="r999")


def test_mig_error_keeps_lines_and_done():
    err = MigError(["a", "b"], done=[1])
    assert (str(err), err.lines, err.done) == ("a\nb", ("a", "b"), [1])
