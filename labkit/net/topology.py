"""How the devices of one node are connected, as ``nvidia-smi topo -m`` prints it.

Lab 06: "The interconnects". ``nvidia-smi topo -m`` prints a matrix over the node's GPUs and
NICs: each cell names the path between two devices, nearest first

    X      the device itself
    NV#    a bonded set of # NVLinks (GPU to GPU)
    PIX    at most one PCIe bridge (the same PCIe switch)
    PXB    several PCIe bridges, without the CPU's host bridge
    PHB    through a PCIe host bridge (the CPU)
    NODE   between host bridges inside one NUMA node
    SYS    across the SMP interconnect between NUMA nodes (QPI/UPI, Infinity Fabric)

then the legend, and a "NIC Legend" that maps NIC0, NIC1, ... to RDMA device names (mlx5_0).
The format is nvidia-smi's (its printed legend, reproduced in `LEGEND`); `TOPO_HGX` and
`TOPO_PCIE` are matrices composed by the course in that format, modelled on public outputs of
8x H100 SXM servers and of PCIe GPU servers: they are examples, not captures of one machine.

GPUDirect RDMA lets a NIC read and write GPU memory directly. NCCL enables it, by default, only
when the GPU-NIC path is PXB or nearer (``netGdrLevel = PATH_PXB`` in ``ncclTopoCheckGdr``,
NVIDIA/nccl ``src/graph/paths.cc``; ``NCCL_NET_GDR_LEVEL`` in NCCL's "Environment Variables"
documentation moves the cut-off). `GDR_SOURCES` names both.

Reading a matrix and choosing the NIC are Lab 06's Exercise 1, so they are not public here.
`gdr_plan` formats the plan of section 1 (each GPU's NIC for GPUDirect RDMA) from reader
functions it is given; `course_gdr_plan` is that plan for `TOPO_HGX` and `TOPO_PCIE`, the
course reference the notebook falls back on when a student's readers fail.
"""

from __future__ import annotations

__all__ = ["GDR_SOURCES", "LEGEND", "NEAREST_FIRST", "TOPO_HGX", "TOPO_PCIE", "course_gdr_plan",
           "gdr_plan"]

# nvidia-smi's legend, as the tool prints it under the matrix (driver 5xx).
LEGEND = """\
Legend:

  X    = Self
  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)
  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node
  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)
  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)
  PIX  = Connection traversing at most a single PCIe bridge
  NV#  = Connection traversing a bonded set of # NVLinks"""  # noqa: E501 (the tool's lines)

NEAREST_FIRST = ("X", "NV#", "PIX", "PXB", "PHB", "NODE", "SYS")

GDR_SOURCES = (
    "NCCL documentation, Environment Variables, NCCL_NET_GDR_LEVEL "
    "(https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html); default PXB: "
    "ncclTopoCheckGdr in NVIDIA/nccl src/graph/paths.cc; CUDA 'GPUDirect RDMA' guide, "
    "Overview (https://docs.nvidia.com/cuda/gpudirect-rdma/)"
)


def _render_topo(names: list[str], cells: list[list[str]], affinity: dict[str, tuple[str, str]],
                 nic_legend: dict[str, str]) -> str:
    """nvidia-smi topo -m's text for a symmetric matrix ``cells`` over ``names``.

    GPU rows end with CPU Affinity, NUMA Affinity and GPU NUMA ID (``affinity[name]``), NIC
    rows do not; columns are separated by tabs and the diagonal prints `` X ``, as the tool does.
    """
    lines = ["\t" + "\t".join(names) + "\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID"]
    for i, name in enumerate(names):
        row = [" X " if i == j else cells[i][j] for j in range(len(names))]
        tail = [affinity[name][0], affinity[name][1] + "\t", "N/A"] if name in affinity else []
        lines.append("\t".join([name, *row, *tail]))
    text = "\n".join(lines) + "\n\n" + LEGEND + "\n"
    if nic_legend:
        text += "\nNIC Legend:\n\n" + "".join(f"  {nic}: {dev}\n"
                                              for nic, dev in nic_legend.items())
    return text


def _matrix(names: list[str], link) -> list[list[str]]:
    return [[link(a, b) if a != b else "X" for b in names] for a in names]


