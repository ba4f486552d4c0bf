#!/usr/bin/env bash
# 2-create-mig-instances.sh: create a MIG layout (GPU instances, each with its default
# compute instance) on one GPU, from profile names or from a mig-parted config.
#
# Usage: scripts/mig/2-create-mig-instances.sh [--gpu N] (--profiles LIST | --config NAME)
#            [--config-file FILE] [--replace] [--dry-run] [--yes] [--help]
#
#   --profiles LIST     comma-separated GPU-instance profiles, e.g. 3g.20gb,2g.10gb,1g.5gb
#   --config NAME       a named layout in the mig-parted config file (e.g. all-balanced)
#   --config-file FILE  mig-parted config (default: $MIG_CONFIG_FILE,
#                       manifests/mig/mig-config.yaml)
#   --gpu N             GPU index (default: $GPU_INDEX or 0)
#   --replace           destroy the GPU's current instances first when they differ
#   --dry-run           check everything, print the commands, change nothing
#   --yes               do not ask for confirmation
#
# The layout is checked with the MIG placement engine before anything changes: a profile the
# GPU does not offer, or instances that cannot all be placed, stop the script with the reason.
# Generic form of what it runs:
#   nvidia-smi mig -i <gpu> -cgi <profile>[:<start>][,...] -C
# The layout counts as applied when the GPU instances match AND each has its default compute
# instance (nvidia-smi mig -lci). GPU instances of the right profiles that have no compute
# instance (created with -cgi but without -C) get theirs:
#   nvidia-smi mig -i <gpu> -gi <id> -cci
# GPU instances holding only smaller compute instances count as a different layout (--replace).
#
# Arguments are checked before the GPU: an unknown config name, or a profile name that no MIG
# GPU has, is bad usage (exit 1) whatever state the GPU is in.
#
# Exit codes: 0 created or completed, or the layout is already there; 1 bad usage (unknown
# option, config or profile name); 2 nvidia-smi missing; 3 no such GPU; 4 not MIG capable or
# MIG mode off; 5 GPU has other instances or processes; 6 driver too old; 7 a profile this
# GPU does not offer, a layout that does not fit, or an invalid config file; 8 nvidia-smi
# failed; 10 not confirmed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# "missing ID" / "other ID" lines for the GPU instances lacking their default compute instance.
compute_instance_gaps() {
  { nvidia-smi mig -i "$GPU_INDEX" -lgi || true; nvidia-smi mig -i "$GPU_INDEX" -lci || true; } \
    2>/dev/null | labkit_mig compute-instances
}

# The GPU instances are right but GIs $2 (space-separated IDs) have no compute instance.
complete_compute_instances() {
  local wanted=$1 gi
  info "plan for GPU $GPU_INDEX ($GPU_NAME): the GPU instances ($wanted) are there; create the default compute instance of GPU instance(s) $2"
  confirm "Create the missing compute instances on GPU $GPU_INDEX?"
  for gi in $2; do
    act nvidia-smi mig -i "$GPU_INDEX" -gi "$gi" -cci \
      || die "$E_FAILED" "nvidia-smi could not create the compute instance of GPU instance $gi"
  done
  [[ $DRY_RUN == 1 ]] && { info "dry run: nothing changed"; return 0; }
  [[ -z $(compute_instance_gaps) ]] \
    || die "$E_FAILED" "after creation GPU $GPU_INDEX still lacks default compute instances"
  info "verified: GPU $GPU_INDEX has $wanted, each with its default compute instance"
  show nvidia-smi -L
}

