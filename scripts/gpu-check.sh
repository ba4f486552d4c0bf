#!/usr/bin/env bash
# gpu-check.sh: short, read-only checks of the course on a machine with a real NVIDIA GPU.
#
# Usage: scripts/gpu-check.sh [--help] [--out DIR]
#
#   --out DIR   where the logs and summary go (default: build/gpu-check)
#
# It runs `labkit doctor --mode real`, records read-only nvidia-smi queries, then executes
# every lab notebook that has a real-hardware path with MODE="real", QUICK=True, and writes
# DIR/summary.md. It never changes MIG mode, clocks, persistence or any other card setting:
# a lab step that would is skipped by the notebook in real mode and reported there, and the
# card's settings are read before and after and must be the same.
# Like a diagnostic, it keeps going after a failure and reports everything at the end; each
# step has a time limit, so one that hangs cannot hold up the rest.
#
# Exit codes: 0 every check passed; 1 bad usage; 2 no NVIDIA GPU here; 3 a check failed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # die, usage (its exit codes are its own)

main() {
  local out=build/gpu-check py=${VENV:-.venv}/bin/python
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --out) [[ $# -ge 2 ]] || die "$E_USAGE" "--out needs a folder"; out=$2; shift ;;
      *) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  # Before the GPU check, so that a wrong value is reported as bad usage on any machine.
  [[ ! -e $out || -d $out ]] || die "$E_USAGE" "--out must be a folder; '$out' is a file"
  command -v nvidia-smi >/dev/null \
    || die 2 "nvidia-smi not found: gpu-check needs a real NVIDIA GPU and driver (use 'make test' here)"
  [[ -x $py ]] || die 2 "$py not found: run 'make setup' first"
  mkdir -p "$out"
  export PYTHONUNBUFFERED=1
  local failed=0 started=$SECONDS before after
  local settings=mig.mode.current,mig.mode.pending,persistence_mode,compute_mode,power.limit
  before=$(timeout 60 nvidia-smi --query-gpu="$settings" --format=csv,noheader) || failed=1
  {
    echo "# GPU check ($(date -u +%FT%TZ))"
    echo
    echo '## nvidia-smi (read-only queries)'
    echo '```'
    echo "+ nvidia-smi -L"; timeout 60 nvidia-smi -L || failed=1
    echo "+ nvidia-smi --query-gpu=index,name,driver_version,memory.total,mig.mode.current --format=csv"
    timeout 60 nvidia-smi \
      --query-gpu=index,name,driver_version,memory.total,mig.mode.current --format=csv \
      || failed=1
    echo '```'
    echo
    echo '## labkit doctor --mode real'
    echo '```'
    timeout 300 "$py" -m labkit.cli doctor --mode real || failed=1
    echo '```'
    echo
    echo '## Notebooks with a real-hardware path (MODE="real", QUICK=True)'
    echo '```'
    local notebooks
    notebooks=$("$py" -m labkit.course.notebooks --gpu-check)
    if [[ -n $notebooks ]]; then
      # shellcheck disable=SC2086 # one path per word, paths have no spaces
      "$py" -m labkit.course.notebooks --execute $notebooks --mode real --out "$out" \
        --cell-timeout 120 || failed=1
    fi
    echo '```'
    echo
    echo "## Card settings ($settings)"
    after=$(timeout 60 nvidia-smi --query-gpu="$settings" --format=csv,noheader) || failed=1
    echo "before: $before"
    echo "after:  $after"
    [[ $before == "$after" ]] || { echo "CHANGED: a setting differs after the check"; failed=1; }
    echo
    echo "took $((SECONDS - started)) s; result: $([[ $failed == 0 ]] && echo PASS || echo FAIL)"
  } 2>&1 | tee "$out/summary.md"
  grep -q 'result: PASS' "$out/summary.md" || exit 3
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