def _hgx() -> str:
    """8x H100 SXM on NVSwitch; GPU pairs share a PCIe switch complex with two ConnectX-7
    ports (PIX to their own, PXB to the pair's); a dual-port storage NIC on a CPU 0 root port."""
    gpus = [f"GPU{i}" for i in range(8)]
    nics = [f"NIC{i}" for i in range(10)]
    socket = {**{f"GPU{i}": i // 4 for i in range(8)}, **{f"NIC{i}": i // 4 for i in range(8)},
              "NIC8": 0, "NIC9": 0}
    pair = {**{f"GPU{i}": i // 2 for i in range(8)}, **{f"NIC{i}": i // 2 for i in range(8)}}

    def link(a, b):
        if a.startswith("GPU") and b.startswith("GPU"):
            return "NV18"
        if {a, b} == {"NIC8", "NIC9"}:
            return "PIX"  # the two ports of one adapter
        if socket[a] != socket[b]:
            return "SYS"
        if a in pair and b in pair and pair[a] == pair[b]:
            return "PIX" if a[3:] == b[3:] else "PXB"
        return "NODE"

    aff = {g: ("0-55,112-167", "0") if socket[g] == 0 else ("56-111,168-223", "1") for g in gpus}
    return _render_topo(gpus + nics, _matrix(gpus + nics, link), aff,
                        {n: f"mlx5_{n[3:]}" for n in nics})


def _pcie() -> str:
    """4 PCIe GPUs, two per socket behind one PCIe switch each, no NVLink; one RoCE NIC (a
    bonded dual-port adapter, mlx5_bond_0) on a root port of CPU 0, not under the GPUs' switches."""
    names = ["GPU0", "GPU1", "GPU2", "GPU3", "NIC0"]
    socket = {"GPU0": 0, "GPU1": 0, "GPU2": 1, "GPU3": 1, "NIC0": 0}

    def link(a, b):
        if socket[a] != socket[b]:
            return "SYS"
        return "PIX" if a[:3] == b[:3] else "NODE"  # the GPU pair shares a switch

    aff = {g: ("0-31,64-95", "0") if socket[g] == 0 else ("32-63,96-127", "1")
           for g in names[:4]}
    return _render_topo(names, _matrix(names, link), aff, {"NIC0": "mlx5_bond_0"})


TOPO_HGX = _hgx()
TOPO_PCIE = _pcie()


def _parse(text: str) -> tuple[list[str], dict[tuple[str, str], str], dict[str, str]]:
    lines = text.splitlines()
    header = next(line for line in lines if line.strip())
    names = [c.strip() for c in header.split("\t") if c.strip()]
    names = [n for n in names if n.startswith(("GPU", "NIC", "mlx")) and " " not in n]
    cells: dict[tuple[str, str], str] = {}
    for line in lines[1:]:
        parts = line.split("\t")
        if parts and parts[0].strip() in names:
            for name, cell in zip(names, parts[1:1 + len(names)], strict=False):
                cells[parts[0].strip(), name] = cell.strip()
    legend = {}
    if "NIC Legend:" in text:
        for line in text.split("NIC Legend:", 1)[1].splitlines():
            if ":" in line:
                nic, dev = (s.strip() for s in line.split(":", 1))
                legend[dev] = nic
    return names, cells, legend


def _path_between(topo_text: str, a: str, b: str) -> str:
    """The label between devices a and b (GPUn, NICn or a NIC Legend name such as mlx5_0)."""
    names, cells, legend = _parse(topo_text)
    ends = []
    for device in (a, b):
        device = legend.get(device, device)
        if device not in names:
            raise ValueError(f"device {device!r} is not in the matrix (devices: "
                             f"{', '.join(names)}; NICs also by {', '.join(legend) or 'no'} name)")
        ends.append(device)
    return cells[ends[0], ends[1]]


def _rank(label: str) -> int:
    return NEAREST_FIRST.index("NV#" if label.startswith("NV") else label)


def _gdr_nic(topo_text: str, gpu: str) -> str | None:
    """The nearest NIC to gpu (the first in the header among equals) when NCCL's default would
    use GPUDirect RDMA with it (path PIX or PXB), else None."""
    names, _, _ = _parse(topo_text)
    nics = [(_rank(_path_between(topo_text, gpu, n)), i, n) for i, n in enumerate(names)
            if n.startswith(("NIC", "mlx"))]
    if not nics:
        return None
    rank, _, nic = min(nics)
    return nic if rank <= NEAREST_FIRST.index("PXB") else None


def gdr_plan(topo_text: str, path_between, gdr_nic) -> list[str]:
    """Section 1's plan, one line per GPU of ``topo_text``: the NIC that ``gdr_nic`` picks
    and the path ``path_between`` reads to it, or every NIC's path when none is picked.

    ``path_between(topo_text, a, b)`` and ``gdr_nic(topo_text, gpu)`` are the reader
    functions to use (a student's); this function only formats what they return.
    """
    names, _, _ = _parse(topo_text)  # the header's device names
    gpus = [n for n in names if n.startswith("GPU")]
    nics = [n for n in names if n.startswith("NIC")]
    lines = []
    for gpu in gpus:
        nic = gdr_nic(topo_text, gpu)
        if nic is not None:
            lines.append(f"  {gpu} -> {nic} ({path_between(topo_text, gpu, nic)}): GPUDirect "
                         "RDMA, NIC to GPU memory directly")
        else:
            near = ", ".join(f"{n} {path_between(topo_text, gpu, n)}" for n in nics)
            lines.append(f"  {gpu} -> no NIC within PXB ({near}): NCCL stages its network "
                         "traffic through host memory")
    return lines


def course_gdr_plan() -> dict[str, list[str]]:
    """Course reference: `gdr_plan` of ``TOPO_HGX`` and ``TOPO_PCIE`` (the finished lines, for
    these two matrices only), read by the course's own readers."""
    return {"TOPO_HGX": gdr_plan(TOPO_HGX, _path_between, _gdr_nic),
            "TOPO_PCIE": gdr_plan(TOPO_PCIE, _path_between, _gdr_nic)}
