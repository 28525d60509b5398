#!/usr/bin/env bash
# Starts a local image registry on 127.0.0.1:5000 (Debian's docker-registry; no registry outside is reachable here)
# and pushes the test image to it, so that tests can make the engine pull an image for real.
# The engine trusts 127.0.0.0/8 registries over plain HTTP by default. Idempotent and quick when already running.
set -euo pipefail
REGISTRY=127.0.0.1:5000
IMAGE=sandbox-local/busybox:latest
STATE=${SANDBOX_REGISTRY_DIR:-/tmp/sandbox-registry}

if ! curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then
  mkdir -p "$STATE/data"
  cat >"$STATE/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
CONFIG
  setsid docker-registry serve "$STATE/config.yml" >"$STATE/registry.log" 2>&1 </dev/null &
  for ((i = 0; i < 50; i++)); do
    curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "http://$REGISTRY/v2/" >/dev/null || { echo "registry did not start; see $STATE/registry.log" >&2; tail -20 "$STATE/registry.log" >&2; exit 1; }
fi

if ! curl -fsS "http://$REGISTRY/v2/sandbox-local/busybox/tags/list" 2>/dev/null | grep -q '"latest"'; then
  docker tag "$IMAGE" "$REGISTRY/$IMAGE"
  docker push -q "$REGISTRY/$IMAGE" >/dev/null
  docker rmi "$REGISTRY/$IMAGE" >/dev/null
fi
echo "$REGISTRY/$IMAGE"
