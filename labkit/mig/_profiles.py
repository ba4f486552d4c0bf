"""Raw rows behind labkit.mig.catalog, each with its source in shared/reference/mig.md.

Only catalog.py reads this module. "ref §x" names a section of the reference, "[Sx]" its source
tag. DERIVED marks a value worked out from sourced facts, UNCONFIRMED one the reference could
not confirm; both say why.

GI row: (name, nvidia-smi profile ID, compute slices, memory slices, memory MiB, SMs,
CE, DEC, ENC, JPG, OFA, max instances, allowed starts).
"""

from __future__ import annotations

__all__ = ["CI_PROFILE_IDS", "CI_SIZES", "GI_PROFILES", "MODELS"]

_ALL_1 = (0, 1, 2, 3, 4, 5, 6)

# Starts per memory-slice size from the real -lgipp (A100 [S10] ref §2.4(a); identical on H100
# [S20] and H100 NVL [S15], ref §1.3/§1.4): {0..6}:1, {0,2,4,6}:2 (1g double memory),
# {0,2,4}:2 (2g), {0,4}:4 (3g), {0}:4 (4g), {0}:8 (7g).
_STARTS_2_1G = (0, 2, 4, 6)
_STARTS_2G = (0, 2, 4)
_STARTS_3G = (0, 4)

