"""Lab 07 stage 6: a concurrency sweep with perf_analyzer's method (shared/reference/perf.md §1.2).

perf_analyzer itself has no wheel for this machine's glibc, so this is a Python load
generator that follows its rules:

- concurrency mode: N synchronous clients, so N requests are always outstanding;
- time windows (perf_analyzer's default 5,000 ms; shorter in quick runs) until the last 3
  agree within the stability percentage (10 %) in infer/s and in latency (the average, or
  the chosen percentile), at most 10 windows; the result is the last 3 windows together;
- infer/s = completed requests x batch size / window seconds; p50/p90/p95/p99 latency;
- the server side from Triton's statistics over the same windows: queue, compute input,
  compute infer, compute output per request; what remains of the client's average
  latency is "Network+Server Send/Recv";
- CSV with perf_analyzer's columns in its order (times in microseconds), rows sorted by
  increasing throughput, as ``-f`` writes them: one file per model (configuration), since
  perf_analyzer's columns have none naming it (``write_config_csvs``). "Client Send" and
  "Client Recv" are 0: this generator does not time the client's serialisation apart, so
  that time is inside "Network+Server Send/Recv".

The same sweep with the real tool, from the SDK container (docker-compose profile
``perf``)::

    perf_analyzer -m classifier -u localhost:8001 -i grpc -b 1 \\
        --concurrency-range 1:16 --shape images:3,48,48 -f perf.csv
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["CSV_COLUMNS", "LoadPoint", "measure", "sweep", "write_csv",
           "write_config_csvs", "read_csv",
           "plot_latency_throughput", "random_tensor_inputs", "image_inputs",
           "percentile_us", "DEFAULT_WINDOW_S", "STABILITY", "MAX_TRIALS"]

CSV_COLUMNS = ["Concurrency", "Inferences/Second", "Client Send", "Network+Server Send/Recv",
               "Server Queue", "Server Compute Input", "Server Compute Infer",
               "Server Compute Output", "Client Recv", "p50 latency", "p90 latency",
               "p95 latency", "p99 latency"]
DEFAULT_WINDOW_S = 5.0   # perf_analyzer -p 5000
STABILITY = 0.10         # --stability-percentage 10
MAX_TRIALS = 10          # --max-trials 10


@dataclass
class LoadPoint:
    """One concurrency level's result; times in microseconds."""

    model: str
    concurrency: int
    batch_size: int
    infer_per_s: float
    p50_us: float
    p90_us: float
    p95_us: float
    p99_us: float
    avg_us: float
    server_queue_us: float
    server_compute_input_us: float
    server_compute_infer_us: float
    server_compute_output_us: float
    network_server_us: float
    avg_batch: float          # inferences per execution on the server (batching at work)
    requests: int
    errors: int
    windows: int
    stable: bool
    window_s: float
    label: str = ""
    extra: dict = field(default_factory=dict)

    def csv_row(self) -> dict:
        return {"Concurrency": self.concurrency,
                "Inferences/Second": round(self.infer_per_s, 2), "Client Send": 0,
                "Network+Server Send/Recv": round(self.network_server_us),
                "Server Queue": round(self.server_queue_us),
                "Server Compute Input": round(self.server_compute_input_us),
                "Server Compute Infer": round(self.server_compute_infer_us),
                "Server Compute Output": round(self.server_compute_output_us),
                "Client Recv": 0, "p50 latency": round(self.p50_us),
                "p90 latency": round(self.p90_us), "p95 latency": round(self.p95_us),
                "p99 latency": round(self.p99_us)}

    def to_dict(self) -> dict:
        return asdict(self)


