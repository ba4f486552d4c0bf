#!/usr/bin/env bash
# 4-deploy-test-pod.sh: run a pod that requests a MIG device, print its logs, clean up.
#
# Usage: scripts/mig/4-deploy-test-pod.sh [--strategy single|mixed] [--manifest FILE]
#            [--model MODEL] [--dry-run] [--yes] [--help]
#
#   --strategy S     device plugin MIG strategy (default: $MIG_STRATEGY or mixed); picks
#                    manifests/mig-pod.yaml (mixed) or manifests/mig-pod-single.yaml (single)
#   --manifest FILE  the pod manifest instead
#   --model MODEL    GPU model to check the requested resources against (default: GPU
#                    $GPU_INDEX's name from nvidia-smi, else A100-SXM4-40GB)
#   --dry-run        validate and print the commands, change nothing
#   --yes            do not ask for confirmation (asked only when a cluster is reachable)
#
# Generic form of what it runs:
#   kubectl apply -f <pod.yaml>; kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/<name>
#   kubectl logs pod/<name>; kubectl delete -f <pod.yaml>
# A pod left by an earlier run is deleted first, and the pod is always deleted at the end.
# Without kubectl or a reachable cluster it validates the manifest offline and prints what
# it would run, then exits 0.
#
# The manifest is checked first: Kubernetes schema, GPU lint (python -m labkit.k8s check),
# and the MIG resource against the strategy and GPU model (a model the GPU catalog does not
# know is bad usage: the error lists the valid ones).
#
# Exit codes: 0 the pod ran (or validated offline); 1 bad usage (unknown option, strategy,
# model or manifest file); 7 invalid manifest;
# 8 the pod failed or did not finish within $POD_TIMEOUT s; 10 not confirmed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

POD=""
MANIFEST=""
cleanup() {
  if [[ -n $POD && $DRY_RUN == 0 ]]; then
    kubectl delete -f "$MANIFEST" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
}

main() {
  local strategy=$MIG_STRATEGY model=""
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --strategy) [[ $# -ge 2 ]] || die "$E_USAGE" "--strategy needs single or mixed"; strategy=$2; shift ;;
      --manifest) [[ $# -ge 2 ]] || die "$E_USAGE" "--manifest needs a file"; MANIFEST=$2; shift ;;
      --model) [[ $# -ge 2 ]] || die "$E_USAGE" "--model needs a GPU model"; model=$2; shift ;;
      --dry-run) DRY_RUN=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      *) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  one_of --strategy "$strategy" single mixed
  case $strategy in
    mixed) MANIFEST=${MANIFEST:-$REPO_ROOT/manifests/mig-pod.yaml} ;;
    single) MANIFEST=${MANIFEST:-$REPO_ROOT/manifests/mig-pod-single.yaml} ;;
  esac
  [[ -f $MANIFEST ]] || die "$E_USAGE" "--manifest: manifest $MANIFEST not found"
  if [[ -n $model ]]; then
    model=$(catalog_model --model "$model") || exit
  else
    # A GPU the catalog does not know needs --model; the message names the valid ones.
    model=$(gpu_query name 2>/dev/null || echo A100-SXM4-40GB)
    model=$(catalog_model "GPU $GPU_INDEX (pass --model to name it)" "$model") || exit
  fi

  check_manifests "$MANIFEST" --model "$model" --strategy "$strategy"
  local asked
  asked=$(labkit_mig pod-resources "$MANIFEST" --strategy "$strategy" --model "$model" 2>&1) \
    || die "$E_LAYOUT" "$asked"
  local name
  name=$("$LABKIT_PYTHON" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["metadata"]["name"])' "$MANIFEST")
  info "manifest OK: pod '$name' requests $asked ($model, migStrategy=$strategy)"

  detect_cluster
  if [[ $CLUSTER == 0 || $DRY_RUN == 1 ]]; then
    [[ $CLUSTER == 0 ]] && info "OFFLINE: nothing applied. With a cluster this script would run:"
    [[ $CLUSTER == 1 ]] && info "dry run: would run:"
    info "  kubectl delete -f $MANIFEST --ignore-not-found"
    info "  kubectl apply -f $MANIFEST"
    info "  kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/$name --timeout=${POD_TIMEOUT}s"
    info "  kubectl logs pod/$name"
    info "  kubectl delete -f $MANIFEST"
    return 0
  fi

  confirm "Run pod $name (it is deleted afterwards) on the cluster?"
  POD=$name
  trap cleanup EXIT
  act kubectl delete -f "$MANIFEST" --ignore-not-found --wait=true
  act kubectl apply -f "$MANIFEST" || die "$E_FAILED" "kubectl apply failed"
  if ! act kubectl wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$name" --timeout="${POD_TIMEOUT}s"; then
    show kubectl describe "pod/$name" | sed -n '/^Events:/,$p' >&2 || true
    hint "'Insufficient nvidia.com/...' means no node advertises that resource: check the device plugin's strategy and the node's MIG layout (kubectl describe node)"
    die "$E_FAILED" "pod $name did not succeed within ${POD_TIMEOUT}s"
  fi
  show kubectl logs "pod/$name"
  info "pod $name ran on a MIG device; it is deleted now"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
