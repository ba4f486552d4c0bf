"""MIG device names (``1g.5gb``, ``1c.2g.10gb``, ``1g.5gb+me``): parse and order them.

Lab 02: reading mig-parted's ``mig-devices`` keys. The grammar and the error texts are
go-nvlib's ``parseMigProfile`` (ref §1.8 [S3], vendored in mig-parted @ bd7160f [S2]); the order
is mig-parted's ``MigConfig.Flatten`` (largest GI first), used when it applies a config.
"""

from __future__ import annotations

import re
from functools import cmp_to_key
from typing import NamedTuple

__all__ = ["MigDeviceName", "flatten", "parse_mig_device_name"]


class MigDeviceName(NamedTuple):
    """``<C>c.<G>g.<GB>gb`` plus attributes (``+me``) or negative attributes (``-me``)."""

    c: int
    g: int
    gb: int
    attributes: tuple[str, ...] = ()
    neg_attributes: tuple[str, ...] = ()


def _field(text: str, unit: str) -> int:
    if text.strip() != text:
        raise ValueError(f"leading or trailing spaces on '%d{unit}'")
    if not text.endswith(unit):
        raise ValueError(f"missing '{unit}' from '%d{unit}'")
    number = text.removesuffix(unit)
    if not re.fullmatch(r"[+-]?\d+", number):  # what Go's strconv.Atoi accepts
        raise ValueError(f"malformed number in '%d{unit}'")
    return int(number)


def _attributes(text: str) -> tuple[str, ...]:
    attrs = text.split(",")
    for i, a in enumerate(attrs):
        if a in attrs[:i]:
            raise ValueError("non unique attribute in list")
        if a == "":
            raise ValueError("empty attribute in list")
        if a.strip() != a:
            raise ValueError("leading or trailing spaces in attribute")
        if a[0].isdigit():
            raise ValueError("attribute begins with a number")
        if a[0] == "." or a[-1] == ".":
            raise ValueError("attribute begins/ends with a dot")
        if not re.fullmatch(r"[A-Za-z0-9.]+", a):
            raise ValueError("non alpha-numeric character or digit in attribute")
    return tuple(attrs)


def parse_mig_device_name(profile: str) -> MigDeviceName:
    """Parse a MIG device name; ValueError carries go-nvlib's message."""
    if profile == "":
        raise ValueError("profile is the empty string")
    plus, minus = profile.split("+", 1), profile.split("-", 1)
    if len(plus) == 2 and len(minus) == 2:
        raise ValueError(f"profile '{profile}' contains both '+/-' attributes")
    parts = plus if len(plus) == 2 else minus
    fields = parts[0].split(".", 2)
    try:
        if len(fields) == 3:
            c, g, gb = _field(fields[0], "c"), _field(fields[1], "g"), _field(fields[2], "gb")
        elif len(fields) == 2:
            g, gb = _field(fields[0], "g"), _field(fields[1], "gb")
            c = g
        else:
            raise ValueError("parsed wrong number of fields, expected 2 or 3")
    except ValueError as err:
        raise ValueError(f"cannot parse fields of '{profile}': {err}") from None
    if len(parts) == 1:
        return MigDeviceName(c, g, gb)
    try:
        attrs = _attributes(parts[1])
    except ValueError as err:
        raise ValueError(f"cannot parse attributes of '{profile}': {err}") from None
    return (
        MigDeviceName(c, g, gb, neg_attributes=attrs)
        if len(minus) == 2
        else MigDeviceName(c, g, gb, attrs)
    )


def _order(a: str, b: str) -> int:
    pa, pb = parse_mig_device_name(a), parse_mig_device_name(b)
    if pa.g != pb.g:
        return -1 if pa.g > pb.g else 1
    if pa.c != pb.c:
        return -1 if pa.c > pb.c else 1
    attr_a, attr_b = ",".join(pa.attributes), ",".join(pb.attributes)
    if attr_a != attr_b:
        return -1 if attr_b < attr_a else 1
    return (a > b) - (a < b)  # Go's sort is unstable here; labkit breaks the tie by name


def flatten(mig_devices: dict[str, int]) -> list[str]:
    """One name per device, largest GI first, then largest CI, ``+me`` before plain (Flatten)."""
    names = [name for name, count in mig_devices.items() for _ in range(count)]
    return sorted(names, key=cmp_to_key(_order))