GI_PROFILES: dict[str, tuple[tuple, ...]] = {
    # A100-SXM4-40GB, driver 580.126.09 -lgip [S12] ref §1.1(b). MiB: 4864 (1g.5gb), 9984 (2g),
    # 20096 (4g) from the same host's MIG devices table (ref §2.10(a)); 1g.10gb = 9984 and
    # 7g = 40320 are DERIVED from its GiB column (9.75, 39.38 = 39.375 * 1024 MiB).
    "A100-SXM4-40GB": (
        ("1g.5gb", 19, 1, 1, 4864, 14, 1, 0, 0, 0, 0, 7, _ALL_1),
        ("1g.5gb+me", 20, 1, 1, 4864, 14, 1, 1, 0, 1, 1, 1, _ALL_1),
        ("1g.10gb", 15, 1, 2, 9984, 14, 1, 1, 0, 0, 0, 4, _STARTS_2_1G),
        ("2g.10gb", 14, 2, 2, 9984, 28, 2, 1, 0, 0, 0, 3, _STARTS_2G),
        ("3g.20gb", 9, 3, 4, 20096, 42, 3, 2, 0, 0, 0, 2, _STARTS_3G),
        ("4g.20gb", 5, 4, 4, 20096, 56, 4, 2, 0, 0, 0, 1, (0,)),
        ("7g.40gb", 0, 7, 8, 40320, 98, 7, 5, 0, 1, 1, 1, (0,)),
    ),
    # A100-SXM4-80GB: IDs, counts, SMs, GiB (9.50/19.50/39.25/79.00 -> MiB) from [S16] ref §1.2 and
    # §2.3(e). The two captures disagree on DEC: the reference prefers 0,1,1,1,2,2,5 (same die as
    # the 40GB). CE/JPG/OFA from the capture that has the second row. Placements UNCONFIRMED
    # (no -lgipp capture): DERIVED as identical to the A100-40GB (same GA100 die, ref §1.2).
    "A100-SXM4-80GB": (
        ("1g.10gb", 19, 1, 1, 9728, 14, 1, 0, 0, 0, 0, 7, _ALL_1),
        ("1g.10gb+me", 20, 1, 1, 9728, 14, 1, 1, 0, 1, 1, 1, _ALL_1),
        ("1g.20gb", 15, 1, 2, 19968, 14, 1, 1, 0, 0, 0, 4, _STARTS_2_1G),
        ("2g.20gb", 14, 2, 2, 19968, 28, 2, 1, 0, 0, 0, 3, _STARTS_2G),
        ("3g.40gb", 9, 3, 4, 40192, 42, 3, 2, 0, 0, 0, 2, _STARTS_3G),
        ("4g.40gb", 5, 4, 4, 40192, 56, 4, 2, 0, 0, 0, 1, (0,)),
        ("7g.80gb", 0, 7, 8, 80896, 98, 7, 5, 0, 1, 1, 1, (0,)),
    ),
    # H100 SXM5 80GB -lgip [S13] ref §1.3 (three identical captures). MiB from GiB 9.75/19.62/
    # 39.50/79.25 (DERIVED x1024; the guide's H100 MIG devices table prints 40448 too [S10]).
    "H100-SXM5-80GB": (
        ("1g.10gb", 19, 1, 1, 9984, 16, 1, 1, 0, 1, 0, 7, _ALL_1),
        ("1g.10gb+me", 20, 1, 1, 9984, 16, 1, 1, 0, 1, 1, 1, _ALL_1),
        ("1g.20gb", 15, 1, 2, 20096, 26, 1, 1, 0, 1, 0, 4, _STARTS_2_1G),
        ("2g.20gb", 14, 2, 2, 20096, 32, 2, 2, 0, 2, 0, 3, _STARTS_2G),
        ("3g.40gb", 9, 3, 4, 40448, 60, 3, 3, 0, 3, 0, 2, _STARTS_3G),
        ("4g.40gb", 5, 4, 4, 40448, 64, 4, 4, 0, 4, 0, 1, (0,)),
        ("7g.80gb", 0, 7, 8, 81152, 132, 8, 7, 0, 7, 1, 1, (0,)),
    ),
    # H100 PCIe, driver 570.169 -lgip [S14] ref §1.3: as SXM5 but SMs 14/14/14/30/46/62/114.
    "H100-PCIE-80GB": (
        ("1g.10gb", 19, 1, 1, 9984, 14, 1, 1, 0, 1, 0, 7, _ALL_1),
        ("1g.10gb+me", 20, 1, 1, 9984, 14, 1, 1, 0, 1, 1, 1, _ALL_1),
        ("1g.20gb", 15, 1, 2, 20096, 14, 1, 1, 0, 1, 0, 4, _STARTS_2_1G),
        ("2g.20gb", 14, 2, 2, 20096, 30, 2, 2, 0, 2, 0, 3, _STARTS_2G),
        ("3g.40gb", 9, 3, 4, 40448, 46, 3, 3, 0, 3, 0, 2, _STARTS_3G),
        ("4g.40gb", 5, 4, 4, 40448, 62, 4, 4, 0, 4, 0, 1, (0,)),
        ("7g.80gb", 0, 7, 8, 81152, 114, 8, 7, 0, 7, 1, 1, (0,)),
    ),
    # H100 NVL, driver 560.35.03 -lgip and -lgipp [S15] ref §1.4. MiB 11008/22144/47488 are printed
    # by the same host's MIG devices table; 95360 is DERIVED from 93.12 GiB (93.125 * 1024).
    "H100-NVL-94GB": (
        ("1g.12gb", 19, 1, 1, 11008, 16, 1, 1, 0, 1, 0, 7, _ALL_1),
        ("1g.12gb+me", 20, 1, 1, 11008, 16, 1, 1, 0, 1, 1, 1, _ALL_1),
        ("1g.24gb", 15, 1, 2, 22144, 26, 1, 1, 0, 1, 0, 4, _STARTS_2_1G),
        ("2g.24gb", 14, 2, 2, 22144, 32, 2, 2, 0, 2, 0, 3, _STARTS_2G),
        ("3g.47gb", 9, 3, 4, 47488, 60, 3, 3, 0, 3, 0, 2, _STARTS_3G),
        ("4g.47gb", 5, 4, 4, 47488, 64, 4, 4, 0, 4, 0, 1, (0,)),
        ("7g.94gb", 0, 7, 8, 95360, 132, 8, 7, 0, 7, 1, 1, (0,)),
    ),
    # H200 141GB: names, engine counts (CE, NVDEC, JPEG, OFA) and max instances from the guide's
    # Table 8 [S10] ref §1.5. The reference could not confirm the rest (ref §1.5, §6.1); our
    # own read-only capture on an NVIDIA H200 (driver 580.159.04, MIG disabled, 2026-11-29:
    # `nvidia-smi mig -lgip`, `-lgipp` and NVML's GPU-instance profile info, kept verbatim in
    # tests/sim/data/h200_r580_159_capture/) confirms every field below: profile IDs, SMs
    # (16/16/26/32/60/64/132), CE/DEC/ENC/JPEG/OFA, max instances, placements, and the MiB
    # (16384/33280/71424/143360, printed as 16.00/32.50/69.75/140.00 GiB).
    "H200-141GB": (
        ("1g.18gb", 19, 1, 1, 16384, 16, 1, 1, 0, 1, 0, 7, _ALL_1),
        ("1g.18gb+me", 20, 1, 1, 16384, 16, 1, 1, 0, 1, 1, 1, _ALL_1),
        ("1g.35gb", 15, 1, 2, 33280, 26, 1, 1, 0, 1, 0, 4, _STARTS_2_1G),
        ("2g.35gb", 14, 2, 2, 33280, 32, 2, 2, 0, 2, 0, 3, _STARTS_2G),
        ("3g.71gb", 9, 3, 4, 71424, 60, 3, 3, 0, 3, 0, 2, _STARTS_3G),
        ("4g.71gb", 5, 4, 4, 71424, 64, 4, 4, 0, 4, 0, 1, (0,)),
        ("7g.141gb", 0, 7, 8, 143360, 132, 8, 7, 0, 7, 1, 1, (0,)),
    ),
}

