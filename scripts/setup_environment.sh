#!/usr/bin/env bash
# setup_environment.sh: create .venv and install the course's pinned dependencies.
#
# Usage: scripts/setup_environment.sh [--help] [--dry-run] [--python PYTHON]
#        scripts/setup_environment.sh --gpu-host [--dry-run] [--yes]
#
#   --python PYTHON  interpreter to build the venv from (default: $PYTHON or python3)
#   --gpu-host       prepare a GPU host for the docker-compose stack instead (Lab 07):
#                    check the driver, Docker and the NVIDIA Container Toolkit, register
#                    the toolkit with Docker if needed, prove a container sees the GPU,
#                    and pull the pinned images
#   --dry-run        print what would run, change nothing
#   --yes            with --gpu-host: do not ask before reconfiguring Docker
#
# Versions are pinned in pyproject.toml only. Every package comes from the package index:
# nothing is downloaded from anywhere else. A second run with an unchanged pyproject.toml
# installs nothing and says so. As root on Debian/Ubuntu it also installs fio, sysstat and
# iperf3 (Labs 05-06); elsewhere it says how.
#
# Exit codes: 0 ready; 1 bad usage (unknown option, a --python that is not there);
# 2 unsupported Python, or no python3; 3 install failed;
# 4 (--gpu-host) a prerequisite is missing; 5 (--gpu-host) a container cannot see the GPU.
set -Eeuo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # die, usage (its exit codes are its own)

run() { echo "+ $*"; [[ ${DRY_RUN:-0} == 1 ]] || "$@"; }

# The supported interpreters on PATH, for the --python error (e.g. "python3.11, python3").
found_pythons() {
  local name found=()
  for name in python3.10 python3.11 python3.12 python3; do
    command -v "$name" >/dev/null && found+=("$name")
  done
  if ((${#found[@]})); then join_by ', ' "${found[@]}"; else echo none; fi
}

# fio, sysstat (iostat) and iperf3 for Labs 05-06, where this machine lets us install them;
# without them those labs use clearly labelled fallbacks.
system_tools() {
  command -v fio >/dev/null && command -v iostat >/dev/null && command -v iperf3 >/dev/null && return 0
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    run apt-get update -qq && DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq fio sysstat iperf3 \
      || echo "WARNING: could not install fio/sysstat/iperf3; Labs 05-06 use labelled fallbacks"
  else
    echo "HINT: sudo apt-get install fio sysstat iperf3 (Labs 05-06 fall back to labelled substitutes without them)"
  fi
}

# The GPU host steps of the course outline: driver, Docker, NVIDIA Container Toolkit.
readonly CUDA_PROBE_IMAGE=nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04
gpu_host() {
  if ! nvidia-smi -L >/dev/null 2>&1; then
    die 4 "no working NVIDIA driver (nvidia-smi -L fails or is missing): install the driver first"
  fi
  command -v docker >/dev/null || die 4 "docker not found: install Docker Engine"
  docker info >/dev/null 2>&1 || die 4 "the Docker engine does not answer (is it running? are you in the docker group?)"
  docker compose version >/dev/null 2>&1 || die 4 "the Docker Compose plugin is missing"
  command -v nvidia-ctk >/dev/null || die 4 "nvidia-ctk not found: install the NVIDIA Container Toolkit"
  if docker info --format '{{json .Runtimes}}' | grep -q '"nvidia"'; then
    echo "the NVIDIA runtime is already registered with Docker"
  else
    if [[ ${ASSUME_YES:-0} != 1 && ${DRY_RUN:-0} != 1 ]]; then
      die 1 "Docker needs the NVIDIA runtime registered and a restart: rerun with --yes"
    fi
    run nvidia-ctk runtime configure --runtime=docker
    run systemctl restart docker
  fi
  run docker run --rm --gpus all "$CUDA_PROBE_IMAGE" nvidia-smi -L \
    || die 5 "a container cannot see the GPU: check 'nvidia-ctk runtime configure' and restart Docker"
  run docker compose pull triton-server jupyter || die 5 "could not pull the pinned images"
  echo "GPU host ready: docker compose up -d triton-server (see docker/README.md)"
}

main() {
  local python=${PYTHON:-python3} venv=${VENV:-.venv} host=0 given=0
  while (($#)); do
    case $1 in
      -h|--help) usage; return 0 ;;
      --dry-run) DRY_RUN=1 ;;
      --python) [[ $# -ge 2 ]] || die "$E_USAGE" "--python needs a value"; python=$2; given=1; shift ;;
      --gpu-host) host=1 ;;
      --yes|-y) ASSUME_YES=1 ;;
      *) die "$E_USAGE" "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  # A --python that is not there is a wrong value (bad usage); a missing default python3 is
  # this machine's problem (exit 2).
  if [[ $given == 1 ]] && ! command -v "$python" >/dev/null; then
    die "$E_USAGE" "--python '$python' not found (valid: a Python 3.10-3.12 interpreter;" \
        "on PATH here: $(found_pythons))"
  fi

  if [[ $host == 1 ]]; then
    gpu_host
    return 0
  fi
  command -v "$python" >/dev/null || die 2 "'$python' not found: install Python 3.10-3.12"
  local version
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  case $version in
    3.10|3.11|3.12) ;;
    *) die 2 "Python $version is not supported (3.10-3.12); pass --python python3.11" ;;
  esac

  local stamp="$venv/.installed"
  if [[ -f $stamp && $stamp -nt pyproject.toml ]]; then
    echo "$venv is up to date with pyproject.toml: nothing to do"
    return 0
  fi
  [[ -x $venv/bin/python ]] || run "$python" -m venv "$venv"
  run "$venv/bin/python" -m pip install --quiet --upgrade pip
  run "$venv/bin/python" -m pip install --quiet -e ".[dev]" \
    || die 3 "pip could not install the pinned dependencies (see the messages above)"
  case $(uname -s)-$(uname -m) in
    Linux-x86_64) ;;
    *) echo "NOTE: DALI and the embedded Triton server ship Linux x86_64 wheels only;" \
            "'labkit doctor' lists what is missing and the README shows the docker-compose way." ;;
  esac
  system_tools
  [[ ${DRY_RUN:-0} == 1 ]] || touch "$stamp"
  echo "ready: $("$venv/bin/python" --version) in $venv"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
