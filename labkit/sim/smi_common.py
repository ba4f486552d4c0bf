"""What the simulated ``nvidia-smi`` and ``nvidia-smi mig`` share: options, GPU selection, exits.

Lab 02. Exit codes follow the RETURN VALUE list of the nvidia-smi manual
(https://docs.nvidia.com/deploy/nvidia-smi/, "Return code 2 - A supplied argument or flag is
invalid ... 6 - A query to find an object was unsuccessful ... 255 - Other error"). Only one
pairing is captured in shared/reference/mig.md: ``No MIG-supported devices found.`` exits 6
(§2.1(g)). The others are DERIVED from the meaning of the NVML error behind each message and
say so where they are defined; an unrecognised option exiting 255 is a real capture (public
index id 69078782602).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labkit.mig.state import InvalidArgumentError, MigError, NotFoundError

__all__ = [
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_NOT_SUPPORTED",
    "EXIT_OTHER",
    "NO_DEVICES",
    "NO_MIG_ENABLED",
    "Option",
    "SmiExit",
    "exit_code_of",
    "invalid_combination",
    "missing_value",
    "parse_options",
    "select_gpus",
    "unrecognized",
]

EXIT_INVALID = 2  # "A supplied argument or flag is invalid"
EXIT_NOT_SUPPORTED = 3  # "The requested operation is not available on target device"
EXIT_NOT_FOUND = 6  # "A query to find an object was unsuccessful" (captured: §2.1(g))
EXIT_OTHER = 255  # "Other error or internal driver error occurred"

NO_MIG_ENABLED = "No MIG-enabled devices found."  # ref §2.1(g), §2.12
# What nvidia-smi prints when -i matches no GPU (also its answer on a machine without GPUs).
NO_DEVICES = "No devices were found"
_HELP = "Please run 'nvidia-smi -h' for help."


class SmiExit(Exception):
    """Stop with these stdout lines and this exit code (``note`` joins the stderr line)."""

    def __init__(self, lines: Sequence[str], code: int, note: str = ""):
        super().__init__("\n".join(lines))
        self.lines = list(lines)
        self.code = code
        self.note = note


def exit_code_of(err: MigError) -> int:
    """DERIVED: the manual's code for the NVML error behind a MIG failure line."""
    if isinstance(err, InvalidArgumentError):
        return EXIT_INVALID
    if isinstance(err, NotFoundError):
        return EXIT_NOT_FOUND
    return EXIT_OTHER  # In use by another client, Insufficient Resources


def unrecognized(token: str) -> SmiExit:
    # Verbatim pattern of a real run: "ERROR: Option -format=csv is not recognized. Please run
    # 'nvidia-smi -h' for help." then an empty line, on stdout (public index id 54534611900).
    return SmiExit([f"ERROR: Option {token} is not recognized. {_HELP}", ""], EXIT_OTHER)


def missing_value(token: str) -> SmiExit:
    # Verbatim pattern: "ERROR: Option -m is missing its value. Please run 'nvidia-smi -h' for
    # help." (public index id 69749097459); exit code DERIVED like the line above.
    return SmiExit([f"ERROR: Option {token} is missing its value. {_HELP}", ""], EXIT_OTHER)


def invalid_combination() -> SmiExit:
    # Verbatim string of real runs (e.g. public index id 44016590038); exit code DERIVED (2).
    return SmiExit([f"Invalid combination of input arguments. {_HELP}", ""], EXIT_INVALID)


@dataclass(frozen=True)
class Option:
    """One option: its names and whether it takes a value (0 no, 1 yes, 2 optional)."""

    key: str
    names: tuple[str, ...]
    arity: int = 0


def parse_options(argv: Sequence[str], spec: Sequence[Option],
                  unsimulated: frozenset[str] = frozenset()) -> dict[str, str | bool]:
    """``{key: value or True}``; ``--name=value``, ``--name value`` and ``-n value`` forms.

    A real nvidia-smi option the simulator does not implement raises SmiExit with an empty
    stdout, exit 2, and ``.note`` for the one stderr line.
    """
    names = {name: opt for opt in spec for name in opt.names}
    out: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        name, eq, inline = token.partition("=") if token.startswith("-") else (token, "", "")
        opt = names.get(name)
        if opt is None:
            if name in unsimulated:
                raise SmiExit([], EXIT_INVALID, note=f"option {name} is not simulated")
            raise unrecognized(token)
        if opt.arity == 0:
            if eq:
                raise unrecognized(token)
            out[opt.key] = True
        elif eq:
            out[opt.key] = inline
        elif i + 1 < len(argv) and (opt.arity == 1 or not argv[i + 1].startswith("-")):
            i += 1
            out[opt.key] = argv[i]
        elif opt.arity == 2:
            out[opt.key] = True
        else:
            raise missing_value(token)
        i += 1
    return out


def select_gpus(node: dict, ids: str | None) -> list[dict]:
    """The GPU records ``-i`` names: indices, PCI bus IDs or UUIDs, comma separated.

    None selects every GPU. A value that matches no GPU raises ``No devices were found``
    (exit 6, DERIVED from the manual's meaning of 6).
    """
    gpus = node["gpus"]
    if ids is None:
        return list(gpus)
    chosen: list[dict] = []
    for raw in (part.strip() for part in ids.split(",")):
        match = [g for g in gpus if raw and (
            (raw.isdigit() and int(raw) == g["index"])
            or raw.lower() == g["uuid"].lower()
            or raw.upper() == g["bus_id"].upper()
            or (":" in raw and g["bus_id"].upper().endswith(":" + raw.upper().lstrip("0:")))
        )]
        if not match:
            raise SmiExit([NO_DEVICES], EXIT_NOT_FOUND)
        chosen += [g for g in match if g not in chosen]
    return chosen