main() {
  local profiles="" config="" replace=0
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --gpu) [[ $# -ge 2 ]] || die "$E_USAGE" "--gpu needs an index"; GPU_INDEX=$2; shift ;;
      --profiles) [[ $# -ge 2 ]] || die "$E_USAGE" "--profiles needs a list"; profiles=$2; shift ;;
      --config) [[ $# -ge 2 ]] || die "$E_USAGE" "--config needs a name"; config=$2; shift ;;
      --config-file) [[ $# -ge 2 ]] || die "$E_USAGE" "--config-file needs a path"
                     MIG_CONFIG_FILE=$2; shift ;;
      --replace) replace=1 ;;
      --dry-run) DRY_RUN=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      *) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  check_gpu_index
  [[ -n $profiles || -n $config ]] || die "$E_USAGE" "give --profiles LIST or --config NAME (see --help)"
  [[ -n $profiles && -n $config ]] && die "$E_USAGE" "give --profiles or --config, not both"
  if [[ -n $config ]]; then check_config "$config"; else check_profiles "$profiles"; fi

  preflight_gpu
  if [[ $GPU_MIG != Enabled ]]; then
    hint "run scripts/mig/1-enable-mig.sh --gpu $GPU_INDEX first"
    die "$E_NOT_MIG" "MIG mode is $GPU_MIG on GPU $GPU_INDEX ($GPU_NAME)"
  fi

  local plan
  if [[ -n $config ]]; then
    plan=$(labkit_mig parted --file "$MIG_CONFIG_FILE" --config "$config" \
             --model "$GPU_NAME" --gpu "$GPU_INDEX" 2>&1) || die "$E_LAYOUT" "$plan"
    if [[ $plan == disabled ]]; then
      hint "use scripts/mig/1-enable-mig.sh --gpu $GPU_INDEX --disable"
      die "$E_LAYOUT" "config '$config' turns MIG off on GPU $GPU_INDEX; there is nothing to create"
    fi
    plan=${plan#enabled}
    plan=${plan# }
  else
    plan=$(labkit_mig plan --model "$GPU_NAME" --profiles "$profiles" 2>&1) \
      || die "$E_LAYOUT" "$plan"
  fi
  local wanted current cis missing other
  wanted=$(tr ',' '\n' <<<"$plan" | sed 's/:.*//' | grep -v '^$' | sort | paste -sd, - || true)
  current=$(nvidia-smi mig -i "$GPU_INDEX" -lgi 2>/dev/null | labkit_mig layout)
  if [[ $current == "$wanted" ]]; then
    cis=$(compute_instance_gaps)
    missing=$(sed -n 's/^missing //p' <<<"$cis" | paste -sd' ' -)
    other=$(sed -n 's/^other //p' <<<"$cis" | paste -sd' ' -)
    if [[ -z $missing && -z $other ]]; then
      info "layout ${wanted:-<empty>} already applied on GPU $GPU_INDEX ($GPU_NAME): nothing to do"
      return 0
    fi
    if [[ -z $other ]]; then
      complete_compute_instances "$wanted" "$missing"
      return 0
    fi
    # Only smaller compute instances on some GI: not the layout this script makes.
    current="$current (GPU instance(s) $other without their default compute instance)"
  fi
  if [[ -n $current && $replace == 0 ]]; then
    hint "pass --replace to destroy them first, or destroy them yourself (nvidia-smi mig -i $GPU_INDEX -dci; nvidia-smi mig -i $GPU_INDEX -dgi)"
    die "$E_BUSY" "GPU $GPU_INDEX already has GPU instances ($current), not the requested $wanted"
  fi
  local procs
  procs=$(gpu_processes)
  if [[ -n $procs && -n $current ]]; then
    printf '    %s\n' "$procs" >&2
    die "$E_BUSY" "GPU $GPU_INDEX is in use by the processes above; its instances cannot be destroyed"
  fi

  info "plan for GPU $GPU_INDEX ($GPU_NAME):"
  [[ -n $current ]] && info "  destroy the current instances: $current"
  [[ -n $plan ]] && info "  create (profile:start): $plan, each with its default compute instance"
  confirm "Apply this MIG layout to GPU $GPU_INDEX?"
  if [[ -n $current ]]; then
    act nvidia-smi mig -i "$GPU_INDEX" -dci || true   # GIs without CIs are fine
    act nvidia-smi mig -i "$GPU_INDEX" -dgi || die "$E_FAILED" "could not destroy the GPU instances"
  fi
  if [[ -n $plan ]]; then
    act nvidia-smi mig -i "$GPU_INDEX" -cgi "$plan" -C || die "$E_FAILED" "nvidia-smi could not create the instances"
  fi
  [[ $DRY_RUN == 1 ]] && { info "dry run: nothing changed"; return 0; }

  current=$(nvidia-smi mig -i "$GPU_INDEX" -lgi 2>/dev/null | labkit_mig layout)
  [[ $current == "$wanted" && -z $(compute_instance_gaps) ]] \
    || die "$E_FAILED" "after creation GPU $GPU_INDEX has '$current' (compute instances: $(compute_instance_gaps | paste -sd' ' -)), expected '$wanted', each with its default compute instance"
  info "verified: GPU $GPU_INDEX has $wanted, each with its default compute instance"
  show nvidia-smi -L
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
