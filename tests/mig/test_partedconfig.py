"""mig-parted configs: validation messages, selection, device filters, actions, export."""

from __future__ import annotations

import pytest

from labkit.mig import partedconfig as pc
from labkit.mig.catalog import UnknownProfileError
from labkit.mig.profilename import flatten, parse_mig_device_name
from labkit.mig.state import MigState

A100 = "A100-SXM4-40GB"
HEAD = "version: v1\nmig-configs:\n"


def entry(body: str) -> str:
    """A one-entry config ``c`` whose entry fields are ``body`` (YAML, one field per line)."""
    return HEAD + "  c:\n  - " + body.strip().replace("\n", "\n    ") + "\n"


# (id, YAML, mig-parted's message) -- ref §3.1 [S2 spec.go, mig_config.go]; Go json wording where
# mig-parted passes encoding/json's error on.
INVALID = [
    ("unknown-version", "version: v2\nmig-configs: {}\n", "unknown version: v2"),
    ("empty-document-has-no-version", "", "unknown version: "),
    ("missing-version", "mig-configs:\n  a: []\n", "unable to parse with missing 'version' field"),
    ("unexpected-top-level-field", "version: v1\nconfigs: {}\n", "unexpected field: configs"),
    (
        "no-configs",
        "version: v1\nmig-configs: {}\n",
        "at least one entry in 'mig-configs' is required",
    ),
    ("empty-config", HEAD + "  all-1g.5gb: []\n", "at least one entry in 'all-1g.5gb' is required"),
    ("missing-devices", entry("mig-enabled: false"), "missing required field: devices"),
    ("missing-mig-enabled", entry("devices: all"), "missing required field: mig-enabled"),
    (
        "devices-string",
        entry("devices: some\nmig-enabled: false"),
        "invalid string input for 'devices': some",
    ),
    (
        "devices-number",
        entry("devices: 3\nmig-enabled: false"),
        "(json: cannot unmarshal number into Go value of type string, "
        "json: cannot unmarshal number into Go value of type []int)",
    ),
    (
        "devices-list-of-strings",
        entry('devices: ["0"]\nmig-enabled: false'),
        "(json: cannot unmarshal array into Go value of type string, "
        "json: cannot unmarshal string into Go value of type int)",
    ),
    (
        "mig-enabled-not-bool",
        entry('devices: all\nmig-enabled: "yes"'),
        "json: cannot unmarshal string into Go value of type bool",
    ),
    (
        "mig-devices-missing",
        entry("devices: all\nmig-enabled: true"),
        "missing required field 'mig-devices' when 'mig-enabled' is true",
    ),
    (
        "mig-devices-when-disabled",
        entry("devices: all\nmig-enabled: false\nmig-devices:\n  1g.5gb: 7"),
        "MIG devices included when 'mig-enabled' is false",
    ),
    (
        "negative-count",
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  1g.5gb: -1"),
        "error validating values in 'mig-devices' field: invalid count for '-1': <nil>",
    ),
    (
        "all-counts-zero",
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  1g.5gb: 0\n  2g.10gb: 0"),
        "error validating values in 'mig-devices' field: all counts for all MigProfiles are 0",
    ),
    (
        "bad-profile-string",
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  1x.5gb: 1"),
        "error validating values in 'mig-devices' field: invalid format for '1x.5gb': "
        "cannot parse fields of '1x.5gb': missing 'g' from '%dg'",
    ),
    (
        "count-not-int",
        entry('devices: all\nmig-enabled: true\nmig-devices:\n  1g.5gb: "7"'),
        "json: cannot unmarshal string into Go value of type int",
    ),
    (
        "unexpected-entry-field",
        entry("devices: all\nmig-enabled: false\nmig-mode: on"),
        "unexpected field: mig-mode",
    ),
    (
        "device-filter-number",
        entry("device-filter: 7\ndevices: all\nmig-enabled: false"),
        "(json: cannot unmarshal number into Go value of type string, "
        "json: cannot unmarshal number into Go value of type []string)",
    ),
]


