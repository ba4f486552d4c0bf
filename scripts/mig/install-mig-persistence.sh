#!/usr/bin/env bash
# install-mig-persistence.sh: re-create the MIG layout at every boot with a systemd unit.
#
# Usage: scripts/mig/install-mig-persistence.sh --config NAME [--gpus LIST]
#            [--config-file FILE] [--uninstall] [--dry-run] [--yes] [--help]
#
#   --config NAME       the layout to re-apply, from the mig-parted config file
#   --gpus LIST         comma-separated GPU indexes (default: $GPU_INDEX or 0)
#   --config-file FILE  mig-parted config to install (default: manifests/mig/mig-config.yaml)
#   --uninstall         remove the unit and the installed config
#   --dry-run           print the unit and the commands, change nothing
#   --yes               do not ask for confirmation
#
# GPU instances never survive a reboot, and on Hopper (H100/H200) MIG mode does not either.
# The unit (labkit-mig-layout.service, oneshot, before the kubelet) runs 1-enable-mig.sh and
# 2-create-mig-instances.sh for each GPU at boot. Files go to $SYSTEMD_DIR
# (/etc/systemd/system) and $LABKIT_ETC (/etc/labkit); systemctl is only called for the
# system's own unit folder. A second run with the same inputs changes nothing.
#
# Exit codes: 0 installed, unchanged or removed; 1 bad usage (unknown option or config name);
# 2 nvidia-smi missing; 3 no such GPU; 4 not MIG capable; 6 driver too old; 7 layout does not
# fit, or an invalid config file; 8 systemctl failed; 10 not confirmed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${SYSTEMD_DIR:=/etc/systemd/system}"
: "${LABKIT_ETC:=/etc/labkit}"
readonly UNIT=labkit-mig-layout.service

render_unit() {  # config-name gpu-list
  local gpu
  cat <<UNIT
# Installed by scripts/mig/install-mig-persistence.sh (NCP-AI Infrastructure Labs).
[Unit]
Description=Re-create the MIG layout '$1' on GPU(s) $2 at boot
After=nvidia-persistenced.service
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
Environment=LABKIT_PYTHON=$LABKIT_PYTHON
Environment=MIG_CONFIG_FILE=$LABKIT_ETC/mig-config.yaml
UNIT
  for gpu in ${2//,/ }; do
    echo "ExecStart=$REPO_ROOT/scripts/mig/1-enable-mig.sh --gpu $gpu --yes"
    echo "ExecStart=$REPO_ROOT/scripts/mig/2-create-mig-instances.sh --gpu $gpu --config $1 --replace --yes"
  done
  cat <<UNIT

[Install]
WantedBy=multi-user.target
UNIT
}

system_units() { [[ $SYSTEMD_DIR == /etc/systemd/system ]] && command -v systemctl >/dev/null; }

main() {
  local config="" gpus=$GPU_INDEX uninstall=0
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --config) [[ $# -ge 2 ]] || die "$E_USAGE" "--config needs a name"; config=$2; shift ;;
      --gpus) [[ $# -ge 2 ]] || die "$E_USAGE" "--gpus needs a list"; gpus=$2; shift ;;
      --config-file) [[ $# -ge 2 ]] || die "$E_USAGE" "--config-file needs a path"; MIG_CONFIG_FILE=$2; shift ;;
      --uninstall) uninstall=1 ;;
      --dry-run) DRY_RUN=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      *) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
    esac
    shift
  done

  SYSTEMD_DIR=$(realpath -m "$SYSTEMD_DIR")   # the unit must not hold relative paths
  LABKIT_ETC=$(realpath -m "$LABKIT_ETC")
  if [[ $uninstall == 1 ]]; then
    if [[ ! -e $SYSTEMD_DIR/$UNIT ]]; then
      info "$UNIT is not installed: nothing to do"
      return 0
    fi
    confirm "Remove $UNIT?"
    system_units && { act systemctl disable "$UNIT" || die "$E_FAILED" "systemctl disable failed"; }
    act rm -f "$SYSTEMD_DIR/$UNIT" "$LABKIT_ETC/mig-config.yaml"
    info "removed $UNIT"
    return 0
  fi

  [[ -n $config ]] || die "$E_USAGE" "give --config NAME (a layout in $MIG_CONFIG_FILE)"
  [[ $gpus =~ ^[0-9]+(,[0-9]+)*$ ]] || die "$E_USAGE" "--gpus must be indexes like 0 or 0,1, got '$gpus'"
  check_config "$config"
  local gpu checked
  for gpu in ${gpus//,/ }; do
    GPU_INDEX=$gpu
    preflight_gpu
    checked=$(labkit_mig parted --file "$MIG_CONFIG_FILE" --config "$config" \
                --model "$GPU_NAME" --gpu "$gpu" 2>&1) || die "$E_LAYOUT" "$checked"
    info "GPU $gpu ($GPU_NAME): config '$config' -> $checked"
  done

  local unit
  unit=$(render_unit "$config" "$gpus")
  if [[ -f $SYSTEMD_DIR/$UNIT && $(<"$SYSTEMD_DIR/$UNIT") == "$unit" ]] &&
     cmp -s "$MIG_CONFIG_FILE" "$LABKIT_ETC/mig-config.yaml"; then
    info "$UNIT already installed for '$config' on GPU(s) $gpus: nothing to do"
    return 0
  fi
  info "plan: install $SYSTEMD_DIR/$UNIT and $LABKIT_ETC/mig-config.yaml:"
  printf '%s\n' "$unit" | sed 's/^/    /'
  confirm "Install $UNIT?"
  act mkdir -p "$SYSTEMD_DIR" "$LABKIT_ETC"
  act cp "$MIG_CONFIG_FILE" "$LABKIT_ETC/mig-config.yaml"
  if [[ $DRY_RUN == 0 ]]; then
    echo "+ write $SYSTEMD_DIR/$UNIT"
    printf '%s\n' "$unit" >"$SYSTEMD_DIR/$UNIT"
  fi
  if system_units; then
    act systemctl daemon-reload || die "$E_FAILED" "systemctl daemon-reload failed"
    act systemctl enable "$UNIT" || die "$E_FAILED" "systemctl enable failed"
  else
    info "$SYSTEMD_DIR is not the system's unit folder (or no systemctl): enable it yourself with 'systemctl enable $UNIT'"
  fi
  [[ $DRY_RUN == 1 ]] && { info "dry run: nothing changed"; return 0; }
  info "installed: the layout '$config' is re-created on GPU(s) $gpus at every boot"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
