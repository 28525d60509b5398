#!/usr/bin/env bash
# A real 3-node Docker Swarm for the tests, on this one machine (run as root). The main dockerd
# (unix:///var/run/docker.sock) is not part of it and is never touched.
#
#   host (root netns) --veth sbx-hub0 10.213.0.1--+
#                                                 [bridge br0 in netns sandbox-hub]
#   netns sandbox-node1: eth0 10.213.0.11  dockerd  hostname sandbox-node1  (manager)
#   netns sandbox-node2: eth0 10.213.0.12  dockerd  hostname sandbox-node2  (worker)
#   netns sandbox-node3: eth0 10.213.0.13  dockerd  hostname sandbox-node3  (worker)
#
# Each node dockerd listens TLS-only (--tlsverify) on tcp://<node address>:2376 with a server certificate
# signed by the test CA of tests/setup/New-TestTls.sh (DOCKER_CERT_PATH=$SANDBOX_TEST_STATE/tls/client works),
# and on unix:///run/sandbox-swarm/<node>/docker.sock for this script. Nothing routes through the host:
# the host only reaches the node addresses (forwarding is off on its end of the veth).
#
#   Start-TestSwarm.sh                      bring up whatever is not up (restarts a node whose dockerd died),
#                                           init/join, load the test image(s), wait for 3 Ready nodes.
#                                           Last stdout line: the manager endpoint, tcp://10.213.0.11:2376
#   Start-TestSwarm.sh --kill-node node3    kill -9 that node's dockerd and containerd; its containers (and
#                                           their containerd-shims) keep running: "the daemon died" fault
#   Start-TestSwarm.sh --revive-node node3  kill the node's leftovers (by cgroup), start its dockerd, wait Ready
#   Start-TestSwarm.sh --check              verify from the host with the docker CLI (TLS, nodes, a service
#                                           spread over the nodes with a host-mode port); exit 1 on failure
#   Start-TestSwarm.sh --stop               tear everything down (data-roots are kept; --stop --purge drops them)
#
# Every process of a node (dockerd, its containerd, the shims and the containers) lives under the pids
# cgroup /sandbox-swarm-<node> (containers via --cgroup-parent), so leftovers are found by cgroup, never by
# process name. State: $SANDBOX_TEST_STATE/swarm (default /var/lib/sandbox-test/swarm); runtime files in
# /run/sandbox-swarm; logs in /tmp/sandbox-swarm-<node>.log. Images loaded: $SANDBOX_TEST_SWARM_IMAGES
# (space separated; default $SANDBOX_TEST_IMAGE, else sandbox-local/busybox:latest), from the main engine.
#
# Measured here (kernel 6.18, cgroup v1, docker.io 20.10.24): up from nothing ~2.5 s, from kept data-roots
# ~2.3 s, already up ~0.4 s. A worker killed -9 shows Down on the manager after ~10-14 s while its tasks still
# read Running (its containers do run on); --revive-node takes ~1-1.5 s. Host-mode published ports work (each
# node's own iptables in its namespace) and overlay networks work across nodes (VXLAN), but the ingress routing
# mesh does not: the kernel has no IPVS ("Could not get ipvs family information"), so `--publish
# mode=ingress` answers nowhere. Tests must publish with mode=host.
set -euo pipefail
# (no `cmd | grep -q` under pipefail: grep quits at the first match and cmd dies of SIGPIPE, failing the pipe)

STATE="${SANDBOX_TEST_STATE:-/var/lib/sandbox-test}"
SWARM="$STATE/swarm"
RUN=/run/sandbox-swarm
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODES=(node1 node2 node3)
MANAGER=node1
HUB_NS=sandbox-hub
HOST_IF=sbx-hub0          # host end of the host<->hub veth
NET=10.213.0              # the hub /24
HOST_IP=$NET.1
POOL=10.214.0.0/16        # swarm overlay networks (ingress included) come from here, /24 each
IMAGES=(${SANDBOX_TEST_SWARM_IMAGES:-${SANDBOX_TEST_IMAGE:-sandbox-local/busybox:latest}})
READY_TIMEOUT=${SANDBOX_TEST_SWARM_TIMEOUT:-60}
CERT_REVISION=1           # bump when the node certificate below changes

