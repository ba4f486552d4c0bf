#!/usr/bin/env bash
# 1-enable-mig.sh: turn MIG mode on (or off) for one GPU.
#
# Usage: scripts/mig/1-enable-mig.sh [--gpu N] [--disable] [--dry-run] [--yes] [--help]
#
#   --gpu N      GPU index (default: $GPU_INDEX or 0)
#   --disable    turn MIG mode off instead (every GPU instance must be destroyed first)
#   --dry-run    check everything, print the command, change nothing
#   --yes        do not ask for confirmation
#
# Generic form of what it runs:  nvidia-smi -i <gpu> -mig 1|0
# On Ampere (A100/A30) MIG mode persists across reboots; on Hopper (H100/H200) it does not,
# which is why install-mig-persistence.sh re-runs this script at boot.
#
# Exit codes: 0 done, or already in that mode; 1 bad usage; 2 nvidia-smi missing;
# 3 no such GPU; 4 GPU not MIG capable; 5 processes are using the GPU; 6 driver too old;
# 8 nvidia-smi failed; 9 change pending (reboot or GPU reset needed); 10 not confirmed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

main() {
  local want=1 word=Enabled
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --gpu) [[ $# -ge 2 ]] || die "$E_USAGE" "--gpu needs an index"; GPU_INDEX=$2; shift ;;
      --disable) want=0 word=Disabled ;;
      --dry-run) DRY_RUN=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      *) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  check_gpu_index

  preflight_gpu
  local pending
  pending=$(gpu_query mig.mode.pending)
  if [[ $GPU_MIG == "$word" && $pending == "$word" ]]; then
    info "MIG already ${word,,} on GPU $GPU_INDEX ($GPU_NAME): nothing to do"
    return 0
  fi
  if [[ $pending == "$word" ]]; then
    hint "reboot the machine (or run 'nvidia-smi --gpu-reset -i $GPU_INDEX' with the GPU idle; simulated node: labkit sim reboot)"
    die "$E_PENDING" "MIG mode change to $word is already pending on GPU $GPU_INDEX ($GPU_BUS_ID)"
  fi
  local procs
  procs=$(gpu_processes)
  if [[ -n $procs ]]; then
    printf '    %s\n' "$procs" >&2
    hint "stop them first (for example: sudo systemctl stop nvsm dcgm), then run this again"
    die "$E_BUSY" "GPU $GPU_INDEX ($GPU_NAME) is in use by the processes above; the mode change would stay pending"
  fi
  if [[ $want == 0 ]] && [[ -n $(nvidia-smi mig -i "$GPU_INDEX" -lgi 2>/dev/null | grep -E '^\|\s+[0-9]+ ' || true) ]]; then
    hint "destroy them first: nvidia-smi mig -i $GPU_INDEX -dci && nvidia-smi mig -i $GPU_INDEX -dgi"
    die "$E_BUSY" "GPU $GPU_INDEX still has GPU instances; MIG cannot be disabled"
  fi

  info "plan: set MIG mode $word on GPU $GPU_INDEX ($GPU_NAME, $GPU_BUS_ID)"
  confirm "Set MIG mode $word on GPU $GPU_INDEX ($GPU_NAME)?"
  act nvidia-smi -i "$GPU_INDEX" -mig "$want" || die "$E_FAILED" "nvidia-smi could not change the MIG mode"
  [[ $DRY_RUN == 1 ]] && { info "dry run: nothing changed"; return 0; }

  local now
  now=$(gpu_query mig.mode.current)
  if [[ $now != "$word" ]]; then
    hint "reboot the machine, or reset the idle GPU: sudo nvidia-smi --gpu-reset -i $GPU_INDEX (simulated node: labkit sim reboot)"
    die "$E_PENDING" "MIG mode is pending ($word after a reset) on GPU $GPU_INDEX"
  fi
  info "verified: MIG mode $word on GPU $GPU_INDEX ($GPU_NAME)"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
