#!/usr/bin/env bash
# 3-deploy-device-plugin.sh: deploy the NVIDIA device plugin (Helm chart) with a MIG strategy.
#
# Usage: scripts/mig/3-deploy-device-plugin.sh [--strategy single|mixed] [--values FILE]
#            [--dry-run] [--yes] [--help]
#
#   --strategy S   MIG strategy (default: $MIG_STRATEGY or mixed); picks
#                  manifests/device-plugin/values-S.yaml
#   --values FILE  Helm values file instead (its migStrategy must match --strategy)
#   --dry-run      validate, print the commands, change nothing
#   --yes          do not ask for confirmation
#
# Generic form of what it runs:
#   helm upgrade --install nvdp nvdp/nvidia-device-plugin --version <v> \
#     --namespace nvidia-device-plugin --create-namespace -f <values>
# Without kubectl, helm or a reachable cluster it validates the values offline and prints
# what it would apply, then exits 0.
#
# Exit codes: 0 deployed, already deployed, or validated offline; 1 bad usage;
# 2 helm missing while a cluster is reachable; 7 invalid values; 8 helm or kubectl failed;
# 10 not confirmed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly RELEASE=nvdp CHART=nvdp/nvidia-device-plugin
readonly CHART_REPO=https://nvidia.github.io/k8s-device-plugin

canonical_json() {  # YAML or JSON on stdin -> sorted JSON (to compare values)
  "$LABKIT_PYTHON" -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin) or {}, sort_keys=True))'
}

main() {
  local strategy=$MIG_STRATEGY values=""
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --strategy) [[ $# -ge 2 ]] || die "$E_USAGE" "--strategy needs single or mixed"; strategy=$2; shift ;;
      --values) [[ $# -ge 2 ]] || die "$E_USAGE" "--values needs a file"; values=$2; shift ;;
      --dry-run) DRY_RUN=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      *) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  one_of --strategy "$strategy" single mixed
  values=${values:-$REPO_ROOT/manifests/device-plugin/values-$strategy.yaml}
  [[ -f $values ]] || die "$E_USAGE" "--values: values file $values not found"

  local checked
  checked=$(labkit_mig device-plugin-values "$values" 2>&1) || die "$E_LAYOUT" "$checked"
  [[ $checked == "migStrategy=$strategy" ]] \
    || die "$E_LAYOUT" "$values sets $checked but --strategy is $strategy"
  info "values OK: $values ($checked)"

  local cmd=(helm upgrade --install "$RELEASE" "$CHART" --version "$DEVICE_PLUGIN_CHART_VERSION"
             --namespace "$DEVICE_PLUGIN_NAMESPACE" --create-namespace -f "$values" --wait)
  detect_cluster
  if [[ $CLUSTER == 0 ]]; then
    info "OFFLINE: nothing applied. With a cluster this script would run:"
    info "  helm repo add nvdp $CHART_REPO --force-update"
    info "  ${cmd[*]}"
    return 0
  fi
  require_tool helm "install Helm 3 (https://helm.sh/docs/intro/install/)"

  local deployed
  deployed=$(helm list -n "$DEVICE_PLUGIN_NAMESPACE" -f "^$RELEASE\$" -o json 2>/dev/null || echo "[]")
  if [[ $deployed == *"nvidia-device-plugin-$DEVICE_PLUGIN_CHART_VERSION"* ]] &&
     [[ $(helm get values "$RELEASE" -n "$DEVICE_PLUGIN_NAMESPACE" -o json | canonical_json) == \
        "$(canonical_json <"$values")" ]]; then
    info "device plugin $DEVICE_PLUGIN_CHART_VERSION with migStrategy=$strategy already deployed: nothing to do"
    return 0
  fi

  info "plan: deploy nvidia-device-plugin $DEVICE_PLUGIN_CHART_VERSION (migStrategy=$strategy) into namespace $DEVICE_PLUGIN_NAMESPACE"
  confirm "Deploy the device plugin?"
  act helm repo add nvdp "$CHART_REPO" --force-update || die "$E_FAILED" "helm repo add failed"
  act "${cmd[@]}" || die "$E_FAILED" "helm could not deploy the device plugin"
  [[ $DRY_RUN == 1 ]] && { info "dry run: nothing changed"; return 0; }
  show kubectl get nodes -o 'custom-columns=NODE:.metadata.name,ALLOCATABLE:.status.allocatable' \
    || die "$E_FAILED" "kubectl could not list the nodes"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