def percentile_us(latencies_s: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of latencies given in seconds, in microseconds."""
    return float(np.percentile(np.asarray(latencies_s) * 1e6, q)) if latencies_s else 0.0


def _is_stable(windows: list[dict], *, stability: float = STABILITY,
              percentile: int | None = None) -> bool:
    """perf_analyzer's rule: the last 3 windows' max/min within ``stability``, for infer/s
    and for latency (the average, or the ``percentile`` when one is given)."""
    if len(windows) < 3:
        return False
    recent = windows[-3:]
    key = f"p{percentile}_us" if percentile else "avg_us"
    for metric in ("infer_per_s", key):
        values = [w[metric] for w in recent]
        if min(values) <= 0 or max(values) / min(values) > 1 + stability:
            return False
    return True


def random_tensor_inputs(shape: tuple[int, ...], *, name: str = "images",
                         seed: int = 0) -> Callable[[], dict[str, np.ndarray]]:
    """Input factory: one fixed random float32 tensor (perf_analyzer's default data)."""
    array = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return lambda: {name: array}


def image_inputs(blobs: list[bytes], *, name: str = "IMAGE"):
    """Input factory cycling through encoded images (one per request)."""
    from .client import pack_images

    packed = [pack_images([b]) for b in blobs]
    counter = iter(range(1 << 62))
    return lambda: {name: packed[next(counter) % len(packed)]}


class _Worker(threading.Thread):
    def __init__(self, url, protocol, model, inputs, outputs, stop):
        super().__init__(daemon=True)
        self.url, self.protocol, self.model = url, protocol, model
        self.inputs, self.outputs, self.stop = inputs, outputs, stop
        self.done: list[tuple[float, float]] = []  # (end time, latency) in seconds
        self.errors = 0
        self.lock = threading.Lock()

    def run(self):
        if self.protocol == "grpc":
            import tritonclient.grpc as module
        else:
            import tritonclient.http as module
        client = module.InferenceServerClient(self.url)
        try:
            while not self.stop.is_set():
                request = []
                for name, array in self.inputs().items():
                    dtype = "UINT8" if array.dtype == np.uint8 else "FP32"
                    tensor = module.InferInput(name, list(array.shape), dtype)
                    tensor.set_data_from_numpy(array)
                    request.append(tensor)
                outputs = [module.InferRequestedOutput(n) for n in self.outputs]
                start = time.perf_counter()
                try:
                    client.infer(self.model, request, outputs=outputs)
                except Exception:  # noqa: BLE001 - counted, the sweep goes on
                    with self.lock:
                        self.errors += 1
                    continue
                end = time.perf_counter()
                with self.lock:
                    self.done.append((end, end - start))
        finally:
            client.close()

    def take(self, since: float, until: float) -> list[float]:
        with self.lock:
            return [lat for end, lat in self.done if since <= end < until]


def _server_stats(client, model: str) -> dict:
    return client.statistics(model)


def _window(workers, client, model, batch_size, start, seconds) -> dict:
    before = _server_stats(client, model)
    errors_before = sum(w.errors for w in workers)
    time.sleep(max(0.0, start + seconds - time.perf_counter()))
    end = time.perf_counter()
    after = _server_stats(client, model)
    latencies = [lat for w in workers for lat in w.take(start, end)]
    requests = len(latencies)

    def per_request(key: str) -> float:
        count = after[key][0] - before[key][0]
        return (after[key][1] - before[key][1]) / count / 1e3 if count else 0.0

    execs = after["execution_count"] - before["execution_count"]
    infers = after["inference_count"] - before["inference_count"]
    return {"requests": requests, "seconds": end - start, "latencies": latencies,
            "infer_per_s": requests * batch_size / (end - start),
            "avg_us": float(np.mean(latencies) * 1e6) if latencies else 0.0,
            **{f"p{q}_us": percentile_us(latencies, q) for q in (50, 90, 95, 99)},
            "queue": per_request("queue"), "compute_input": per_request("compute_input"),
            "compute_infer": per_request("compute_infer"),
            "compute_output": per_request("compute_output"),
            "avg_batch": infers / execs if execs else 0.0,
            "errors": sum(w.errors for w in workers) - errors_before}


def measure(url: str, model: str, inputs: Callable[[], dict[str, np.ndarray]], *,
            outputs: list[str], concurrency: int, protocol: str = "grpc",
            window_s: float = DEFAULT_WINDOW_S, stability: float = STABILITY,
            max_trials: int = MAX_TRIALS, percentile: int | None = None,
            warmup_s: float = 0.5, label: str = "") -> LoadPoint:
    """One concurrency level, measured until stable (or ``max_trials`` windows)."""
    from .client import TritonClient

    batch_size = int(next(iter(inputs().values())).shape[0])
    stop = threading.Event()
    workers = [_Worker(url, protocol, model, inputs, outputs, stop) for _ in range(concurrency)]
    with TritonClient(url, protocol) as client:
        for w in workers:
            w.start()
        try:
            time.sleep(warmup_s)
            windows: list[dict] = []
            start = time.perf_counter()
            while len(windows) < max_trials:
                windows.append(_window(workers, client, model, batch_size, start, window_s))
                start = time.perf_counter()
                if _is_stable(windows, stability=stability, percentile=percentile):
                    break
        finally:
            stop.set()
            for w in workers:
                w.join(timeout=30)
    last = windows[-3:]
    latencies = [lat for w in last for lat in w["latencies"]]
    seconds = sum(w["seconds"] for w in last)
    requests = sum(w["requests"] for w in last)

    def mean(key: str) -> float:
        return float(np.mean([w[key] for w in last]))

    avg_us = float(np.mean(latencies) * 1e6) if latencies else 0.0
    server = {k: mean(k) for k in ("queue", "compute_input", "compute_infer",
                                   "compute_output")}
    return LoadPoint(
        model=model, concurrency=concurrency, batch_size=batch_size,
        infer_per_s=requests * batch_size / seconds if seconds else 0.0,
        p50_us=percentile_us(latencies, 50), p90_us=percentile_us(latencies, 90),
        p95_us=percentile_us(latencies, 95), p99_us=percentile_us(latencies, 99),
        avg_us=avg_us, server_queue_us=server["queue"],
        server_compute_input_us=server["compute_input"],
        server_compute_infer_us=server["compute_infer"],
        server_compute_output_us=server["compute_output"],
        network_server_us=max(0.0, avg_us - sum(server.values())),
        avg_batch=mean("avg_batch"), requests=requests,
        errors=sum(w["errors"] for w in windows), windows=len(windows),
        stable=_is_stable(windows, stability=stability, percentile=percentile),
        window_s=window_s, label=label or model)


def sweep(url: str, model: str, inputs, *, outputs: list[str], concurrencies: list[int],
          progress: bool = True, label: str = "", **kwargs) -> list[LoadPoint]:
    """``measure`` at each concurrency level in turn (perf_analyzer --concurrency-range)."""
    levels = concurrencies
    if progress:
        from tqdm.auto import tqdm

        levels = tqdm(concurrencies, desc=f"sweep {label or model}", unit="level",
                      leave=False)
    return [measure(url, model, inputs, outputs=outputs, concurrency=c, label=label, **kwargs)
            for c in levels]


def write_csv(points: list[LoadPoint], path: str | Path, *,
              configuration: bool = False) -> Path:
    """perf_analyzer's ``-f`` CSV: its columns, rows by increasing throughput.

    ``configuration=True`` is for points of several configurations in one file: a first
    column ``Configuration`` (the model name) and a last column ``Stable`` (perf_analyzer's
    rule held), neither of which perf_analyzer writes; `read_csv` ignores both.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["Configuration", *CSV_COLUMNS, "Stable"] if configuration else CSV_COLUMNS
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for point in sorted(points, key=lambda p: p.infer_per_s):
            row = point.csv_row()
            if configuration:
                row = {"Configuration": point.model, **row, "Stable": point.stable}
            writer.writerow(row)
    return path


def write_config_csvs(results: dict[str, list[LoadPoint]], folder: str | Path,
                      ) -> dict[str, Path]:
    """``folder/<config>.csv`` for each ``{config name: points}``, each as ``write_csv``.

    perf_analyzer's CSV has no column naming the model, so each configuration gets a file
    of its own, as ``docker/perf-analyzer/sweep.sh`` writes ``$RESULTS/<model>.csv``.
    CSVs in ``folder`` from an earlier sweep are removed first.
    """
    folder = Path(folder)
    if folder.is_dir():
        for old in folder.glob("*.csv"):
            old.unlink()
    return {name: write_csv(points, folder / f"{name}.csv")
            for name, points in results.items()}


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a perf_analyzer CSV (ours or the real tool's) with numbers as floats."""
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in row.items() if k in CSV_COLUMNS}
                for row in csv.DictReader(fh)]


def plot_latency_throughput(series: dict[str, list[LoadPoint]], path: str | Path, *,
                            title: str = "", slo_ms: float | None = None) -> Path:
    """Save p99 latency (ms) against throughput (infer/s), one line per configuration."""
    # A bare Figure: no pyplot, so the caller's backend (a notebook's inline one) is untouched.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.5))
    ax = fig.subplots()
    for name, points in series.items():
        pts = sorted(points, key=lambda p: p.concurrency)
        ax.plot([p.infer_per_s for p in pts], [p.p99_us / 1e3 for p in pts], marker="o",
                label=name)
        for p in pts:  # the first point sits bottom-left for every line: keep its label off
            if p is not pts[0] or name == next(iter(series)):
                ax.annotate(str(p.concurrency), (p.infer_per_s, p.p99_us / 1e3), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
    if slo_ms:
        ax.axhline(slo_ms, color="grey", linestyle="--", label=f"p99 SLO {slo_ms:g} ms")
    ax.set_xlabel("throughput (infer/s)")
    ax.set_ylabel("p99 latency (ms)")
    ax.set_title(title or "latency vs throughput (labels: concurrency)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the points
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
