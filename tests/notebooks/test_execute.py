"""Every solution notebook runs top to bottom with papermill in sim and quick mode.

Executed copies are kept under build/notebooks/ for inspection. Each lab also names the
files it must write, so a notebook that "runs" without doing its work still fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.course import CourseLayout
from labkit.course.notebooks import execute

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = CourseLayout(ROOT)
CELL_TIMEOUT = 300

# lab -> files (relative to the lab's folder) the notebook must produce
EXPECTED_OUTPUTS = {
    "00-environment": ["outputs/00-environment/inventory.json"],
    "02-mig": ["outputs/02-mig/placements.png", "outputs/02-mig/systemd/labkit-mig-layout.service"],
    "03-gpu-sharing": ["outputs/03-gpu-sharing/contention.json",
                       "outputs/03-gpu-sharing/noisy_neighbour.png",
                       "outputs/03-gpu-sharing/summary.json"],
    "04-kubernetes": ["outputs/04-kubernetes/manifest_check.json",
                      "outputs/04-kubernetes/pending_pods.json"],
    "05-storage": ["outputs/05-storage/results.json", "outputs/05-storage/queue_depth.png",
                   "outputs/05-storage/formats.png", "outputs/05-storage/au.png",
                   "outputs/05-storage/remote.png"],
    "06-network": ["outputs/06-network/results.json", "outputs/06-network/sweep.png",
                   "outputs/06-network/alpha_beta.png", "outputs/06-network/ring_vs_tree.png",
                   "outputs/06-network/gradient_sync.png",
                   "outputs/06-network/allreduce_runner.json"],
    "07-pipeline": ["outputs/07-pipeline/results.json"],
}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("notebook", LAYOUT.solution_notebooks(),
                         ids=lambda p: p.parent.name)
def test_solution_notebook_runs_in_sim_quick_mode(notebook):
    for rel in EXPECTED_OUTPUTS.get(notebook.parent.name, []):
        (notebook.parent / rel).unlink(missing_ok=True)
    run = execute(notebook, LAYOUT, mode="sim", quick=True, cell_timeout=CELL_TIMEOUT)
    assert run.ok, f"{notebook.name} failed at {run.error}; see {run.output}"
    executed = json.loads(run.output.read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    for rel in EXPECTED_OUTPUTS.get(notebook.parent.name, []):
        assert (notebook.parent / rel).is_file(), f"{notebook.name} did not write {rel}"


def test_every_lab_declares_its_outputs():
    assert set(LAYOUT.lab_ids()) <= set(EXPECTED_OUTPUTS)