log() { printf '[swarm] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

node_index() { echo "${1#node}"; }
node_ip() { echo "$NET.1$(node_index "$1")"; }
node_ns() { echo "sandbox-$1"; }
node_host() { echo "sandbox-$1"; }
node_cgroup() { echo "sandbox-swarm-$1"; }                 # --cgroup-parent and the daemon's own pids cgroup
node_sock() { echo "$RUN/$1/docker.sock"; }
node_pidfile() { echo "$RUN/$1/docker.pid"; }
node_log() { echo "/tmp/sandbox-swarm-$1.log"; }
ndocker() { local n=$1; shift; DOCKER_CONTEXT= DOCKER_HOST="unix://$(node_sock "$n")" docker "$@"; }
is_node() { [[ " ${NODES[*]} " == *" $1 "* ]]; }

# --- processes, found by pidfile and checked by cgroup ----------------------------------------------
pids_cgroup_dir() { echo "/sys/fs/cgroup/pids/$(node_cgroup "$1")"; }

# True when <pid> lives in <node>'s pids cgroup tree (so a reused pid is never mistaken for ours).
in_node_cgroup() {
  local pid=$1 node=$2 line
  [[ -n "$pid" && -r /proc/$pid/cgroup ]] || return 1
  line=$(grep -m1 ':pids:' "/proc/$pid/cgroup" 2>/dev/null) || return 1
  [[ "${line#*:pids:}" == "/$(node_cgroup "$node")" || "${line#*:pids:}" == "/$(node_cgroup "$node")/"* ]]
}

# True when <pid> runs as <comm> (a zombie does not: pid 1 here may reap a killed daemon only a while later).
alive_as() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "$stat" == *") "[^Z]* && "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]]
}

# Prints the pid of <node>'s dockerd when it runs.
dockerd_pid() {
  local node=$1 pid
  pid=$(cat "$(node_pidfile "$node")" 2>/dev/null) || return 1
  alive_as "$pid" dockerd && in_node_cgroup "$pid" "$node" && echo "$pid"
}

containerd_pid() {
  local node=$1 pid
  pid=$(cat "$RUN/$node/exec/containerd/containerd.pid" 2>/dev/null) || return 1
  alive_as "$pid" containerd && in_node_cgroup "$pid" "$node" && echo "$pid"
}

# Every pid in <node>'s pids cgroup tree (daemons, shims, containers).
cgroup_pids() {
  local dir
  dir=$(pids_cgroup_dir "$1")
  [[ -d "$dir" ]] || return 0
  find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null || true
}

# kill -9 everything left in <node>'s cgroup tree, until it is empty.
kill_cgroup() {
  local node=$1 i pids
  for ((i = 0; i < 50; i++)); do
    pids=$(cgroup_pids "$node")
    [[ -z "$pids" ]] && return 0
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.1
  done
  log "warning: processes left in the cgroup of $node: $(cgroup_pids "$node" | tr '\n' ' ')"
}

# --- network -------------------------------------------------------------------------------------------
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

ensure_ns() {
  local ns=$1
  if [[ -e "/run/netns/$ns" ]] && ! nsenter --net="/run/netns/$ns" true 2>/dev/null; then
    ip netns del "$ns" 2>/dev/null || rm -f "/run/netns/$ns"   # a stale mount point (earlier boot)
  fi
  [[ -e "/run/netns/$ns" ]] || { ip netns add "$ns"; log "made network namespace $ns"; }
  in_ns "$ns" ip link set lo up
}

