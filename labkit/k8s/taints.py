"""Node taints and pod tolerations, matched the way Kubernetes matches them.

Lab 04: ``kubectl taint nodes <node> <key>=<value>:<effect>`` keeps pods off a node unless they
tolerate the taint. Matching follows the Kubernetes API's ``Toleration.ToleratesTaint``: the
effect must match (an empty effect matches all), ``Exists`` ignores the value, an empty key with
``Exists`` tolerates every taint, and ``Equal`` (the default operator) compares the value.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Taint", "tolerates"]


@dataclass(frozen=True)
class Taint:
    """A node taint, ``kubectl taint nodes <node> <key>=<value>:<effect>``."""

    key: str
    value: str = ""
    effect: str = "NoSchedule"

    @classmethod
    def parse(cls, text: str | dict | Taint) -> Taint:
        if isinstance(text, Taint):
            return text
        if isinstance(text, dict):
            return cls(text["key"], text.get("value", ""), text.get("effect", "NoSchedule"))
        head, _, effect = str(text).rpartition(":")
        key, _, value = head.partition("=")
        return cls(key, value, effect)

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else (
            f"{self.key}:{self.effect}")


def tolerates(tolerations: list[dict] | None, taint: Taint) -> bool:
    """Kubernetes' toleration matching (ToleratesTaint): key, operator, value, effect."""
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint.effect:
            continue
        op = t.get("operator", "Equal")
        if not t.get("key") and op == "Exists":
            return True  # an empty key with Exists tolerates everything
        if t.get("key") != taint.key:
            continue
        if op == "Exists" or (op == "Equal" and str(t.get("value", "")) == taint.value):
            return True
    return False
