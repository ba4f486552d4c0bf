# shellcheck shell=bash
# common.sh: defaults and helpers shared by the Lab 02 MIG scripts. Sourced, never run.
#
# Every default can be overridden from the environment, with the names the CLI flags,
# the manifests and the notebooks use:
: "${GPU_INDEX:=0}"                 # --gpu
: "${MIG_STRATEGY:=mixed}"          # --strategy (device plugin: single | mixed)
: "${DEVICE_PLUGIN_CHART_VERSION:=0.17.0}"
: "${DEVICE_PLUGIN_NAMESPACE:=nvidia-device-plugin}"
: "${KUBECTL_TIMEOUT:=5s}"          # how long to wait for a cluster to answer
: "${POD_TIMEOUT:=120}"             # seconds to wait for the test pod
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${MIG_CONFIG_FILE:=$REPO_ROOT/manifests/mig/mig-config.yaml}"
: "${LABKIT_PYTHON:=$( [[ -x $REPO_ROOT/.venv/bin/python ]] && echo "$REPO_ROOT/.venv/bin/python" || echo python3)}"

# Exit codes shared by every MIG script (each script's --help lists the ones it uses).
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly E_USAGE=1 E_NO_TOOL=2 E_NO_GPU=3 E_NOT_MIG=4 E_BUSY=5 E_DRIVER=6 E_LAYOUT=7 \
         E_FAILED=8 E_PENDING=9 E_DECLINED=10

DRY_RUN=${DRY_RUN:-0}
ASSUME_YES=${ASSUME_YES:-0}

die() { local code=$1; shift; echo "ERROR: $*" >&2; exit "$code"; }
hint() { echo "HINT: $*" >&2; }
info() { echo "$*"; }
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }

# Echo a command that changes something, then run it (unless --dry-run).
act() {
  echo "+ $*"
  [[ $DRY_RUN == 1 ]] && return 0
  "$@"
}

# Echo a read-only command, then run it.
show() { echo "+ $*" >&2; "$@"; }

labkit_mig() { "$LABKIT_PYTHON" -m labkit.mig.cli "$@"; }

require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "$E_NO_TOOL" "$1 not found on PATH${2:+: $2}"
}

# One --query-gpu field of GPU_INDEX, no header, no units.
gpu_query() {
  nvidia-smi -i "$GPU_INDEX" --query-gpu="$1" --format=csv,noheader,nounits
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

# Preflight for every GPU script: nvidia-smi, the GPU, MIG capability, driver version.
# Sets GPU_NAME and GPU_BUS_ID.
preflight_gpu() {
  require_tool nvidia-smi "install the NVIDIA driver, or run 'PATH=\"\$(labkit sim bin):\$PATH\"' for the simulated node"
  local line err
  err=$(mktemp)
  if ! line=$(gpu_query name,pci.bus_id,driver_version,mig.mode.current 2>"$err"); then
    line=$(grep -v '^\[labkit sim\]' "$err" | head -n 3 || true)
    rm -f "$err"
    die "$E_NO_GPU" "GPU $GPU_INDEX not found: ${line:-nvidia-smi failed} (list the GPUs with: nvidia-smi -L)"
  fi
  rm -f "$err"
  IFS=',' read -r GPU_NAME GPU_BUS_ID GPU_DRIVER GPU_MIG <<<"$line"
  GPU_NAME=${GPU_NAME# } GPU_BUS_ID=${GPU_BUS_ID# } GPU_DRIVER=${GPU_DRIVER# } GPU_MIG=${GPU_MIG# }
  if [[ $GPU_MIG == "[N/A]" ]]; then
    die "$E_NOT_MIG" "GPU $GPU_INDEX ($GPU_NAME) is not MIG capable; MIG needs an A100, A30, H100 or H200"
  fi
  check_driver
}

# Minimum drivers for MIG, from NVIDIA's MIG user guide (shared/reference/mig.md §1.0):
# A100/A30 R525 (>= 525.53), H100/H200 R450 (>= 450.80.02, as printed there).
check_driver() {
  local minimum=450.80.02
  [[ $GPU_NAME == *A100* || $GPU_NAME == *A30* ]] && minimum=525.53
  if [[ $(printf '%s\n%s\n' "$minimum" "$GPU_DRIVER" | sort -V | head -n 1) != "$minimum" ]]; then
    die "$E_DRIVER" "driver $GPU_DRIVER on GPU $GPU_INDEX ($GPU_NAME) is older than $minimum, the minimum for MIG on this GPU; update the NVIDIA driver"
  fi
}

# Processes using GPU_INDEX, one "pid, name" per line (empty when idle).
gpu_processes() {
  nvidia-smi -i "$GPU_INDEX" --query-compute-apps=pid,process_name --format=csv,noheader
}

# Fail when a cluster cannot be reached; sets CLUSTER=1 when it can, 0 (offline) otherwise.
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
