#!/usr/bin/env bash
# Checks the test swarm of tests/setup/Start-TestSwarm.sh from the HOST with the docker CLI over TLS (no
# module involved): each node answers TLS with the test client certificate, the manager lists 3 Ready
# nodes, and a replicated service with a host-mode port spreads over the three nodes and answers at each
# node address. Removes what it made. Takes about 5-10 s.
#
#   tests/setup/Test-TestSwarm.sh     (or Start-TestSwarm.sh --check) one line per check; exit 1 on failure
set -uo pipefail

STATE="${SANDBOX_TEST_STATE:-/var/lib/sandbox-test}"
CERTS="$STATE/tls/client"
IMAGE="${SANDBOX_TEST_IMAGE:-sandbox-local/busybox:latest}"
NODES=(node1 node2 node3)
MANAGER=tcp://10.213.0.11:2376
PORT=18080             # published in host mode on every node (one task a node, so the spread is forced too)
SERVICE="sandbox-swarm-check-$$"
failed=0
cd /

pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n%s\n' "$1" "$(sed 's/^/      /' <<<"${2:-}" | tail -n 8)"; failed=1; }
tlsdocker() { local host=$1; shift; env DOCKER_CONTEXT= DOCKER_HOST="$host" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$CERTS" docker "$@"; }
mdocker() { tlsdocker "$MANAGER" "$@"; }

# Retries <command> every 0.2 s for up to <seconds> until it succeeds; prints its last output.
until_ok() {
  local seconds=$1 deadline out
  shift
  deadline=$((SECONDS + seconds))
  while :; do
    out=$("$@" 2>&1) && { printf '%s' "$out"; return 0; }
    ((SECONDS >= deadline)) && { printf '%s' "$out"; return 1; }
    sleep 0.2
  done
}

for node in "${NODES[@]}"; do
  ip="10.213.0.1${node#node}"
  out=$(tlsdocker "tcp://$ip:2376" info --format '{{.Name}} {{.Swarm.LocalNodeState}} {{.NCPU}}' 2>&1)
  if [[ "$out" == "sandbox-$node active "* ]]; then pass "tls: tcp://$ip:2376 answers as sandbox-$node (swarm active, $(cut -d' ' -f3 <<<"$out") CPUs)"
  else fail "tls: tcp://$ip:2376 answers as sandbox-$node" "$out"; fi
  out=$(env DOCKER_CONTEXT= DOCKER_HOST="tcp://$ip:2376" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$STATE/tls/untrusted-client" docker version 2>&1)
  if [[ $? -ne 0 && "$out" == *"bad certificate"* ]]; then pass "tls: tcp://$ip:2376 refuses a client certificate of another CA"
  else fail "tls: tcp://$ip:2376 refuses a client certificate of another CA" "$out"; fi
done

out=$(mdocker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' 2>&1 | sort)
want=$(printf 'sandbox-node1 Ready Active\nsandbox-node2 Ready Active\nsandbox-node3 Ready Active')
if [[ "$out" == "$want" ]]; then pass "docker node ls on $MANAGER: 3 nodes Ready"; else fail "docker node ls on $MANAGER: 3 nodes Ready" "$out"; fi

out=$(mdocker network inspect ingress --format '{{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>&1)
if [[ "$out" == "overlay 10.214."* ]]; then pass "ingress network: $out (from the swarm's own pool, clear of the hub 10.213.0.0/24)"
else fail "ingress network from 10.214.0.0/16" "$out"; fi

cleanup() { mdocker service rm "$SERVICE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
out=$(mdocker service create --detach --quiet --name "$SERVICE" --restart-condition none --mode replicated --replicas 3 \
  --limit-cpu 0.1 --reserve-cpu 0.1 --publish "mode=host,target=8080,published=$PORT" --hostname '{{.Node.Hostname}}' \
  "$IMAGE" sh -c 'mkdir -p /tmp/www && hostname >/tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www' 2>&1)
if [[ $? -eq 0 ]]; then pass "service create (3 replicas, host-mode port $PORT, --reserve-cpu 0.1)"; else fail "service create" "$out"; fi

three_running() {
  local ps
  ps=$(mdocker service ps "$SERVICE" --format '{{.Node}} {{.CurrentState}} {{.Error}}') || return 1
  echo "$ps"
  [[ "$(grep -c ' Running ' <<<"$ps")" -eq 3 && "$(grep ' Running ' <<<"$ps" | cut -d' ' -f1 | sort -u | wc -l)" -eq 3 ]]
}
if out=$(until_ok 30 three_running); then pass "service tasks Running, one on each node"; else fail "service tasks Running, one on each node" "$out"; fi

for node in "${NODES[@]}"; do
  ip="10.213.0.1${node#node}"
  if out=$(until_ok 10 curl -fsS --max-time 2 "http://$ip:$PORT/"); [[ "$out" == "sandbox-$node" ]]; then
    pass "host-mode port: http://$ip:$PORT/ from the host answers sandbox-$node"
  else fail "host-mode port: http://$ip:$PORT/ from the host answers sandbox-$node" "$out"; fi
done

cleanup
gone() { local n; for n in "${NODES[@]}"; do [[ -z "$(tlsdocker "tcp://10.213.0.1${n#node}:2376" ps -q --filter "label=com.docker.swarm.service.name=$SERVICE")" ]] || return 1; done; }
if until_ok 30 gone >/dev/null; then pass "service removed, its containers gone from all nodes"; else fail "service removed, its containers gone from all nodes"; fi

exit $failed
