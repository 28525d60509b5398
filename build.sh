#!/usr/bin/env bash
# Entry point on a fresh Debian 12 machine (run as root): installs what the build and the tests need,
# starts a Docker engine if none answers, then hands over to build.ps1.
#
#   ./build.sh            Build (default)
#   ./build.sh Demo       build and run examples/demo.ps1 in a real sandbox
#   ./build.sh Test       build and run all tests
#   ./build.sh Clean
#
# Every step is skipped when already done, so a second run starts build.ps1 within a second or two.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

log() { printf '==> %s\n' "$*" >&2; }

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

# --- Debian packages --------------------------------------------------------------------------
# docker.io: the engine; busybox-static/debootstrap: test images; openssh-server: ssh:// tests;
# docker-registry: a local registry on 127.0.0.1:5000 for pull tests; python3-docker: reference checks;
# iptables: dockerd's bridge networking; curl: readiness checks.
APT_PACKAGES=(docker.io docker-registry openssh-server busybox-static debootstrap python3-docker iptables curl)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- .NET tools (PowerShell, pinned in dotnet-tools.json) -------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null

# --- Docker engine ------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  DOCKERD_LOG="${DOCKERD_LOG:-/tmp/sandbox-dockerd.log}"
  log "Starting dockerd in the background (log: $DOCKERD_LOG)"
  # setsid: keep dockerd out of this script's process group, so Ctrl+C on a build doesn't stop it.
  $SUDO setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  dockerd_pid=$!
  for ((i = 0; i < 60; i++)); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break   # it exited: no use waiting
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd is not ready (waited ${i}s); last lines of $DOCKERD_LOG:"
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  log "dockerd is ready"
fi

exec dotnet tool run pwsh -NoProfile -File build.ps1 "$@"
