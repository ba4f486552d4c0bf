#!/usr/bin/env bash
# sweep.sh: Lab 07's load test with the real perf_analyzer, inside the Triton SDK container.
#
# Usage (from the repository root on a GPU host, triton-server up and healthy):
#   docker compose --profile perf run --rm perf-analyzer
#
# For every classifier variant in build/pipeline/models-ngc (no batching / dynamic batching,
# 1 / 2 instances) and every concurrency level, runs
#   perf_analyzer -m MODEL -u $TRITON_GRPC -i grpc --concurrency-range C --shape $SHAPE \
#       -f $RESULTS/MODEL-cC.csv
# with perf_analyzer's defaults (5,000 ms windows, 10 % stability, 10 trials), the same
# method labkit.pipeline.loadtest follows on CPU-only machines, then joins each model's rows
# into $RESULTS/MODEL.csv (perf_analyzer's columns; compare with
# build/pipeline/sweep/MODEL.csv, labkit's load generator on the CPU).
#
# Environment: TRITON_GRPC (default triton-server:8001), SHAPE (images:3,48,48),
#   LEVELS ("1 2 4 8 16"), MODELS ("nobatch_1 batch_1 nobatch_2 batch_2"), RESULTS (/results).
# Exit codes: 0 done; 1 perf_analyzer missing; 2 a run failed.
set -Eeuo pipefail

die() { local code=$1; shift; echo "ERROR: $*" >&2; exit "$code"; }

main() {
  : "${TRITON_GRPC:=triton-server:8001}" "${SHAPE:=images:3,48,48}"
  : "${LEVELS:=1 2 4 8 16}" "${MODELS:=nobatch_1 batch_1 nobatch_2 batch_2}"
  : "${RESULTS:=/results}"
  command -v perf_analyzer >/dev/null || die 1 "perf_analyzer not found: run this in the \
nvcr.io/nvidia/tritonserver:<yy.mm>-py3-sdk container"
  mkdir -p "$RESULTS"
  local model level csv
  for model in $MODELS; do
    csv="$RESULTS/$model.csv"
    rm -f "$csv"
    for level in $LEVELS; do
      echo "+ perf_analyzer -m $model -u $TRITON_GRPC -i grpc --concurrency-range $level" \
           "--shape $SHAPE -f $RESULTS/$model-c$level.csv"
      perf_analyzer -m "$model" -u "$TRITON_GRPC" -i grpc --concurrency-range "$level" \
        --shape "$SHAPE" -f "$RESULTS/$model-c$level.csv" \
        || die 2 "perf_analyzer failed for $model at concurrency $level"
      if [[ -f $csv ]]; then
        tail -n +2 "$RESULTS/$model-c$level.csv" >>"$csv"
      else
        cp "$RESULTS/$model-c$level.csv" "$csv"
      fi
    done
    echo "wrote $csv"
  done
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
