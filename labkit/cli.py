"""The ``labkit`` command: doctor, sim, course.

Errors reach the user as one ``ERROR:`` line (and a ``HINT:`` where there is one) with a
non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main", "build_parser"]


def _doctor(args) -> int:
    from . import doctor

    return doctor.main(args.mode, as_json=args.json, triton=not args.no_triton)


def _course(args) -> int:
    from .course import CourseLayout
    from .course import nbgrader as nbg
    from .course.lint import lint_course

    layout = CourseLayout.find()
    if args.action == "lint":
        findings = lint_course(layout)
        for f in findings:
            print(f"{f.path.relative_to(layout.root)}"
                  f"{' cell ' + str(f.cell) if f.cell is not None else ''}: {f.message}")
        print(f"{len(findings)} problem(s) in {len(layout.lab_ids())} lab(s)")
        return 1 if findings else 0
    if args.action == "release":
        written = nbg.release(layout, args.lab or None)
        for nb in written:
            print(f"released {nb.relative_to(layout.root)}")
        return 0
    if args.action == "check-release":
        problems = nbg.release_diff(layout)
        for p in problems:
            print(p)
        print("labs/ is in sync with solutions/" if not problems
              else f"{len(problems)} difference(s): run 'make release' and commit labs/")
        return 1 if problems else 0
    if args.action == "grade":
        rows = nbg.grade(layout, args.lab or None, timeout=args.timeout)
        if not rows:
            print(f"no submissions under {layout.submitted}/<student>/<lab>/")
            return 0
        for r in rows:
            print(f"{r.lab:<28} {r.student:<20} {r.score:6.1f} / {r.max_score:.1f}")
        print(f"grades: {layout.grades_csv}\nfeedback: {layout.feedback}/<student>/<lab>/")
        return 0
    if args.action == "audit":
        from .course import audit

        audits = audit.audit_course(layout, args.lab or None)
        report = audit.render_report(audits, layout)
        layout.audit_report.parent.mkdir(parents=True, exist_ok=True)
        layout.audit_report.write_text(report)
        (layout.audit_report.with_suffix(".json")).write_text(
            json.dumps([a.summary() for a in audits], indent=2))
        print(report + f"report: {layout.audit_report}")
        return 1 if any(a.problems() for a in audits) else 0
    raise AssertionError(args.action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="NCP-AI Infrastructure Labs")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="check this machine for the course (paste it in questions)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--mode", choices=["auto", "real", "sim"], default=None,
                   help="hardware mode (default: LABKIT_MODE or auto)")
    p.add_argument("--no-triton", action="store_true", help="skip starting tritonserver")
    p.set_defaults(func=_doctor)

    from .sim.cli import register as register_sim

    register_sim(sub)

    # Listed for `labkit --help`; main() hands `labkit pipeline ...` to labkit.pipeline.cli.
    sub.add_parser("pipeline", add_help=False,
                   help="Lab 07: DALI -> PyTorch -> Triton by stage; `labkit pipeline all` "
                        "is `make pipeline` (`labkit pipeline --help` for the stages)")

    course = sub.add_parser("course", help="instructor commands (nbgrader); audit: replay "
                                           "every exercise with adversarial students")
    course.add_argument("action", choices=["lint", "release", "check-release", "grade",
                                                 "audit"])
    course.add_argument("--lab", action="append", help="only this lab (repeatable)")
    course.add_argument("--timeout", type=int, default=None,
                        help="grade: per-cell time limit in seconds")
    course.set_defaults(func=_course)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["pipeline"]:
        from .pipeline.cli import main as pipeline_main

        return pipeline_main(argv[1:], prog="labkit pipeline")
    args = build_parser().parse_args(argv)
    from .course.nbgrader import NbgraderError
    from .hw import HardwareError
    from .sim import SimStateError

    try:
        return args.func(args)
    except (HardwareError, SimStateError, NbgraderError, ValueError, FileNotFoundError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
