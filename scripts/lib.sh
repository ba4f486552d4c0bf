# shellcheck shell=bash
# lib.sh: helpers shared by every course script (scripts/mig, scripts/k8s). Sourced, never run.
#
# Overridable from the environment:
: "${KUBECTL_TIMEOUT:=5s}"          # how long to wait for a cluster to answer
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${LABKIT_PYTHON:=$( [[ -x $REPO_ROOT/.venv/bin/python ]] && echo "$REPO_ROOT/.venv/bin/python" || echo python3)}"

# Exit codes shared by the scripts (each script's --help lists the ones it uses).
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly E_USAGE=1 E_NO_TOOL=2 E_NO_GPU=3 E_NOT_MIG=4 E_BUSY=5 E_DRIVER=6 E_LAYOUT=7 \
         E_FAILED=8 E_PENDING=9 E_DECLINED=10

DRY_RUN=${DRY_RUN:-0}
ASSUME_YES=${ASSUME_YES:-0}

# A HINT explains the ERROR it goes with, so it must be read after it: hint() only queues its
# line, and die() prints the queued lines after its ERROR (call hint, then die).
HINTS=()
hint() { HINTS+=("$*"); }
die() {
  local code=$1; shift
  echo "ERROR: $*" >&2
  if ((${#HINTS[@]})); then printf 'HINT: %s\n' "${HINTS[@]}" >&2; fi
  exit "$code"
}
info() { echo "$*"; }

# --help prints the script's header comment: from line 2 to the first line that is not a
# comment, or to a shellcheck directive (a note to the linter, not to the reader).
usage() { awk 'NR == 1 { next } !/^#/ || /^# *shellcheck / { exit } { sub(/^# ?/, ""); print }' "$0"; }

# A value from a fixed set, or a usage error naming the valid ones:
#   one_of --strategy "$strategy" single mixed
one_of() {
  local option=$1 value=$2 valid; shift 2
  for valid; do [[ $value == "$valid" ]] && return 0; done
  die "$E_USAGE" "$option '$value' is not valid (valid: $(join_by ', ' "$@"))"
}

join_by() { local sep=$1 out=$2 x; shift 2; for x; do out+="$sep$x"; done; echo "$out"; }

# The GPU catalog's name for MODEL (labkit.mig.catalog owns the list of GPU models), or a
# usage error that names the valid models. $1: the option it came from (e.g. --model).
# It runs in $(...): call it as  model=$(catalog_model --model "$model") || exit
catalog_model() {
  local out
  out=$("$LABKIT_PYTHON" -m labkit.mig.cli model "$2" 2>&1) || die "$E_USAGE" "$1: $out"
  echo "$out"
}

# Echo a command that changes something, then run it (unless --dry-run).
act() {
  echo "+ $*"
  [[ $DRY_RUN == 1 ]] && return 0
  "$@"
}

# Echo a read-only command, then run it.
show() { echo "+ $*" >&2; "$@"; }

require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "$E_NO_TOOL" "$1 not found on PATH${2:+: $2}"
}

# Ask before a change unless --yes; refuse when nobody can answer.
confirm() {
  [[ $ASSUME_YES == 1 || $DRY_RUN == 1 ]] && return 0
  if [[ ! -t 0 ]]; then
    die "$E_DECLINED" "$1: confirmation needed; rerun with --yes"
  fi
  local answer
  read -r -p "$1 [y/N] " answer
  [[ $answer == [yY]* ]] || die "$E_DECLINED" "declined: nothing changed"
}

# Sets CLUSTER=1 when kubectl reaches a cluster, else CLUSTER=0 (work offline) and says why.
# shellcheck disable=SC2034 # read by the scripts that source this file
detect_cluster() {
  CLUSTER=0
  if ! command -v kubectl >/dev/null 2>&1; then
    info "kubectl not found: working OFFLINE (validate and print what would be applied)"
  elif ! kubectl version --request-timeout="$KUBECTL_TIMEOUT" >/dev/null 2>&1; then
    info "no Kubernetes cluster reachable (kubectl version failed): working OFFLINE"
  else
    CLUSTER=1
  fi
}

# Schema validation and GPU lint of manifests (python -m labkit.k8s check); exit 7 on errors.
check_manifests() {
  local out
  out=$("$LABKIT_PYTHON" -m labkit.k8s check "$@" 2>&1) || die "$E_LAYOUT" "manifests rejected:"$'\n'"$out"
  info "$out"
}