@pytest.mark.parametrize("text,message", [i[1:] for i in INVALID], ids=[i[0] for i in INVALID])
def test_invalid_configs_fail_with_mig_parted_messages(text, message):
    with pytest.raises(pc.MigPartedConfigError) as err:
        pc.load(text)
    assert str(err.value) == message


def test_yaml_syntax_errors_are_reported():
    with pytest.raises(pc.MigPartedConfigError, match="^unmarshal error: "):
        pc.load("version: v1\nmig-configs: [\n")


VALID = [
    ("enabled-without-devices", entry("devices: all\nmig-enabled: true\nmig-devices: {}")),
    ("device-list", entry("devices: [0, 1]\nmig-enabled: false")),
    ("filter-string", entry('device-filter: "0x20B010DE"\ndevices: all\nmig-enabled: false')),
    (
        "filter-list",
        entry(
            'device-filter: ["A100-SXM4-40GB", "A100-PCIE-40GB"]\ndevices: all\nmig-enabled: false'
        ),
    ),
    (
        "zero-and-positive",
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  1g.5gb: 0\n  2g.10gb: 3"),
    ),
    (
        "ci-profile-and-media",
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  1c.2g.10gb: 2\n  1g.5gb+me: 1"),
    ),
    ("version-only", "version: v1\n"),
]