ensure_network() {
  local node ns ip
  ensure_ns "$HUB_NS"
  if ! in_ns "$HUB_NS" ip link show br0 >/dev/null 2>&1; then
    in_ns "$HUB_NS" ip link add br0 type bridge
    log "made bridge br0 in $HUB_NS"
  fi
  in_ns "$HUB_NS" ip link set br0 up

  # host <-> hub
  if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
    ip link add "$HOST_IF" type veth peer name host0 netns "$HUB_NS"
    log "made veth $HOST_IF (host) <-> host0 ($HUB_NS)"
  fi
  in_ns "$HUB_NS" ip link set host0 master br0 up
  sysctl -qw "net.ipv4.conf.$HOST_IF.forwarding=0"
  [[ "$(ip -4 addr show dev "$HOST_IF")" == *"inet $HOST_IP/24 "* ]] || ip addr add "$HOST_IP/24" dev "$HOST_IF"
  ip link set "$HOST_IF" up

  for node in "${NODES[@]}"; do
    ns=$(node_ns "$node")
    ip=$(node_ip "$node")
    ensure_ns "$ns"
    if ! in_ns "$ns" ip link show eth0 >/dev/null 2>&1; then
      in_ns "$HUB_NS" ip link del "$node" 2>/dev/null || true
      in_ns "$HUB_NS" ip link add "$node" type veth peer name eth0 netns "$ns"
      log "made veth $node ($HUB_NS) <-> eth0 ($ns)"
    fi
    in_ns "$HUB_NS" ip link set "$node" master br0 up
    [[ "$(in_ns "$ns" ip -4 addr show dev eth0)" == *"inet $ip/24 "* ]] || in_ns "$ns" ip addr add "$ip/24" dev eth0
    in_ns "$ns" ip link set eth0 up
  done
}

# --- TLS: one server certificate for all nodes, signed by the test CA -----------------------------------
NODE_CERT="$SWARM/tls/node-cert.pem"
NODE_KEY="$SWARM/tls/node-key.pem"
certs_changed=0

ensure_certs() {
  local tls
  tls=$(bash "$SCRIPT_DIR/New-TestTls.sh" | tail -n 1)
  TLS_DIR=$tls
  if [[ "$(cat "$SWARM/tls/.revision" 2>/dev/null)" == "$CERT_REVISION" ]] &&
     openssl verify -attime $(($(date +%s) + 86400)) -CAfile "$tls/ca.pem" "$NODE_CERT" >/dev/null 2>&1 &&
     [[ "$(openssl x509 -noout -pubkey -in "$NODE_CERT")" == "$(openssl pkey -pubout -in "$NODE_KEY")" ]]; then
    return 0
  fi
  local work sans=() node
  for node in "${NODES[@]}"; do sans+=("IP:$(node_ip "$node")" "DNS:$(node_host "$node")"); done
  mkdir -p "$SWARM/tls"
  work=$(mktemp -d "$SWARM/tls/.new.XXXXXX")
  cat >"$work/ext.cnf" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $(IFS=,; echo "${sans[*]}")
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/key.pem" 2>/dev/null
  openssl req -new -key "$work/key.pem" -subj "/O=Sandbox tests/CN=sandbox swarm node" -out "$work/csr.pem"
  openssl x509 -req -in "$work/csr.pem" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 -extfile "$work/ext.cnf" -out "$work/cert.pem" 2>/dev/null
  chmod 0600 "$work/key.pem"
  mv "$work/key.pem" "$NODE_KEY"
  mv "$work/cert.pem" "$NODE_CERT"
  echo "$CERT_REVISION" >"$SWARM/tls/.revision"
  rm -rf "$work"
  certs_changed=1
  log "made the node server certificate $NODE_CERT (SAN ${sans[*]})"
}

