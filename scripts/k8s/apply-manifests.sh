#!/usr/bin/env bash
# apply-manifests.sh: validate Lab 04's Kubernetes manifests, then apply them to a cluster.
#
# Usage: scripts/k8s/apply-manifests.sh [--model MODEL] [--strategy none|single|mixed]
#            [--dry-run] [--yes] [--help] [FILE|FOLDER ...]
#
#   FILE|FOLDER  manifests to apply (default: manifests/k8s; Helm values files are skipped)
#   --model M    GPU model the cluster has, for MIG resource names (default: none assumed)
#   --strategy S the device plugin's MIG strategy (default: $MIG_STRATEGY, else unset)
#   --dry-run    validate and print the commands, change nothing
#   --yes        do not ask for confirmation
#
# Every manifest is checked first (Kubernetes schema for the pinned version, GPU lint:
# python -m labkit.k8s check). With a cluster, `kubectl diff` shows what would change and
# `kubectl apply` applies it; when nothing differs it says so and changes nothing. Without
# kubectl or a reachable cluster it prints the plan and exits 0. Volcano jobs need the
# Volcano CRDs installed (kubectl get crd jobs.batch.volcano.sh).
#
# Exit codes: 0 applied, unchanged, or validated offline; 1 bad usage; 7 invalid manifest;
# 8 kubectl failed; 10 not confirmed.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# Kubernetes objects only: Helm values files go to `helm -f`, not `kubectl apply`.
kube_files() {
  local path
  for path in "$@"; do
    if [[ -d $path ]]; then
      find "$path" -maxdepth 1 -name '*.yaml' | sort
    else
      echo "$path"
    fi
  done | while read -r f; do
    grep -q '^kind:' "$f" && echo "$f"
  done
}

main() {
  local args=() paths=()
  [[ -n ${MIG_STRATEGY:-} ]] && args+=(--strategy "$MIG_STRATEGY")
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --model) [[ $# -ge 2 ]] || die "$E_USAGE" "--model needs a GPU model"; args+=(--model "$2"); shift ;;
      --strategy) [[ $# -ge 2 ]] || die "$E_USAGE" "--strategy needs none, single or mixed"
                  args+=(--strategy "$2"); shift ;;
      --dry-run) DRY_RUN=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      -*) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
      *) [[ -e $1 ]] || die "$E_USAGE" "'$1' does not exist"; paths+=("$1") ;;
    esac
    shift
  done
  ((${#paths[@]})) || paths=("$REPO_ROOT/manifests/k8s")

  local files=()
  mapfile -t files < <(kube_files "${paths[@]}")
  ((${#files[@]})) || die "$E_USAGE" "no Kubernetes manifest (a file with 'kind:') in ${paths[*]}"
  check_manifests "${files[@]}" "${args[@]}"

  detect_cluster
  if [[ $CLUSTER == 0 ]]; then
    info "OFFLINE: nothing applied. With a cluster this script would run:"
    printf '  kubectl apply -f %s\n' "${files[@]}"
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
    return 0
  fi
  info "plan: apply ${#changed[@]} manifest(s):"
  printf '  %s\n' "${changed[@]}"
  confirm "Apply them to the cluster $(kubectl config current-context 2>/dev/null || echo '?')?"
  for f in "${changed[@]}"; do
    act kubectl apply -f "$f" || die "$E_FAILED" "kubectl apply -f $f failed"
  done
  [[ $DRY_RUN == 1 ]] && info "dry run: nothing changed"
  return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
