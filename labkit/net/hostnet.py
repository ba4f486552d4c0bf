"""This host's side of networking: memcpy bandwidth, socket and MTU settings, iperf3 loopback.

Lab 06: "measured" and "tuning notes". Over loopback no packet touches a NIC: gloo's TCP
traffic is copied from one process's buffer into the kernel and out to the other's, so the
machine's memory-copy bandwidth is the ceiling that busbw is compared with.

Command-line equivalents::

    ip link show lo                       # MTU
    sysctl net.core.rmem_max net.core.wmem_max net.ipv4.tcp_rmem net.ipv4.tcp_wmem
    iperf3 -s -B 127.0.0.1 -p PORT -1 & iperf3 -c 127.0.0.1 -p PORT -t SECONDS -J
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

__all__ = ["memcpy_bandwidth", "network_settings", "iperf3_available", "parse_iperf3_json",
           "iperf3_loopback", "NCCL_VARIABLES"]

# What each commonly tuned NCCL variable does, from NCCL's "Environment Variables" page
# (https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html).
NCCL_VARIABLES = {
    "NCCL_DEBUG": "log level; INFO prints the transports, rings and trees NCCL chose",
    "NCCL_SOCKET_IFNAME": "which IP interfaces NCCL may use (prefix list, ^ excludes, = exact)",
    "NCCL_IB_HCA": "which InfiniBand/RoCE adapters (and ports) NCCL may use",
    "NCCL_IB_DISABLE": "1 turns InfiniBand/RoCE off: NCCL falls back to IP sockets",
    "NCCL_NET_GDR_LEVEL": "how close NIC and GPU must be for GPUDirect RDMA to be used",
    "NCCL_P2P_DISABLE": "1 turns direct GPU-to-GPU transfers (NVLink or PCIe) off",
    "NCCL_SHM_DISABLE": "1 turns the shared-memory transport between processes off",
    "NCCL_ALGO": "restrict the algorithms NCCL may pick (e.g. Ring, Tree, NVLS)",
    "NCCL_PROTO": "restrict the protocols NCCL may pick (LL, LL128, Simple)",
}


def memcpy_bandwidth(size_bytes: int = 256 * 1024**2, repeats: int = 5,
                     threads: int = 1) -> float:
    """Bytes copied per second by ``torch.Tensor.copy_`` between two ``size_bytes`` host
    buffers (best of ``repeats``); each byte copied is one read plus one write of memory."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        src = torch.ones(size_bytes, dtype=torch.uint8)
        dst = torch.empty_like(src)
        dst.copy_(src)  # fault the pages in first
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            dst.copy_(src)
            best = min(best, time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)
    return size_bytes / best


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def network_settings() -> dict:
    """Interface MTUs, socket buffer limits (bytes) and the NCCL_* variables set now."""
    mtus = {}
    net = Path("/sys/class/net")
    if net.is_dir():
        for iface in sorted(net.iterdir()):
            mtu = _read(str(iface / "mtu"))
            if mtu and mtu.isdigit():
                mtus[iface.name] = int(mtu)
    sysctl = {name: _read("/proc/sys/" + name.replace(".", "/")) for name in
              ("net.core.rmem_max", "net.core.wmem_max", "net.ipv4.tcp_rmem",
               "net.ipv4.tcp_wmem")}
    nccl = {k: v for k, v in os.environ.items() if k.startswith("NCCL_")}
    return {"mtu": mtus, "sysctl": sysctl, "nccl_env": nccl}


def iperf3_available() -> bool:
    return shutil.which("iperf3") is not None


def parse_iperf3_json(text: str) -> dict:
    """Throughput (bits/s) and retransmits from ``iperf3 -J`` client output."""
    doc = json.loads(text)
    if "error" in doc:
        raise RuntimeError(f"iperf3 reported an error: {doc['error']}")
    end = doc["end"]
    received = end.get("sum_received", {})
    sent = end.get("sum_sent", {})
    return {"bits_per_second": float(received.get("bits_per_second",
                                                  sent.get("bits_per_second", 0.0))),
            "retransmits": sent.get("retransmits"),
            "seconds": float(received.get("seconds", sent.get("seconds", 0.0)))}


def iperf3_loopback(seconds: int = 2, *, port: int | None = None) -> dict | None:
    """One bounded iperf3 TCP test over 127.0.0.1, or None when iperf3 is not installed.

    The server serves one client (``-1``) and both processes are killed past a deadline.
    """
    if not iperf3_available():
        return None
    from .collectives import free_port

    port = port or free_port()
    server = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port), "-1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):  # wait up to ~5 s for the server to listen
            client = subprocess.run(
                ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                capture_output=True, text=True, timeout=seconds + 20)
            if "Connection refused" not in client.stdout:
                break
            time.sleep(0.1)
        result = parse_iperf3_json(client.stdout)
        result["command"] = f"iperf3 -c 127.0.0.1 -p {port} -t {seconds} -J"
        return result
    finally:
        server.kill()
        server.wait(timeout=10)
