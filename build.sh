#!/usr/bin/env bash
# Entry point on a fresh Debian 12 machine (run as root): installs what the build and the tests need,
# starts a Docker engine if none answers, then hands over to build.ps1.
#
#   ./build.sh            Build (default)
#   ./build.sh Demo       build and run examples/demo.ps1 in a real sandbox (busybox image only)
#   ./build.sh Test       build and run all tests (makes the polyglot image once, about 2 minutes)
#   ./build.sh PolyglotImage   make only the polyglot image that the polyglot examples use
#   ./build.sh Clean
#
# Every step is skipped when already done, so a second run starts build.ps1 within a second or two.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# When this run started (Unix seconds): the Demo task reports the whole run's time, packages and engine included.
export SANDBOX_BUILD_STARTED=$(date +%s.%N)

log() { printf '==> %s\n' "$*" >&2; }

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

# --- Debian packages --------------------------------------------------------------------------
# docker.io: the engine; busybox-static/debootstrap: test images; openssh-server: ssh:// tests;
# docker-registry: a local registry on 127.0.0.1:5000 for pull tests; python3-docker: reference checks;
# iptables: dockerd's bridge networking; curl: readiness checks; openssl: TLS material for the tcp:// tests;
# socat: a killable proxy in front of the engine socket for the engine-fault tests; tmux: a real terminal for the
# Enter-Sandbox tests (keys sent, screen read); iproute2/util-linux: ip, nsenter, unshare for the test swarm's
# network namespaces (tests/setup/Start-TestSwarm.sh); runsc: gVisor, the engine runtime the -Runtime tests use.
APT_PACKAGES=(docker.io docker-registry openssh-server busybox-static debootstrap python3-docker iptables curl openssl socat tmux
  iproute2 util-linux runsc)
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
# dockerd answers on the default unix socket and, for the tcp:// + TLS tests, TLS-only (--tlsverify) on
# 127.0.0.1:2376 and 127.0.0.2:2376 (the server certificate lists only 127.0.0.1 and localhost, so 127.0.0.2 is
# the wrong-host-name case). The certificates come from tests/setup/New-TestTls.sh, made before dockerd starts.
# Its config file registers gVisor as the runtime "runsc" (New-Sandbox -Runtime runsc). --network=host: runsc passes
# network calls to the host kernel inside the container's own network namespace (the one the engine made, so the
# sandbox's network stays separate) instead of its user-space stack, which on this machine kind refuses to start
# ("cannot run with network enabled in root network namespace").
TLS_DIR=$(bash tests/setup/New-TestTls.sh | tail -n 1)
DOCKERD_CONFIG=/var/lib/sandbox-test/dockerd/daemon.json
$SUDO mkdir -p "$(dirname "$DOCKERD_CONFIG")"
DOCKERD_CONFIG_TEXT='{ "runtimes": { "runsc": { "path": "/usr/bin/runsc", "runtimeArgs": ["--network=host"] } } }'
[[ "$(cat "$DOCKERD_CONFIG" 2>/dev/null)" == "$DOCKERD_CONFIG_TEXT" ]] || echo "$DOCKERD_CONFIG_TEXT" | $SUDO tee "$DOCKERD_CONFIG" >/dev/null
DOCKERD_ARGS=(--config-file "$DOCKERD_CONFIG" -H unix:///var/run/docker.sock -H tcp://127.0.0.1:2376 -H tcp://127.0.0.2:2376
  --tlsverify --tlscacert "$TLS_DIR/ca.pem" --tlscert "$TLS_DIR/server-cert.pem" --tlskey "$TLS_DIR/server-key.pem")
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/sandbox-dockerd.log}"

# True when the TLS listener answers a client with the test certificate.
tls_ok() {
  curl -fsS --max-time 3 --cacert "$TLS_DIR/client/ca.pem" --cert "$TLS_DIR/client/cert.pem" \
    --key "$TLS_DIR/client/key.pem" https://127.0.0.1:2376/_ping >/dev/null 2>&1
}

# True when the engine has the runtime runsc registered.
runsc_ok() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; }

start_dockerd() {
  log "Starting dockerd in the background (log: $DOCKERD_LOG; TLS on tcp://127.0.0.1:2376, certificates in $TLS_DIR)"
  # setsid: keep dockerd out of this script's process group, so Ctrl+C on a build doesn't stop it.
  $SUDO setsid dockerd "${DOCKERD_ARGS[@]}" >"$DOCKERD_LOG" 2>&1 </dev/null &
  local dockerd_pid=$! i
  for ((i = 0; i < 60; i++)); do
    docker info >/dev/null 2>&1 && tls_ok && runsc_ok && break
    kill -0 "$dockerd_pid" 2>/dev/null || break   # it exited: no use waiting
    sleep 1
  done
  if ! docker info >/dev/null 2>&1 || ! tls_ok || ! runsc_ok; then
    log "dockerd is not ready (waited ${i}s); last lines of $DOCKERD_LOG:"
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  log "dockerd is ready"
}

