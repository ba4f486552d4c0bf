"""ResourceQuota admission: would this pod exceed its namespace's quota?

Lab 04. A pod over a quota is refused when it is created (HTTP 403 Forbidden), so it never
becomes Pending. The message is the apiserver's (kubernetes staging/src/k8s.io/apiserver/pkg/
admission/plugin/resourcequota/controller.go, ``CheckRequest``; ref k8s_vgpu §2.4), as kubectl
prints it after ``pods "<name>" is forbidden: ``. Quantities print like ``Quantity.String()``
for the values the labs use (integers, Ki/Mi/Gi multiples, millicores): a simplification.
``kubectl describe quota -n <namespace>`` shows used and hard on a real cluster.
"""

from __future__ import annotations

from fractions import Fraction

from labkit.k8s.manifests import effective_requests, parse_quantity

__all__ = ["check_quota", "format_quantity", "quota_usage"]


def format_quantity(value: Fraction) -> str:
    """A simplified Quantity.String(): integers plain, binary multiples as Ki/Mi/Gi, else m."""
    if value.denominator == 1:
        n = int(value)
        for suffix, power in (("Gi", 30), ("Mi", 20), ("Ki", 10)):
            if n and n % 2**power == 0 and n >= 2**power:
                return f"{n >> power}{suffix}"
        return str(n)
    return f"{int(value * 1000)}m"


def quota_usage(pod: dict) -> dict[str, Fraction]:
    """What one pod counts against quota: pods, requests.<r>, limits.<r>, and cpu/memory."""
    usage = {"pods": Fraction(1)}
    for c in (pod.get("spec") or {}).get("containers") or []:
        limits = (c.get("resources") or {}).get("limits") or {}
        for k, v in effective_requests(c).items():
            usage[f"requests.{k}"] = usage.get(f"requests.{k}", Fraction(0)) + v
        for k, v in limits.items():
            usage[f"limits.{k}"] = usage.get(f"limits.{k}", Fraction(0)) + parse_quantity(v)
    for short in ("cpu", "memory"):
        if f"requests.{short}" in usage:
            usage[short] = usage[f"requests.{short}"]
    return usage


def check_quota(pod: dict, quotas: list[dict], running: list[tuple[dict, str]]) -> str | None:
    """The admission error when ``pod`` would exceed a ResourceQuota of its namespace, else None.

    ``running`` are the ``(pod, node)`` already admitted. Format of the apiserver's quota
    admission (ref k8s_vgpu §2.4 [K8]): resources sorted, ``key=value`` joined with ``,``.
    """
    ns = (pod.get("metadata") or {}).get("namespace", "default")
    wanted = quota_usage(pod)
    for quota in quotas:
        if (quota.get("metadata") or {}).get("namespace", "default") != ns:
            continue
        hard = {k: parse_quantity(v) for k, v in ((quota.get("spec") or {}).get("hard")
                                                  or {}).items()}
        used: dict[str, Fraction] = {}
        for other, _ in running:
            if (other.get("metadata") or {}).get("namespace", "default") == ns:
                for k, v in quota_usage(other).items():
                    used[k] = used.get(k, Fraction(0)) + v
        exceeded = sorted(k for k in hard if k in wanted
                          and used.get(k, Fraction(0)) + wanted[k] > hard[k])
        if exceeded:
            def show(table, keys=tuple(exceeded)):
                return ",".join(f"{k}={format_quantity(table.get(k, Fraction(0)))}" for k in keys)

            name = (pod.get("metadata") or {}).get("name", "?")
            return (f'pods "{name}" is forbidden: exceeded quota: '
                    f"{quota['metadata']['name']}, requested: {show(wanted)}, "
                    f"used: {show(used)}, limited: {show(hard)}")
    return None
