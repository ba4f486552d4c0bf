"""The layout planner: least-waste layouts, explained infeasibility, determinism."""

from __future__ import annotations

import itertools
import random

import pytest

from labkit.mig import placement
from labkit.mig.catalog import NotMigCapableError, UnknownProfileError, get_model
from labkit.mig.planner import (
    InfeasibleLayoutError,
    TenantRequest,
    as_request,
    candidates,
    plan_layout,
)
from labkit.mig.state import MigState

A100 = "A100-SXM4-40GB"

# (id, model, requests, expected (profile, start) per request)
FEASIBLE = [
    ("a100-20-10-5", A100, [20, 10, 5], [("3g.20gb", 0), ("1g.10gb", 6), ("1g.5gb", 4)]),
    ("a100-8gb-takes-1g.10gb-not-2g", A100, [8], [("1g.10gb", 6)]),
    ("a100-12gb-takes-3g-not-4g", A100, ["12GB"], [("3g.20gb", 4)]),
    ("a100-seven-5gb", A100, [5] * 7, [("1g.5gb", s) for s in range(7)]),
    ("a100-sms", A100, ["28 SMs", "42 SMs", 5], [("2g.10gb", 0), ("3g.20gb", 4), ("1g.5gb", 2)]),
    ("a100-named", A100, ["4g.20gb", "3g.20gb"], [("4g.20gb", 0), ("3g.20gb", 4)]),
    ("a100-memory-and-sms", A100, [TenantRequest(memory_gb=5, sm_count=20)], [("2g.10gb", 4)]),
    ("a100-media", A100, ["1g.5gb+me", 5], [("1g.5gb+me", 5), ("1g.5gb", 4)]),
    (
        "a100-80gb-40-20-10",
        "A100-SXM4-80GB",
        [40, 20, 10],
        [("3g.40gb", 0), ("1g.20gb", 6), ("1g.10gb", 4)],
    ),
    ("h100-20-sms-is-1g.20gb", "H100-SXM5-80GB", ["20 SMs"], [("1g.20gb", 6)]),
    (
        "h100-40-10-10",
        "H100-SXM5-80GB",
        [40, 10, 10],
        [("3g.40gb", 4), ("1g.10gb", 0), ("1g.10gb", 1)],
    ),
    ("h100-pcie-two-40", "H100-PCIE-80GB", [40, 40], [("3g.40gb", 0), ("3g.40gb", 4)]),
    ("h200-18-35", "H200-141GB", [18, 35], [("1g.18gb", 4), ("1g.35gb", 6)]),
]


@pytest.mark.parametrize(
    "model,requests,expected", [f[1:] for f in FEASIBLE], ids=[f[0] for f in FEASIBLE]
)
def test_feasible_layouts(model, requests, expected):
    layout = plan_layout(model, requests)
    assert list(layout.placements) == expected
    state = layout.apply()  # the engine accepts every placement
    assert sorted((g.profile, g.start) for g in state.gpu_instances) == sorted(expected)


def _brute_force_min_slices(model: str, requests: list) -> int | None:
    """Independent check: try every profile per request and every start, keep feasible sets."""
    m = get_model(model)
    reqs = [as_request(r) for r in requests]
    best = None
    for profiles in itertools.product(*[candidates(m, r) for r in reqs]):
        slices = sum(p.memory_slices for p in profiles)
        if best is not None and slices >= best:
            continue
        for starts in itertools.product(*[p.starts for p in profiles]):
            state = MigState(model)
            try:
                for p, s in sorted(zip(profiles, starts, strict=True), key=lambda x: x[1]):
                    placement.create_gi(state, p.name, start=s)
            except placement.MigError:
                continue
            best = slices
            break
    return best


@pytest.mark.parametrize(
    "model,requests",
    [
        (A100, [20, 10, 5]),
        (A100, [3, 9, 15]),
        (A100, ["28 SMs", 6, 6]),
        ("H100-SXM5-80GB", ["20 SMs", 15, 30]),
    ],
    ids=["a100-20-10-5", "a100-3-9-15", "a100-sms-6-6", "h100-mixed"],
)
def test_layout_uses_the_fewest_memory_slices(model, requests):
    assert plan_layout(model, requests).slices_used == _brute_force_min_slices(model, requests)


def test_waste_is_reported():
    layout = plan_layout(A100, [3, "20 SMs"])
    assert [p for p, _ in layout.placements] == ["1g.5gb", "2g.10gb"]
    assert (layout.wasted_memory_gb, layout.wasted_sms) == (2, 8)
    assert (layout.slices_used, layout.slices_free) == (3, 5)


def test_cgi_argument_and_apply_with_default_ci():
    layout = plan_layout(A100, [20, 10, 5])
    assert layout.cgi_argument() == "3g.20gb:0,1g.5gb:4,1g.10gb:6"
    state = layout.apply(default_ci=True)
    assert all(len(g.compute_instances) == 1 for g in state.gpu_instances)