# --- dockerd per node ------------------------------------------------------------------------------------
start_dockerd() {
  local node=$1 i ns cg
  ns=$(node_ns "$node")
  cg=$(pids_cgroup_dir "$node")
  mkdir -p "$RUN/$node" "$SWARM/$node/data" "$cg"
  # Own engine ID per node: without its own key path every node would read /etc/docker/key.json.
  cat >"$SWARM/$node/daemon.json" <<EOF
{ "deprecated-key-path": "$SWARM/$node/key.json" }
EOF
  # dockerd would wait for a containerd it finds in this pidfile, and a killed one may linger as a zombie.
  rm -f "$(node_pidfile "$node")" "$(node_sock "$node")" "$RUN/$node/exec/containerd/containerd.pid"
  local args=(
    --config-file "$SWARM/$node/daemon.json"
    --data-root "$SWARM/$node/data" --exec-root "$RUN/$node/exec" --pidfile "$(node_pidfile "$node")"
    -H "unix://$(node_sock "$node")" -H "tcp://$(node_ip "$node"):2376"
    --tlsverify --tlscacert "$TLS_DIR/ca.pem" --tlscert "$NODE_CERT" --tlskey "$NODE_KEY"
    --bip "10.213.$((100 + $(node_index "$node"))).1/24"
    --cgroup-parent "$(node_cgroup "$node")"
  )
  echo "=== $(date -Is) start-up by Start-TestSwarm.sh" >>"$(node_log "$node")"
  # nsenter, not `ip netns exec` (that remounts /sys and hides the cgroup mounts from dockerd); own UTS
  # namespace for the node's host name; the shell joins the node's pids cgroup before it becomes dockerd,
  # so containerd and the shims it starts are found there too.
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid nsenter --net="/run/netns/$ns" unshare --uts -- \
    sh -c 'hostname "$1" && echo $$ >"$2/cgroup.procs" && shift 2 && exec dockerd "$@"' \
    sh "$(node_host "$node")" "$cg" "${args[@]}" >>"$(node_log "$node")" 2>&1 </dev/null 9>&- &
  log "started dockerd for $node (pid $!, log $(node_log "$node"))"
}