# Compute-instance profiles per GI compute-slice count. Real -lcip on A100-40GB (driver 580 [S12]
# and the guide [S10], ref §1.1 and §2.7): 1g: {1}; 2g: {1c, 2}; 3g: {1c, 2c, 3}; 4g: {1c, 2c, 4}
# (no 3c), with max = G // C, SMs = GI SMs * C / G, and the full-size profile the default.
# 7g is UNCONFIRMED (ref §6.5): the go-nvml mock's CI sizes 1/2/3/4/7 with max 7/3/2/1/1 [S1],
# which follow the same rules. CI profile IDs are the NVML enum values (0..3 confirmed in real
# output, 7-slice = 4 DERIVED from the enum, ref §1.1). Other models: DERIVED by the same rules
# (no real -lcip capture outside A100; the H100 default CI IDs 1 and 2 match, ref §1.3).
CI_SIZES: dict[int, tuple[int, ...]] = {
    1: (1,),
    2: (1, 2),
    3: (1, 2, 3),
    4: (1, 2, 4),
    7: (1, 2, 3, 4, 7),
}
CI_PROFILE_IDS: dict[int, int] = {1: 0, 2: 1, 3: 2, 4: 3, 7: 4}

# Model facts. memory_mib is what nvidia-smi prints as total where the reference has it; else the
# documented capacity x 1024 (marked). min_driver: the MIG guide's minimum-driver table (ref §1.0),
# "R450 (>= 450.80.02)" for H100/H200 printed as in the guide (sic). pci_device_id: the device ID
# mig-parted's device-filter matches (ref §1.9, §3.3); None where sources conflict (ref §6.10).
MODELS: tuple[dict, ...] = (
    dict(
        name="A100-SXM4-40GB",
        product_name="NVIDIA A100-SXM4-40GB",  # ref §2.2 [S12]
        architecture="Ampere",
        memory_mib=40960,  # "40960MiB" in the nvidia-smi header, ref §2.2
        sm_count=108,  # NVIDIA A100 Tensor Core GPU Architecture whitepaper (not in the reference)
        min_driver="525.53",
        pci_device_id="0x20B010DE",  # ref §1.9 [S1], §3.3 [S2]
        aliases=("A100-40GB",),
    ),
    dict(
        # product name DERIVED from the GFD label NVIDIA-A100-SXM4-80GB-MIG-INVALID (ref §4.2)
        name="A100-SXM4-80GB",
        product_name="NVIDIA A100-SXM4-80GB",
        architecture="Ampere",
        memory_mib=81920,  # documented 80 GB x 1024; no capture in the reference
        sm_count=108,  # NVIDIA A100 whitepaper
        min_driver="525.53",
        pci_device_id="0x20B210DE",  # ref §1.9 [S1]
        aliases=("A100-80GB",),
    ),
    dict(
        name="H100-SXM5-80GB",
        product_name="NVIDIA H100 80GB HBM3",  # ref §1.3 [S6, S10]
        architecture="Hopper",
        memory_mib=81559,  # GFD nvidia.com/gpu.memory "81559" (NVML MiB), ref §4.2
        sm_count=132,  # SXM5 has 132 SMs (ref S13 note, [S1] README); 7g.80gb shows 132
        min_driver="450.80.02",
        pci_device_id="0x233010DE",  # ref §1.9 [S1]
        aliases=("H100-SXM5", "H100-80GB-HBM3", "H100-SXM"),
    ),
    dict(
        name="H100-PCIE-80GB",
        product_name="NVIDIA H100 PCIe",  # ref §1.3 [S14]
        architecture="Hopper",
        memory_mib=81920,  # documented 80 GB x 1024; no capture in the reference
        sm_count=114,  # 7g.80gb shows 114 SMs on this GPU, ref §1.3 [S14]
        min_driver="450.80.02",
        pci_device_id=None,  # H100 80GB device IDs conflict, ref §6.10
        aliases=("H100-PCIE",),
    ),
    dict(
        name="H100-NVL-94GB",
        product_name="NVIDIA H100 NVL",  # ref §1.4 [S15]
        architecture="Hopper",
        memory_mib=95830,  # "95830MiB", ref §1.4 [S15]
        sm_count=132,  # 7g.94gb shows 132 SMs, ref §1.4 [S15]
        min_driver="450.80.02",
        pci_device_id="0x232110DE",  # "H100 NVL" in config-default, ref §1.4 [S2]
        aliases=("H100-NVL", "H100-94GB"),
    ),
    dict(
        # Name, memory, SMs and PCI device ID as our H200 capture reads them (nvidia-smi -L,
        # the header's "143771MiB", 7g.141gb's 132 SMs, NVML's pciDeviceId 0x233510de):
        # tests/sim/data/h200_r580_159_capture/. It matches config-default's "H200 141GB" [S2].
        name="H200-141GB",
        product_name="NVIDIA H200",
        architecture="Hopper",
        memory_mib=143771,
        sm_count=132,
        min_driver="450.80.02",
        pci_device_id="0x233510DE",
        aliases=("H200", "H200-SXM5-141GB"),
    ),
    # Non-MIG models: only what NVIDIA documents; none is in the reference except T4's name.
    dict(
        name="V100-SXM2-32GB",
        product_name="Tesla V100-SXM2-32GB",  # NVIDIA naming, not in the reference
        architecture="Volta",
        memory_mib=32768,  # documented 32 GB HBM2 x 1024 (V100 datasheet)
        sm_count=80,  # NVIDIA Tesla V100 GPU Architecture whitepaper
        aliases=("V100",),
    ),
    dict(
        name="T4",
        product_name="Tesla T4",  # DERIVED from the GFD label Tesla-T4 (ref §4.3)
        architecture="Turing",
        memory_mib=16384,  # documented 16 GB GDDR6 x 1024 (T4 datasheet)
        sm_count=40,  # NVIDIA Turing GPU Architecture whitepaper (2,560 CUDA cores, 64 per SM)
    ),
    dict(
        name="L4",
        product_name="NVIDIA L4",  # NVIDIA CUDA GPUs page spelling
        architecture="Ada Lovelace",
        memory_mib=24576,  # documented 24 GB GDDR6 x 1024 (L4 datasheet)
        sm_count=58,  # 7,424 CUDA cores at 128 per Ada SM (NVIDIA L4 product brief)
    ),
    dict(
        name="RTX-3090",
        product_name="NVIDIA GeForce RTX 3090",  # GeForce naming as in ref §2.1(g)
        architecture="Ampere",
        memory_mib=24576,  # documented 24 GB GDDR6X x 1024
        sm_count=82,  # NVIDIA Ampere GA102 GPU Architecture whitepaper
        aliases=("GeForce-RTX-3090", "3090"),
    ),
)
