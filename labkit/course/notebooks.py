"""Execute the course notebooks with papermill, as CI, the GPU check and instructors do.

Each run is parameterised (``MODE``, ``QUICK``), has a per-cell time limit, runs in the
notebook's own folder, and keeps the executed copy under ``build/notebooks/`` for
inspection. ``python -m labkit.course.notebooks --nbval`` lists the notebooks that hold
``# NBVAL_CHECK_OUTPUT`` cells (the only outputs stored in solutions/).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from .layout import CourseLayout

__all__ = ["NotebookRun", "execute", "nbval_notebooks", "gpu_check_notebooks", "NBVAL_MARK",
           "store_nbval_outputs"]

NBVAL_MARK = "# NBVAL_CHECK_OUTPUT"


@dataclass(frozen=True)
class NotebookRun:
    notebook: Path
    output: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text()).get("cells", [])


def _meta(path: Path) -> dict:
    return json.loads(path.read_text()).get("metadata", {}).get("labkit", {})


def nbval_notebooks(layout: CourseLayout) -> list[Path]:
    """Solution notebooks holding at least one ``# NBVAL_CHECK_OUTPUT`` cell."""
    return [nb for nb in layout.solution_notebooks()
            if any(NBVAL_MARK in "".join(c.get("source", "")) for c in _cells(nb))]


def gpu_check_notebooks(layout: CourseLayout) -> list[Path]:
    """Solution notebooks with a real-hardware path (notebook metadata labkit.real_path)."""
    return [nb for nb in layout.solution_notebooks() if _meta(nb).get("real_path")]


def execute(notebook: Path, layout: CourseLayout, *, mode: str = "sim", quick: bool = True,
            cell_timeout: int = 300, out_dir: Path | None = None,
            parameters: dict | None = None, cwd: Path | None = None) -> NotebookRun:
    """Run one notebook with papermill; never raises for a failing cell (see ``error``).

    It runs in ``cwd`` (default: the notebook's own folder); the executed copy goes to
    ``out_dir`` (default ``build/notebooks/``) under the notebook's folder name.
    """
    import papermill as pm

    notebook = notebook.resolve()
    output = (out_dir or layout.executed) / notebook.parent.name / notebook.name
    output.parent.mkdir(parents=True, exist_ok=True)
    params = {"MODE": mode, "QUICK": quick, **(parameters or {})}
    start = time.monotonic()
    error = None
    try:
        pm.execute_notebook(str(notebook), str(output), parameters=params,
                            cwd=str(cwd or notebook.parent), kernel_name="python3",
                            execution_timeout=cell_timeout, progress_bar=False,
                            log_output=False)
    except pm.PapermillExecutionError as exc:
        error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - kernel death, timeout: report, don't crash
        error = f"{type(exc).__name__}: {exc}"
    return NotebookRun(notebook, output, time.monotonic() - start, error)


def store_nbval_outputs(notebook: Path, executed: Path) -> int:
    """Copy the outputs of ``# NBVAL_CHECK_OUTPUT`` cells from ``executed`` into ``notebook``.

    Those cells get ``keep_output`` metadata (nbstripout and the lint then keep them) and
    their execution count; every other cell stays stripped. Returns the number of cells stored.
    """
    import nbformat

    source = nbformat.read(notebook, as_version=4)
    ran = {c.get("id"): c for c in nbformat.read(executed, as_version=4).cells}
    stored = 0
    for cell in source.cells:
        if cell["cell_type"] != "code" or NBVAL_MARK not in "".join(cell["source"]):
            continue
        outputs = ran[cell["id"]].get("outputs", [])
        if any(o.get("output_type") == "error" for o in outputs):
            raise RuntimeError(f"{notebook} cell {cell['id']}: the NBVAL cell raised an error")
        cell["outputs"] = [nbformat.from_dict(o) for o in outputs]
        # nbval skips a cell with outputs but no execution count ("unrun reference cell").
        cell["execution_count"] = ran[cell["id"]].get("execution_count")
        cell["metadata"]["keep_output"] = True
        stored += 1
    nbformat.write(source, notebook)
    return stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.course.notebooks")
    parser.add_argument("--nbval", action="store_true", help="list notebooks with NBVAL cells")
    parser.add_argument("--gpu-check", action="store_true",
                        help="list notebooks with a real-hardware path")
    parser.add_argument("--execute", nargs="+", type=Path, metavar="NOTEBOOK",
                        help="run these notebooks with papermill")
    parser.add_argument("--mode", default="sim", choices=["auto", "real", "sim"])
    parser.add_argument("--full", action="store_true", help="QUICK=False")
    parser.add_argument("--out", type=Path, default=None, help="folder for executed copies")
    parser.add_argument("--cell-timeout", type=int, default=300, metavar="S",
                        help="seconds one cell may run (default 300)")
    parser.add_argument("--store-nbval", action="store_true",
                        help="with --execute: store the NBVAL cells' outputs in the notebooks")
    args = parser.parse_args(argv)
    layout = CourseLayout.find()
    if args.execute:
        failed = 0
        for nb in args.execute:
            run = execute(nb, layout, mode=args.mode, quick=not args.full, out_dir=args.out,
                          cell_timeout=args.cell_timeout)
            status = "ok" if run.ok else f"FAILED ({run.error})"
            # flush: behind a pipe (gpu-check's tee) each line shows as its notebook ends
            print(f"{nb}: {status} in {run.seconds:.1f} s -> {run.output}", flush=True)
            failed += not run.ok
            if run.ok and args.store_nbval:
                print(f"{nb}: stored {store_nbval_outputs(nb, run.output)} NBVAL cell(s)")
        return 1 if failed else 0
    found = nbval_notebooks(layout) if args.nbval else gpu_check_notebooks(layout)
    for nb in found:
        print(nb.relative_to(layout.root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