# Waits until <node>'s unix socket answers.
wait_dockerd() {
  local node=$1 deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fs --max-time 2 --unix-socket "$(node_sock "$node")" http://d/_ping >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "dockerd for $node does not answer after ${READY_TIMEOUT}s; last lines of $(node_log "$node"):"
      tail -n 20 "$(node_log "$node")" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

stop_dockerd() {   # SIGTERM, then the rest by cgroup
  local node=$1 pid i
  if pid=$(dockerd_pid "$node"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  kill_cgroup "$node"
}

# Undo the mounts a dockerd killed -9 leaves behind (its overlay and netns mounts), so a new one starts clean.
unmount_under() {
  local dir=$1 m
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# --- swarm -----------------------------------------------------------------------------------------------
swarm_field() { ndocker "$1" info --format "$2" 2>/dev/null; }

# <node>'s LocalNodeState once it has settled: an engine that restarts with swarm state is "pending" until it
# reaches the manager (or, on the manager, until raft is back), which must not be taken for "not in a swarm".
settled_state() {
  local node=$1 state i
  for ((i = 0; i < 75; i++)); do
    state=$(swarm_field "$node" '{{.Swarm.LocalNodeState}}')
    [[ "$state" == pending ]] || break
    sleep 0.2
  done
  echo "$state"
}

ensure_swarm() {
  local state
  state=$(settled_state "$MANAGER")
  if [[ "$state" != active || "$(swarm_field "$MANAGER" '{{.Swarm.ControlAvailable}}')" != true ]]; then
    [[ "$state" == inactive ]] || ndocker "$MANAGER" swarm leave --force >/dev/null 2>&1 || true
    log "swarm init on $MANAGER ($(node_ip "$MANAGER"))"
    ndocker "$MANAGER" swarm init --advertise-addr "$(node_ip "$MANAGER")" --listen-addr "$(node_ip "$MANAGER"):2377" \
      --default-addr-pool "$POOL" --default-addr-pool-mask-length 24 >/dev/null
  fi
  # Swarm.Cluster is empty on a worker: a worker is in when it is active and the manager lists its node ID.
  local members token node joined=0
  members=" $(ndocker "$MANAGER" node ls -q | tr '\n' ' ') "
  for node in "${NODES[@]}"; do
    [[ "$node" == "$MANAGER" ]] && continue
    state=$(settled_state "$node")
    [[ "$state" == active && "$members" == *" $(swarm_field "$node" '{{.Swarm.NodeID}}') "* ]] && continue
    [[ "$state" == inactive ]] || ndocker "$node" swarm leave --force >/dev/null 2>&1 || true
    token=${token:-$(ndocker "$MANAGER" swarm join-token -q worker)}
    log "$node joins the swarm as a worker (it was: $state)"
    ndocker "$node" swarm join --token "$token" --advertise-addr "$(node_ip "$node")" \
      --listen-addr "$(node_ip "$node"):2377" "$(node_ip "$MANAGER"):2377" >/dev/null
    joined=1
  done
  ((joined)) && repair_nodes
  return 0
}

# The current node IDs of our three engines.
current_node_ids() {
  local node
  for node in "${NODES[@]}"; do swarm_field "$node" '{{.Swarm.NodeID}}'; done
}

# Puts the swarm's node list back in order: drops nodes from an earlier life (a worker that left and joined
# anew) and makes a node a test drained or paused active again.
repair_nodes() {
  local ids id line
  ids=" $(current_node_ids | tr '\n' ' ') "
  while read -r line; do
    id=${line%% *}
    [[ -n "$id" && "$ids" != *" $id "* ]] || continue
    log "removing stale swarm node $line"
    ndocker "$MANAGER" node rm --force "$id" >/dev/null 2>&1 || true
  done < <(ndocker "$MANAGER" node ls --format '{{.ID}} {{.Hostname}} {{.Status}}')
  while read -r id line; do
    [[ -n "$id" && "$line" != Active ]] || continue
    log "node $id was $line: making it active"
    ndocker "$MANAGER" node update --availability active "$id" >/dev/null 2>&1 || true
  done < <(ndocker "$MANAGER" node ls --format '{{.ID}} {{.Availability}}' 2>/dev/null || true)
}

# True when the manager lists exactly our three nodes, all Ready.
swarm_ready() {
  local out
  out=$(ndocker "$MANAGER" node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' 2>/dev/null) || return 1
  [[ "$(sort <<<"$out")" == "$(for n in "${NODES[@]}"; do echo "$(node_host "$n") Ready Active"; done)" ]]
}

# Waits until the manager lists our three nodes Ready and each <node> given (just started) says itself that it
# is an active swarm member: right after a restart the manager may still show the node's old Ready status.
wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) node ok
  while :; do
    ok=1
    swarm_ready || ok=0
    for node in "$@"; do
      ((ok)) || break
      [[ "$(swarm_field "$node" '{{.Swarm.LocalNodeState}}')" == active ]] || ok=0
    done
    ((ok)) && return 0
    if ((SECONDS >= deadline)); then
      log "the swarm is not ready after ${READY_TIMEOUT}s:"
      ndocker "$MANAGER" node ls >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

# --- images ------------------------------------------------------------------------------------------------
image_id() { DOCKER_CONTEXT= docker "${@:2}" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

ensure_images() {
  local image want node pids=()
  for image in "${IMAGES[@]}"; do
    want=$(DOCKER_CONTEXT= DOCKER_HOST= docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) ||
      { log "warning: $image is not on the main engine; not loaded into the nodes"; continue; }
    local todo=()
    for node in "${NODES[@]}"; do
      [[ "$(image_id "$image" -H "unix://$(node_sock "$node")")" == "$want" ]] || todo+=("$node")
    done
    ((${#todo[@]})) || continue
    log "loading $image into ${todo[*]}"
    local tar="$SWARM/image.tar"
    DOCKER_CONTEXT= DOCKER_HOST= docker save -o "$tar" "$image"
    for node in "${todo[@]}"; do ndocker "$node" load -q -i "$tar" >/dev/null & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || die "docker load of $image failed"; done
    pids=()
    rm -f "$tar"
  done
}

# --- modes ---------------------------------------------------------------------------------------------------
need_root() { [[ $(id -u) -eq 0 ]] || die "run as root"; }

bring_up() {
  local node started=() pid
  ensure_network
  ensure_certs
  for node in "${NODES[@]}"; do
    if pid=$(dockerd_pid "$node"); then
      if ((certs_changed)); then
        log "restarting dockerd for $node (new server certificate)"
        stop_dockerd "$node"
      else
        continue
      fi
    else
      # Died (killed by a test?) or never started: its leftovers first, then a fresh start on the same data-root.
      kill_cgroup "$node"
      unmount_under "$RUN/$node"
      unmount_under "$SWARM/$node/data"
    fi
    start_dockerd "$node"
    started+=("$node")
  done
  for node in "${started[@]}"; do wait_dockerd "$node"; done
  ensure_swarm
  ensure_images
  swarm_ready || repair_nodes
  wait_ready "${started[@]}"
  ((${#started[@]})) && log "swarm up: $(printf '%s ' "${NODES[@]}")(started: ${started[*]})"
  echo "tcp://$(node_ip "$MANAGER"):2376"
}

kill_node() {
  local node=$1 pid
  [[ "$node" != "$MANAGER" ]] || log "warning: $node is the only manager; the swarm API stops with it"
  for pid in "$(dockerd_pid "$node" || true)" "$(containerd_pid "$node" || true)"; do
    [[ -n "$pid" ]] && kill -9 "$pid" && log "killed $node pid $pid ($(cat /proc/"$pid"/comm 2>/dev/null || echo gone))"
  done
  # wait until both are gone, so that the caller can count on it
  local i
  for ((i = 0; i < 50; i++)); do
    dockerd_pid "$node" >/dev/null || containerd_pid "$node" >/dev/null || return 0
    sleep 0.1
  done
  die "$node's dockerd or containerd is still there"
}

revive_node() {
  local node=$1 pid
  if pid=$(dockerd_pid "$node"); then
    log "$node's dockerd runs (pid $pid); nothing to revive"
  else
    ensure_network
    ensure_certs
    kill_cgroup "$node"
    unmount_under "$RUN/$node"
    unmount_under "$SWARM/$node/data"
    start_dockerd "$node"
    wait_dockerd "$node"
  fi
  ensure_swarm
  swarm_ready || repair_nodes
  wait_ready "$node"
  log "$node is Ready"
}

stop_all() {
  local node purge=${1:-0}
  for node in "${NODES[@]}"; do
    # Containers first (else dockerd stops each with a 10 s grace), then the daemon, then anything left.
    local dir
    dir=$(pids_cgroup_dir "$node")
    [[ -d "$dir" ]] && find "$dir" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  for node in "${NODES[@]}"; do stop_dockerd "$node" & done
  wait
  for node in "${NODES[@]}"; do
    unmount_under "$RUN/$node"
    unmount_under "$SWARM/$node/data"
    ip netns del "$(node_ns "$node")" 2>/dev/null || true
    local c
    for c in /sys/fs/cgroup/*/"$(node_cgroup "$node")"; do
      [[ -d "$c" ]] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
  done
  ip link del "$HOST_IF" 2>/dev/null || true
  ip netns del "$HUB_NS" 2>/dev/null || true
  rm -rf "$RUN"
  if ((purge)); then rm -rf "$SWARM"; log "removed $SWARM"; fi
  log "swarm stopped"
}

need_root
if [[ "${1:-}" != --check && "${1:-}" != -h && "${1:-}" != --help ]]; then
  # One at a time (two test processes may ask for the swarm at once); the lock is dropped when this shell exits.
  exec 9>/run/sandbox-swarm.lock
  flock -w 120 9 || die "another Start-TestSwarm.sh holds /run/sandbox-swarm.lock"
fi
case "${1:-}" in
  "") bring_up ;;
  --kill-node) is_node "${2:-}" || die "usage: $0 --kill-node <${NODES[*]}>"; kill_node "$2" ;;
  --revive-node) is_node "${2:-}" || die "usage: $0 --revive-node <${NODES[*]}>"; revive_node "$2" ;;
  --check) exec bash "$SCRIPT_DIR/Test-TestSwarm.sh" ;;
  --stop) stop_all "$([[ "${2:-}" == --purge ]] && echo 1 || echo 0)" ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac
