# shellcheck shell=bash
# common.sh: defaults and helpers of the Lab 02 MIG scripts, on top of scripts/lib.sh.
# Sourced, never run.
#
# Every default can be overridden from the environment, with the names the CLI flags,
# the manifests and the notebooks use:
: "${GPU_INDEX:=0}"                 # --gpu
: "${MIG_STRATEGY:=mixed}"          # --strategy (device plugin: single | mixed)
: "${DEVICE_PLUGIN_CHART_VERSION:=0.17.0}"
: "${DEVICE_PLUGIN_NAMESPACE:=nvidia-device-plugin}"
: "${POD_TIMEOUT:=120}"             # seconds to wait for the test pod

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
: "${MIG_CONFIG_FILE:=$REPO_ROOT/manifests/mig/mig-config.yaml}"

labkit_mig() { "$LABKIT_PYTHON" -m labkit.mig.cli "$@"; }

# Argument checks that need no GPU, run before preflight_gpu so that a typo is reported as
# one (exit 1, the valid values named) and not as whatever state the GPU is in.
check_gpu_index() {
  [[ $GPU_INDEX =~ ^[0-9]+$ ]] \
    || die "$E_USAGE" "--gpu must be a GPU index such as 0 (nvidia-smi -L lists them), got '$GPU_INDEX'"
}

# check_config NAME: NAME is a config of $MIG_CONFIG_FILE; a file mig-parted rejects exits 7.
check_config() {
  [[ -f $MIG_CONFIG_FILE ]] || die "$E_USAGE" "--config-file: mig-parted config $MIG_CONFIG_FILE not found"
  local out rc=0
  out=$(labkit_mig configs --file "$MIG_CONFIG_FILE" --check "$1" 2>&1) || rc=$?
  ((rc == 0)) && return 0
  ((rc == 1)) && die "$E_USAGE" "--config: $out"
  die "$E_LAYOUT" "mig-parted config $MIG_CONFIG_FILE is invalid: $out"
}

# check_profiles LIST: every profile name in LIST exists on some MIG GPU (whether they fit
# this GPU is planned after the preflight, exit 7).
check_profiles() {
  local out
  out=$(labkit_mig profiles "$1" 2>&1) || die "$E_USAGE" "--profiles: $out"
}

# One --query-gpu field of GPU_INDEX, no header, no units.
gpu_query() {
  nvidia-smi -i "$GPU_INDEX" --query-gpu="$1" --format=csv,noheader,nounits
}

# Preflight for every GPU script: nvidia-smi, the GPU, MIG capability, driver version.
# Sets GPU_NAME and GPU_BUS_ID.
preflight_gpu() {
  require_tool nvidia-smi "install the NVIDIA driver, or run 'PATH=\"\$(labkit sim bin):\$PATH\"' for the simulated node"
  local line err
  err=$(mktemp)
  if ! line=$(gpu_query name,pci.bus_id,driver_version,mig.mode.current 2>"$err"); then
    # nvidia-smi prints some errors on stdout ("No devices were found"), others on stderr.
    line=$( { printf '%s\n' "$line"; grep -v '^\[labkit sim\]' "$err"; } | grep -v '^\s*$' \
              | head -n 3 | paste -sd';' - || true)
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
