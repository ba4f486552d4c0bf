#!/usr/bin/env bash
# apply-manifests.sh: validate Lab 04's Kubernetes manifests, then apply them to a cluster.
#
# Usage: scripts/k8s/apply-manifests.sh [--model MODEL] [--strategy none|single|mixed]
#            [--dry-run] [--yes] [--help] [FILE|FOLDER ...]
#
#   FILE|FOLDER  manifests to apply (default: manifests/k8s)
#   --model M    GPU model the cluster has, for MIG resource names (default: none assumed)
#   --strategy S the device plugin's MIG strategy (default: $MIG_STRATEGY, else unset)
#   --dry-run    validate and print the commands, change nothing
#   --yes        do not ask for confirmation
#
# Every file is checked first (Kubernetes schema for the pinned version, GPU lint:
# python -m labkit.k8s check); a file that is not YAML, is empty, or is not an object stops
# the script with the file, line and fix. With a cluster, `kubectl diff` shows what would
# change and `kubectl apply` applies it; when nothing differs it says so and changes nothing.
# Without kubectl or a reachable cluster it prints the plan and exits 0. Volcano jobs need the
# Volcano CRDs installed (kubectl get crd jobs.batch.volcano.sh).
#
# The NVIDIA device plugin's Helm values files (no `kind:`, e.g. time-slicing or MPS) are not
# kubectl manifests: the script validates them and prints the Helm step to deploy one,
#   helm upgrade --install nvdp nvdp/nvidia-device-plugin --version <v> \
#     --namespace nvidia-device-plugin --create-namespace -f <values>
# but does not run Helm (scripts/mig/3-deploy-device-plugin.sh deploys the device plugin).
#
# Exit codes: 0 applied, unchanged, or validated offline; 1 bad usage (unknown option, model
# or strategy, a path that does not exist); 7 invalid manifest;
# 8 kubectl failed; 10 not confirmed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# The device plugin's chart and defaults, as scripts/mig/3-deploy-device-plugin.sh and
# scripts/mig/common.sh name them (override from the environment as there).
readonly DP_RELEASE=nvdp DP_CHART=nvdp/nvidia-device-plugin
readonly DP_CHART_REPO=https://nvidia.github.io/k8s-device-plugin
: "${DEVICE_PLUGIN_CHART_VERSION:=0.17.0}"
: "${DEVICE_PLUGIN_NAMESPACE:=nvidia-device-plugin}"

# Prints the Helm steps for the device plugin's values files; never runs Helm.
helm_steps() {
  info "The device plugin's Helm values are not kubectl manifests; deploy ONE of them with Helm"
  info "(each replaces the release's sharing config):"
  info "  helm repo add nvdp $DP_CHART_REPO --force-update"
  local f
  for f in "$@"; do
    info "  helm upgrade --install $DP_RELEASE $DP_CHART --version $DEVICE_PLUGIN_CHART_VERSION" \
         "--namespace $DEVICE_PLUGIN_NAMESPACE --create-namespace -f $f"
  done
}

main() {
  local args=() paths=() model="" strategy=${MIG_STRATEGY:-}
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --model) [[ $# -ge 2 ]] || die "$E_USAGE" "--model needs a GPU model"; model=$2; shift ;;
      --strategy) [[ $# -ge 2 ]] || die "$E_USAGE" "--strategy needs none, single or mixed"
                  strategy=$2; shift ;;
      --dry-run) DRY_RUN=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      -*) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
      *) [[ -e $1 ]] || die "$E_USAGE" "'$1' does not exist"; paths+=("$1") ;;
    esac
    shift
  done
  ((${#paths[@]})) || paths=("$REPO_ROOT/manifests/k8s")
  # Wrong values are bad usage, named with the valid ones, before any file is read.
  if [[ -n $strategy ]]; then
    one_of --strategy "$strategy" none single mixed
    args+=(--strategy "$strategy")
  fi
  if [[ -n $model ]]; then
    model=$(catalog_model --model "$model") || exit
    args+=(--model "$model")
  fi

  check_manifests "${paths[@]}" "${args[@]}"
  local files=() values=() kind file listing
  listing=$("$LABKIT_PYTHON" -m labkit.k8s files "${paths[@]}") \
    || die "$E_LAYOUT" "could not sort the files into manifests and Helm values"
  while IFS=$'\t' read -r kind file; do
    case $kind in
      manifest) files+=("$file") ;;
      helm-values) values+=("$file") ;;
    esac
  done <<<"$listing"
  ((${#files[@]} + ${#values[@]})) || die "$E_USAGE" "no manifest or Helm values file in ${paths[*]}"

  detect_cluster
  if [[ $CLUSTER == 0 ]]; then
    info "OFFLINE: nothing applied. With a cluster this script would run:"
    ((${#files[@]})) && printf '  kubectl apply -f %s\n' "${files[@]}"
    ((${#values[@]})) && helm_steps "${values[@]}"
    return 0
  fi
  if ((${#files[@]} == 0)); then
    helm_steps "${values[@]}"
    return 0
  fi
  local changed=() f
  for f in "${files[@]}"; do
    # kubectl diff exits 0 when the cluster already matches; 1 (differs) or an error
    # (a CRD or namespace missing) leave the file to apply, which reports any problem.
    kubectl diff -f "$f" >/dev/null 2>&1 || changed+=("$f")
  done
  if ((${#changed[@]} == 0)); then
    info "every manifest is already applied as it is: nothing to do"
    ((${#values[@]})) && helm_steps "${values[@]}"
    return 0
  fi
  info "plan: apply ${#changed[@]} manifest(s):"
  printf '  %s\n' "${changed[@]}"
  confirm "Apply them to the cluster $(kubectl config current-context 2>/dev/null || echo '?')?"
  for f in "${changed[@]}"; do
    act kubectl apply -f "$f" || die "$E_FAILED" "kubectl apply -f $f failed"
  done
  [[ $DRY_RUN == 1 ]] && info "dry run: nothing changed"
  ((${#values[@]})) && helm_steps "${values[@]}"
  return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
