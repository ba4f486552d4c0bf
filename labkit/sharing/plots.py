"""Pictures of the contention experiment: the noisy-neighbour effect and its removal.

Lab 03. Latencies in ms on a log axis, p99 ratios on a linear axis; every title says that the
numbers are measured, on the CPU analogue or a GPU, in which mode, over how many rounds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from labkit.sharing.contention import ContentionResult

__all__ = ["plot_noisy_neighbour"]

COLORS = {"alone": "black", "shared": "tab:red", "time-sliced": "tab:red",
          "memory-fraction": "tab:orange", "partitioned": "tab:green", "mig": "tab:green"}


def plot_noisy_neighbour(result: ContentionResult, path: str | Path | None = None,
                         tenant: str = "tenant-0", mode: str = "sim"):
    """Left: the tenant's latency CDF alone and under each scheme. Right: p99 ratio per scheme.

    Returns the matplotlib figure; saves a PNG when ``path`` is given.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    first = next(iter(result.runs))
    curves = [("alone", result.alone_latencies_ms[first][tenant])]
    curves += [(scheme, result.latencies_ms[scheme][tenant]) for scheme in result.runs]
    for label, values in curves:
        data = np.sort(np.asarray(values))
        left.step(data, np.arange(1, data.size + 1) / data.size, where="post", label=label,
                  color=COLORS.get(label), lw=2.2 if label == "alone" else 1.5,
                  ls="--" if label == "alone" else "-", zorder=3 if label == "alone" else 2)
    left.set_xscale("log")
    # Label 1-2-5 steps on the log axis (1, 2, 5, 10, 20, ...), not only the powers of ten.
    left.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    left.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel(f"{tenant} request latency (ms, log scale)")
    left.set_ylabel("fraction of requests")
    left.axhline(0.99, color="grey", lw=0.8, ls=":", label="p99 (99% of requests)")
    left.legend(loc="lower right")
    schemes = list(result.runs)
    ratios = [result.interference(s)[tenant]["p99_ratio"] for s in schemes]
    bars = right.bar(schemes, ratios, color=[COLORS.get(s, "tab:blue") for s in schemes],
                     zorder=2)
    # The reference line sits behind the bars, and each value on a white box above its bar,
    # so a ratio near 1.0 stays readable.
    right.axhline(1.0, color="grey", lw=0.8, ls="--", zorder=1,
                  label="1.0x: the same p99 as alone")
    right.bar_label(bars, fmt="%.1fx", padding=3, zorder=3,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    right.set_ylim(0, max(ratios + [1.0]) * 1.3)
    right.set_ylabel(f"{tenant} p99 / p99 alone (linear)")
    right.legend(loc="upper left")
    noisy = any(p.kind == "noisy" for p in result.participants)
    kind = "CPU analogue" if result.analogue else "GPU"
    rounds = len(result.rounds) or 1
    fig.suptitle(f"{'Noisy neighbour' if noisy else 'Contention'}, measured ({kind}, {mode} "
                 f"mode): {len(result.cores)} core(s), {rounds} round(s) of "
                 f"{result.duration_s:g} s, latencies pooled")
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=110)
    return fig