# Stops the dockerd with this pid (SIGTERM; it stops its containers and its containerd) and waits for it.
stop_dockerd() {
  local pid=$1 i
  log "Stopping dockerd (pid $pid)"
  $SUDO kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  log "dockerd (pid $pid) did not stop within 30s"
  exit 1
}

if ! docker info >/dev/null 2>&1; then
  start_dockerd
elif ! tls_ok; then
  # Its own pidfile: other dockerd may run here (the test swarm's nodes), and pgrep would find one of those.
  dockerd_pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  dockerd_cmd=$(tr '\0' ' ' <"/proc/${dockerd_pid:-0}/cmdline" 2>/dev/null || true)
  dockerd_cmd=${dockerd_cmd% }
  if [[ -n "$dockerd_pid" && "$dockerd_cmd" == *"--tlscert $TLS_DIR/server-cert.pem"* ]]; then
    # Started by this script, but the certificates were made anew since: restart it to load them.
    log "dockerd's TLS listener does not accept the current test certificates (remade?): restarting dockerd"
    stop_dockerd "$dockerd_pid"
    start_dockerd
  elif [[ -n "$dockerd_pid" && "${SANDBOX_TEST_RESTART_DOCKERD:-}" == 1 ]]; then
    log "SANDBOX_TEST_RESTART_DOCKERD=1: restarting dockerd with the TLS listener"
    stop_dockerd "$dockerd_pid"
    start_dockerd
  else
    log "A Docker engine answers, but not with TLS on tcp://127.0.0.1:2376 using the test certificates in $TLS_DIR."
    log "It was started some other way (${dockerd_cmd:-no local dockerd process}). The tcp:// + TLS tests need:"
    log "  dockerd ${DOCKERD_ARGS[*]}"
    log "Stop that dockerd (e.g. kill ${dockerd_pid:-<pid>}; for systemd: add those flags in a drop-in for docker.service)"
    log "and run ./build.sh again, or run with SANDBOX_TEST_RESTART_DOCKERD=1 to let build.sh restart it."
    if [[ "${CI:-}" == true ]]; then
      log "CI: failing, because the TLS tests cannot pass against this engine."
      exit 1
    fi
    log "Going on; the tcp:// + TLS tests will fail."
  fi
fi

# The engine answers with TLS; the -Runtime tests also need runsc registered in it.
if docker info >/dev/null 2>&1 && tls_ok && ! runsc_ok; then
  # Its own pidfile: other dockerd may run here (the test swarm's nodes), and pgrep would find one of those.
  dockerd_pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  dockerd_cmd=$(tr '\0' ' ' <"/proc/${dockerd_pid:-0}/cmdline" 2>/dev/null || true)
  dockerd_cmd=${dockerd_cmd% }
  if [[ -n "$dockerd_pid" && "$dockerd_cmd" == *"--config-file $DOCKERD_CONFIG"* ]]; then
    # Started by this script with the config file, before it registered runsc: the engine reloads runtimes on SIGHUP.
    log "dockerd lacks the runtime runsc: reloading $DOCKERD_CONFIG (SIGHUP)"
    $SUDO kill -HUP "$dockerd_pid"
    for ((i = 0; i < 20; i++)); do runsc_ok && break; sleep 0.5; done
  fi
  if runsc_ok; then :
  elif [[ -n "$dockerd_pid" && ( "$dockerd_cmd" == *"--tlscert $TLS_DIR/server-cert.pem"* || "${SANDBOX_TEST_RESTART_DOCKERD:-}" == 1 ) ]]; then
    # Started by this script (an older one, without the config file), or the user lets us: restart it with runsc.
    log "dockerd lacks the runtime runsc (gVisor) that the -Runtime tests use: restarting dockerd with $DOCKERD_CONFIG"
    stop_dockerd "$dockerd_pid"
    start_dockerd
  else
    log "The Docker engine has no runtime 'runsc' (gVisor), which the -Runtime tests use. Register it in its daemon.json:"
    log "  $DOCKERD_CONFIG_TEXT"
    log "and reload it (kill -HUP <dockerd pid>), or run with SANDBOX_TEST_RESTART_DOCKERD=1 to let build.sh restart it."
    if [[ "${CI:-}" == true ]]; then
      log "CI: failing, because the -Runtime tests cannot pass against this engine."
      exit 1
    fi
    log "Going on; the -Runtime tests will be skipped."
  fi
fi

exec dotnet tool run pwsh -NoProfile -File build.ps1 "$@"