# (id, model, requests, exact error message)
INFEASIBLE = [
    (
        "too-big-memory",
        A100,
        [10, 50],
        "request #2 (50 GB) fits no MIG profile of A100-SXM4-40GB: the largest, 7g.40gb, "
        "has 40 GB and 98 SMs",
    ),
    (
        "too-many-sms",
        "H100-PCIE-80GB",
        ["120 SMs"],
        "request #1 (120 SMs) fits no MIG profile of H100-PCIE-80GB: the largest, 7g.80gb, "
        "has 80 GB and 114 SMs",
    ),
    (
        "one-media-extension",
        A100,
        ["1g.5gb+me", 5, "1g.5gb+me"],
        "request #3 (1g.5gb+me): A100-SXM4-40GB allows at most 1 1g.5gb+me instance (max count), "
        "requested by #1, #3",
    ),
    (
        "five-1g.10gb",
        A100,
        ["1g.10gb"] * 5,
        "request #5 (1g.10gb): A100-SXM4-40GB allows at most 4 1g.10gb instances (max count), "
        "requested by #1, #2, #3, #4, #5",
    ),
    (
        "no-placement-left",
        A100,
        [20, 20, 5],
        "request #3 (5 GB) cannot be placed on A100-SXM4-40GB: with requests #1-#2 in their "
        "least-waste layout (3g.20gb@0, 3g.20gb@4; 8 of 8 memory slices) no placement is left: "
        "1g.5gb: no free placement (starts 0, 1, 2, 3, 4, 5, 6 blocked); 1g.10gb: no free "
        "placement (starts 0, 2, 4, 6 blocked); 2g.10gb: no free placement (starts 0, 2, 4 "
        "blocked); 3g.20gb: max count 2 reached; 4g.20gb: no free placement (starts 0 blocked); "
        "7g.40gb: no free placement (starts 0 blocked)",
    ),
]


@pytest.mark.parametrize(
    "model,requests,message", [i[1:] for i in INFEASIBLE], ids=[i[0] for i in INFEASIBLE]
)
def test_infeasible_requests_are_explained(model, requests, message):
    with pytest.raises(InfeasibleLayoutError) as err:
        plan_layout(model, requests)
    assert str(err.value) == message


def test_eighth_tenant_hits_the_max_count_of_1g():
    with pytest.raises(InfeasibleLayoutError) as err:
        plan_layout(A100, [5] * 8)
    assert str(err.value).startswith("request #8 (5 GB) cannot be placed on A100-SXM4-40GB")
    assert "1g.5gb: max count 7 reached" in str(err.value)


def test_a_free_slice_that_no_profile_can_start_on_is_explained():
    # 4g + 2g + 1g fill slices 0-6; slice 7 stays free, but no 1-slice profile starts at 7.
    with pytest.raises(InfeasibleLayoutError) as err:
        plan_layout(A100, ["4g.20gb", "2g.10gb", 5, 5])
    message = str(err.value)
    assert message.startswith(
        "request #4 (5 GB) cannot be placed on A100-SXM4-40GB: with requests #1-#3 in their "
        "least-waste layout (4g.20gb@0, 2g.10gb@4, 1g.5gb@6; 7 of 8 memory slices)"
    )
    assert "1g.5gb: no free placement (starts 0, 1, 2, 3, 4, 5, 6 blocked)" in message


def test_unknown_profile_and_non_mig_models():
    with pytest.raises(
        UnknownProfileError, match="profile '3g.25gb' is not a MIG profile of A100-SXM4-40GB"
    ):
        plan_layout(A100, ["3g.25gb"])
    with pytest.raises(NotMigCapableError):
        plan_layout("T4", [5])


@pytest.mark.parametrize(
    "value,expected",
    [
        (20, TenantRequest(memory_gb=20)),
        (7.5, TenantRequest(memory_gb=7.5)),
        ("10GB", TenantRequest(memory_gb=10)),
        ("10 gb", TenantRequest(memory_gb=10)),
        ("28 SMs", TenantRequest(sm_count=28)),
        ("14sm", TenantRequest(sm_count=14)),
        ("3g.20gb", TenantRequest(profile="3g.20gb")),
    ],
    ids=["int", "float", "GB", "gb-space", "SMs", "sm", "profile"],
)
def test_request_spellings(value, expected):
    assert as_request(value) == expected


def test_media_profiles_only_when_named():
    assert "1g.5gb+me" not in [p.name for p in candidates(A100, TenantRequest(memory_gb=1))]


def test_planning_is_deterministic():
    requests = [5, 10, 20, "14 SMs"]
    first = plan_layout(A100, requests)
    assert all(plan_layout(A100, requests) == first for _ in range(5))
    shuffled = requests[:]
    random.Random(0).shuffle(shuffled)
    assert sorted(plan_layout(A100, shuffled).placements) == sorted(first.placements)


def test_empty_request_list():
    layout = plan_layout(A100, [])
    assert (layout.placements, layout.slices_used) == ((), 0)