@pytest.mark.parametrize("text", [v[1] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_configs_load(text):
    cfg = pc.load(text)
    assert cfg.version == "v1"


def test_examples_config_loads_completely(ref):
    # §3.2 [S2] examples/config.yaml, every named config.
    cfg = pc.load(ref("mig_parted_examples_config.yaml"))
    assert list(cfg.mig_configs) == [
        "all-disabled",
        "all-enabled",
        "all-1g.5gb",
        "all-1g.5gb.me",
        "all-1g.10gb",
        "all-2g.10gb",
        "all-3g.20gb",
        "all-balanced",
        "custom-config",
    ]
    custom = pc.select(cfg, "custom-config")
    assert [e.devices for e in custom] == [(0, 1, 2, 3), (4,), (5,), (6,), (7,)]
    assert pc.select(cfg, "all-balanced")[0].mig_devices == {
        "1g.5gb": 2,
        "2g.10gb": 1,
        "3g.20gb": 1,
    }
    assert pc.select(cfg, "all-enabled")[0].mig_devices == {}


def test_load_reads_a_path(tmp_path, ref):
    path = tmp_path / "config.yaml"
    path.write_text(ref("mig_parted_examples_config.yaml"))
    assert pc.load(path) == pc.load(str(path)) == pc.load(ref("mig_parted_examples_config.yaml"))


def test_select_messages(ref):
    cfg = pc.load(ref("mig_parted_examples_config.yaml"))
    with pytest.raises(
        pc.MigPartedConfigError, match="^selected mig-config not present: all-7g.40gb$"
    ):
        pc.select(cfg, "all-7g.40gb")
    with pytest.raises(
        pc.MigPartedConfigError,
        match="^missing required flag 'selected-config' when more than one config available$",
    ):
        pc.select(cfg)
    single = pc.load(entry("devices: all\nmig-enabled: false"))
    assert pc.select(single) == single.mig_configs["c"]


# config-default.yaml excerpt (§3.3): 7x 1g.10gb for the 80GB family, 4x for A100-40GB.
@pytest.mark.parametrize(
    "model,count",
    [(A100, 4), ("A100-SXM4-80GB", 7), ("H100-SXM5-80GB", 7)],
    ids=["a100-40gb", "a100-80gb", "h100-sxm5"],
)
def test_device_filter_picks_the_entry_for_the_gpu(ref, model, count):
    cfg = pc.load("version: v1\nmig-configs:\n" + ref("mig_parted_config_default_excerpt.yaml"))
    matching = [e for e in pc.select(cfg, "all-1g.10gb") if pc.matches(e, 0, model)]
    assert len(matching) == 1
    state = pc.apply_actions(MigState(model), pc.to_actions(model, matching[0]))
    assert pc.mig_devices_of(state) == {"1g.10gb": count}


def test_device_filter_by_model_name_and_devices_list():
    spec = pc.load(entry('device-filter: ["A100-SXM4-40GB"]\ndevices: [1, 3]\nmig-enabled: false'))
    (e,) = pc.select(spec, "c")
    assert [pc.matches(e, i, A100) for i in range(4)] == [False, True, False, True]
    assert not pc.matches(e, 1, "H100-SXM5-80GB")
    with pytest.raises(pc.MigPartedConfigError, match="does not match H100-SXM5-80GB"):
        pc.to_actions("H100-SXM5-80GB", e)


@pytest.mark.parametrize(
    "name,devices",
    [
        ("all-1g.5gb", {"1g.5gb": 7}),
        ("all-1g.5gb.me", {"1g.5gb+me": 1}),
        ("all-1g.10gb", {"1g.10gb": 4}),
        ("all-2g.10gb", {"2g.10gb": 3}),
        ("all-3g.20gb", {"3g.20gb": 2}),
        ("all-balanced", {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1}),
        ("all-enabled", {}),
    ],
)
def test_examples_apply_on_an_a100(ref, name, devices):
    cfg = pc.load(ref("mig_parted_examples_config.yaml"))
    (spec,) = pc.select(cfg, name)
    state = pc.apply_actions(MigState(A100), pc.to_actions(A100, spec))
    assert pc.mig_devices_of(state) == devices


def test_balanced_actions_place_the_largest_first(ref):
    (spec,) = pc.select(pc.load(ref("mig_parted_examples_config.yaml")), "all-balanced")
    actions = pc.to_actions(A100, spec)
    assert [(a.profile, a.start, a.compute_profiles) for a in actions] == [
        ("3g.20gb", 4, ("3g.20gb",)),
        ("2g.10gb", 0, ("2g.10gb",)),
        ("1g.5gb", 2, ("1g.5gb",)),
        ("1g.5gb", 3, ("1g.5gb",)),
    ]


def test_ci_profiles_share_a_gi_while_it_has_room():
    spec = pc.load(
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  1c.3g.20gb: 4")
    ).mig_configs["c"][0]
    actions = pc.to_actions(A100, spec)
    assert [a.compute_profiles for a in actions] == [("1c.3g.20gb",) * 3, ("1c.3g.20gb",)]


def test_disabled_entry_needs_no_action():
    spec = pc.load(entry("devices: all\nmig-enabled: false")).mig_configs["c"][0]
    assert pc.to_actions(A100, spec) == []


def test_profiles_of_another_gpu_are_named():
    spec = pc.load(
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  3g.25gb: 1")
    ).mig_configs["c"][0]
    with pytest.raises(UnknownProfileError) as err:
        pc.to_actions(A100, spec)
    assert str(err.value) == (
        "profile '3g.25gb' is not a MIG profile of A100-SXM4-40GB (valid: 1g.5gb, 1g.5gb+me, "
        "1g.10gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb)"
    )


def test_configs_that_cannot_fit_fail_after_every_ordering():
    spec = pc.load(
        entry("devices: all\nmig-enabled: true\nmig-devices:\n  3g.20gb: 2\n  1g.5gb: 1")
    ).mig_configs["c"][0]
    with pytest.raises(pc.MigPartedConfigError) as err:
        pc.to_actions(A100, spec)
    assert str(err.value).endswith(
        "error attempting multiple config orderings: all orderings failed"
    )


def test_export_matches_the_readme_example(ref):
    # §3.4: all-balanced on every GPU exports as one "current" entry with devices: all.
    (spec,) = pc.select(pc.load(ref("mig_parted_examples_config.yaml")), "all-balanced")
    states = {i: pc.apply_actions(MigState(A100), pc.to_actions(A100, spec)) for i in range(2)}
    assert pc.export(states) == ref("mig_parted_export_readme.yaml") + "\n"


def _states_for(cfg: pc.MigPartedConfig, name: str, models: dict[int, str]) -> dict:
    states = {}
    for index, model in models.items():
        (spec,) = [e for e in pc.select(cfg, name) if pc.matches(e, index, model)]
        states[index] = (
            pc.apply_actions(MigState(model), pc.to_actions(model, spec))
            if spec.mig_enabled
            else model
        )
    return states


def test_export_load_round_trip_on_a_mixed_node(ref):
    cfg = pc.load(ref("mig_parted_examples_config.yaml"))
    node = {i: A100 for i in range(8)}
    states = _states_for(cfg, "custom-config", node)
    text = pc.export(states)
    again = _states_for(pc.load(text), "current", node)
    assert pc.export(again) == text
    assert {i: pc.mig_devices_of(s) for i, s in again.items() if isinstance(s, MigState)} == {
        4: {"1g.5gb": 7},
        5: {"2g.10gb": 3},
        6: {"3g.20gb": 2},
        7: {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1},
    }
    assert "devices: [0, 1, 2, 3]\n    mig-enabled: false\n    mig-devices: {}" in text
    assert "device-filter" not in text  # one GPU model on the node: no filter needed


def test_export_with_two_models_keeps_device_filters():
    # As mig-parted's mergeMigConfigSpecs: GPUs 0 and 1 share a setting; "all" would also
    # cover GPU 2 (same filter as GPU 0), so the list stays explicit.
    h100 = MigState("H100-SXM5-80GB")
    text = pc.export({0: MigState(A100), 1: h100, 2: A100})
    assert text == (
        "version: v1\n"
        "mig-configs:\n"
        "  current:\n"
        '  - device-filter: ["0x20B010DE", "0x233010DE"]\n'
        "    devices: [0, 1]\n"
        "    mig-enabled: true\n"
        "    mig-devices: {}\n"
        '  - device-filter: "0x20B010DE"\n'
        "    devices: [2]\n"
        "    mig-enabled: false\n"
        "    mig-devices: {}\n"
    )
    assert pc.load(text).mig_configs["current"][1].devices == (2,)


# go-nvlib's profile-name grammar (§1.8 [S3]): accepted names and error texts.
@pytest.mark.parametrize(
    "name,parsed",
    [
        ("1g.5gb", (1, 1, 5, (), ())),
        ("1c.2g.10gb", (1, 2, 10, (), ())),
        ("1g.5gb+me", (1, 1, 5, ("me",), ())),
        ("1g.24gb-me", (1, 1, 24, (), ("me",))),
        ("2g.48gb+me.all", (2, 2, 48, ("me.all",), ())),
    ],
    ids=["gi", "ci", "plus-me", "minus-me", "me.all"],
)
def test_parse_mig_device_name(name, parsed):
    assert tuple(parse_mig_device_name(name)) == parsed


@pytest.mark.parametrize(
    "name,message",
    [
        ("", "profile is the empty string"),
        ("1g.5gb+me-x", "profile '1g.5gb+me-x' contains both '+/-' attributes"),
        ("1g", "cannot parse fields of '1g': parsed wrong number of fields, expected 2 or 3"),
        ("xg.5gb", "cannot parse fields of 'xg.5gb': malformed number in '%dg'"),
        ("1g.5", "cannot parse fields of '1g.5': missing 'gb' from '%dgb'"),
        ("1g.5gb+", "cannot parse attributes of '1g.5gb+': empty attribute in list"),
        ("1g.5gb+me,me", "cannot parse attributes of '1g.5gb+me,me': non unique attribute in list"),
        ("1g.5gb+1me", "cannot parse attributes of '1g.5gb+1me': attribute begins with a number"),
        ("1g.5gb+.me", "cannot parse attributes of '1g.5gb+.me': attribute begins/ends with a dot"),
        (
            "1g.5gb+m_e",
            "cannot parse attributes of '1g.5gb+m_e': "
            "non alpha-numeric character or digit in attribute",
        ),
    ],
    ids=[
        "empty",
        "both-signs",
        "one-field",
        "bad-number",
        "missing-unit",
        "empty-attr",
        "repeat",
        "digit",
        "dot",
        "underscore",
    ],
)
def test_parse_mig_device_name_errors(name, message):
    with pytest.raises(ValueError) as err:
        parse_mig_device_name(name)
    assert str(err.value) == message


def test_flatten_orders_largest_gi_first():
    order = flatten({"1g.5gb": 2, "1g.5gb+me": 1, "3g.20gb": 1, "1c.3g.20gb": 1, "2g.10gb": 1})
    assert order == ["3g.20gb", "1c.3g.20gb", "2g.10gb", "1g.5gb+me", "1g.5gb", "1g.5gb"]
