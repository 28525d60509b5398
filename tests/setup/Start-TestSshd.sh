#!/usr/bin/env bash
# Starts a test-only sshd on 127.0.0.1:2222 (Debian's openssh-server, its own config; the system sshd and
# /etc/ssh are left alone) and makes the client side the ssh:// tests use. Everything lives in
# $SANDBOX_TEST_STATE (default /var/lib/sandbox-test):
#
#   sshd/sshd_config, ssh_host_{ed25519,ecdsa,rsa}_key, sshd.pid, sshd.log, authorized_keys
#   sshd/sshd_config.<t>-only, sshd.<t>-only.{pid,log}   three more sshd, each serving one host key only, as users'
#                            servers do: RSA on 127.0.0.1:2223, ECDSA on :2224, Ed25519 on :2225 (same key files)
#   sshd/password.txt        random password of the local user `sandboxtest` (group docker), for -Credential tests
#   ssh-home/                a client "home": point $HOME at it (OpenSSH-style clients read $HOME/.ssh)
#     .ssh/id_ed25519, id_ecdsa, id_rsa (+ .pub)   all three authorized for root and sandboxtest
#     .ssh/known_hosts        the server's three host keys for [127.0.0.1]:2222 and [localhost]:2222, HASHED
#     .ssh/known_hosts.plain  the same entries in plain text
#     .ssh/known_hosts.wrong  other keys (all three types) for the same hosts: the changed-host-key case
#     .ssh/known_hosts.one-key, .one-key.plain, .one-key.wrong   the same three kinds of file for the one-key servers:
#                             [127.0.0.1]:PORT and [localhost]:PORT with the one key each serves (kept apart from
#                             known_hosts, so that the files the other tests copy do not change)
#     .ssh/bad_ed25519        a key nobody authorized: the bad-key case
#     bin/ssh                 wrapper that makes the system ssh read $HOME/.ssh (OpenSSH ignores $HOME); put
#                             it first in PATH to run `docker -H ssh://root@127.0.0.1:2222 ...` with this home
#
#   tests/setup/Start-TestSshd.sh            idempotent: quick when each sshd already answers with its host key
#   tests/setup/Start-TestSshd.sh --restart  restart the test sshd (all four)
#   tests/setup/Start-TestSshd.sh --stop     stop them
#
# Prints the client home folder on stdout (last line); messages go to stderr. Needs root.
set -euo pipefail

STATE="${SANDBOX_TEST_STATE:-/var/lib/sandbox-test}"
SSHD_DIR="$STATE/sshd"
SSH_HOME="$STATE/ssh-home"
DOT="$SSH_HOME/.ssh"
ADDR=127.0.0.1
PORT=2222
TEST_USER=sandboxtest
SSHD=/usr/sbin/sshd

log() { printf '%s\n' "$*" >&2; }

mode=start
case "${1:-}" in
  --restart) mode=restart ;;
  --stop) mode=stop ;;
  "") ;;
  *) echo "usage: $0 [--restart|--stop]" >&2; exit 2 ;;
esac

[[ $(id -u) -eq 0 ]] || { log "error: $0 needs root (it runs sshd and manages the user $TEST_USER)"; exit 1; }
[[ -x $SSHD ]] || { log "error: $SSHD is missing (apt-get install openssh-server)"; exit 1; }

# The one-key servers: name (the suffix of their files), port, key type, the host key algorithms they offer.
ONE_KEY=(
  "rsa-only 2223 rsa rsa-sha2-512,rsa-sha2-256"
  "ecdsa-only 2224 ecdsa ecdsa-sha2-nistp256"
  "ed25519-only 2225 ed25519 ssh-ed25519"
)

# Files of an instance: "" is the main sshd on $PORT, the others are the one-key servers.
config_of() { if [[ -z $1 ]]; then echo "$SSHD_DIR/sshd_config"; else echo "$SSHD_DIR/sshd_config.$1"; fi; }
pidfile_of() { if [[ -z $1 ]]; then echo "$SSHD_DIR/sshd.pid"; else echo "$SSHD_DIR/sshd.$1.pid"; fi; }
logfile_of() { if [[ -z $1 ]]; then echo "$SSHD_DIR/sshd.log"; else echo "$SSHD_DIR/sshd.$1.log"; fi; }

# The pid of the sshd this script started for an instance, if it runs.
our_pid() {   # our_pid <instance>
  local pid
  pid=$(cat "$(pidfile_of "$1")" 2>/dev/null) || return 1
  [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $(config_of "$1") " || return 1
  echo "$pid"
}

stop_sshd() {   # stop_sshd <instance>
  local pid i
  pid=$(our_pid "$1") || return 0
  log "Stopping the test sshd ${1:-main} (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$(pidfile_of "$1")"
}

if [[ $mode == stop ]]; then
  stop_sshd ""
  for one in "${ONE_KEY[@]}"; do read -r name _ <<<"$one"; stop_sshd "$name"; done
  exit 0
fi

mkdir -p "$SSHD_DIR" "$DOT" "$SSH_HOME/bin"
chmod 0755 "$STATE" "$SSHD_DIR" "$SSH_HOME"
chmod 0700 "$DOT"

newkey() {   # newkey <type> <file> <comment>: made once
  [[ -s "$2" && -s "$2.pub" ]] && return 0
  rm -f "$2" "$2.pub"
  local bits=()
  [[ $1 == rsa ]] && bits=(-b 3072)
  [[ $1 == ecdsa ]] && bits=(-b 256)
  ssh-keygen -q -t "$1" "${bits[@]}" -N '' -C "$3" -f "$2"
}

# --- keys ----------------------------------------------------------------------------------------
for t in ed25519 ecdsa rsa; do
  newkey "$t" "$SSHD_DIR/ssh_host_${t}_key" "sandbox-test-sshd"
  newkey "$t" "$SSHD_DIR/wrong_host_${t}_key" "sandbox-test-wrong-host-key"   # never served: known_hosts.wrong
  newkey "$t" "$DOT/id_$t" "sandbox-test-client"
done
newkey ed25519 "$DOT/bad_ed25519" "sandbox-test-unauthorized"

# Writes content (stdin) to a file only when it changed; returns 0 when it did.
write_if_changed() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if [[ -f "$1" ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  chmod "${2:-0644}" "$tmp"
  mv -f "$tmp" "$1"
}

cat "$DOT"/id_{ed25519,ecdsa,rsa}.pub | write_if_changed "$SSHD_DIR/authorized_keys" 0644 || true

# known_hosts in plain text, hashed (ssh-keygen -H; remade only when the plain entries change) and wrong.
known_hosts() {   # known_hosts <key prefix>
  local host t
  for host in "[$ADDR]:$PORT" "[localhost]:$PORT"; do
    for t in ed25519 ecdsa rsa; do
      printf '%s %s\n' "$host" "$(cut -d' ' -f1-2 "$SSHD_DIR/$1_${t}_key.pub")"
    done
  done
}
if known_hosts ssh_host | write_if_changed "$DOT/known_hosts.plain" 0644 || [[ ! -s "$DOT/known_hosts" ]]; then
  cp "$DOT/known_hosts.plain" "$DOT/known_hosts.tmp"
  ssh-keygen -q -H -f "$DOT/known_hosts.tmp" >/dev/null 2>&1
  rm -f "$DOT/known_hosts.tmp.old"
  mv -f "$DOT/known_hosts.tmp" "$DOT/known_hosts"
fi
known_hosts wrong_host | write_if_changed "$DOT/known_hosts.wrong" 0644 || true

one_key_known_hosts() {   # one_key_known_hosts <key prefix>: each one-key server with the one key it serves
  local one name port type algorithms host
  for one in "${ONE_KEY[@]}"; do
    read -r name port type algorithms <<<"$one"
    for host in "[$ADDR]:$port" "[localhost]:$port"; do
      printf '%s %s\n' "$host" "$(cut -d' ' -f1-2 "$SSHD_DIR/$1_${type}_key.pub")"
    done
  done
}
if one_key_known_hosts ssh_host | write_if_changed "$DOT/known_hosts.one-key.plain" 0644 || [[ ! -s "$DOT/known_hosts.one-key" ]]; then
  cp "$DOT/known_hosts.one-key.plain" "$DOT/known_hosts.one-key.tmp"
  ssh-keygen -q -H -f "$DOT/known_hosts.one-key.tmp" >/dev/null 2>&1
  rm -f "$DOT/known_hosts.one-key.tmp.old"
  mv -f "$DOT/known_hosts.one-key.tmp" "$DOT/known_hosts.one-key"
fi
one_key_known_hosts wrong_host | write_if_changed "$DOT/known_hosts.one-key.wrong" 0644 || true

# ssh for the docker CLI with this home (see the header).
write_if_changed "$SSH_HOME/bin/ssh" 0755 <<'WRAPPER' || true
#!/bin/sh
# The system ssh, but with keys and known_hosts from $HOME/.ssh (OpenSSH itself takes the home folder from
# the passwd database and ignores $HOME). Made by tests/setup/Start-TestSshd.sh for the tests' client homes:
#   HOME=<home> PATH=<home>/bin:$PATH docker -H ssh://root@127.0.0.1:2222 version
h="${HOME:?}/.ssh"
for k in id_rsa id_ecdsa id_ed25519; do [ -f "$h/$k" ] && set -- -i "$h/$k" "$@"; done
set -- -o UserKnownHostsFile="$h/known_hosts" -o GlobalKnownHostsFile=/dev/null -o UpdateHostKeys=no \
  -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes "$@"
if [ -f "$h/config" ]; then set -- -F "$h/config" "$@"; else set -- -F /dev/null "$@"; fi
exec /usr/bin/ssh "$@"
WRAPPER

# --- the password user ---------------------------------------------------------------------------
# A dedicated local user for the -Credential (password) tests, so that root never gets a password.
if ! getent group docker >/dev/null; then groupadd --system docker; fi
if ! id "$TEST_USER" >/dev/null 2>&1; then
  log "Adding the local user $TEST_USER (group docker) for the ssh:// password tests"
  useradd --create-home --shell /bin/sh --groups docker --comment 'Sandbox module ssh tests' "$TEST_USER"
  rm -f "$SSHD_DIR/password.txt"
elif ! id -nG "$TEST_USER" | tr ' ' '\n' | grep -qx docker; then
  usermod -aG docker "$TEST_USER"
fi
if [[ ! -s "$SSHD_DIR/password.txt" ]]; then
  (umask 077; openssl rand -hex 16 >"$SSHD_DIR/password.txt")
  printf '%s:%s\n' "$TEST_USER" "$(cat "$SSHD_DIR/password.txt")" | chpasswd
fi
chmod 0600 "$SSHD_DIR/password.txt"

# --- sshd ----------------------------------------------------------------------------------------
sshd_config() {   # sshd_config <port> <pid file> <HostKey and HostKeyAlgorithms lines>
  cat <<CONFIG
# Test-only sshd made by tests/setup/Start-TestSshd.sh (not the system sshd). Local connections only.
ListenAddress $ADDR:$1
$3
PidFile $2
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitEmptyPasswords no
# root by key only; password logins go to the user $TEST_USER.
PermitRootLogin prohibit-password
AllowUsers root $TEST_USER
UsePAM no
StrictModes yes
# One SSH connection carries many exec channels (one per HTTP connection, plus tunnels).
MaxSessions 100
MaxStartups 100:30:200
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
Subsystem sftp /usr/lib/openssh/sftp-server
CONFIG
}

# The key of that type the sshd on the port serves now, or nothing when nothing answers.
served_key() { ssh-keyscan -T 2 -p "$1" -t "$2" "$ADDR" 2>/dev/null | awk '{print $3}'; }

# start_sshd <instance> <port> <key type it must serve> <config text>: idempotent, like the whole script.
start_sshd() {
  local instance=$1 port=$2 type=$3 config want_key changed=0 out i
  config=$(config_of "$instance")
  want_key=$(cut -d' ' -f2 "$SSHD_DIR/ssh_host_${type}_key.pub")
  write_if_changed "$config" 0644 <<<"$4" && changed=1

  if [[ $mode == start && $changed -eq 0 ]] && our_pid "$instance" >/dev/null && [[ "$(served_key "$port" "$type")" == "$want_key" ]]; then
    log "Test sshd on $ADDR:$port is running."
    return 0
  fi

  stop_sshd "$instance"
  if [[ -n "$(served_key "$port" "$type")" ]] || (exec 3<>"/dev/tcp/$ADDR/$port") 2>/dev/null; then
    log "error: something else listens on $ADDR:$port; stop it, the ssh:// tests need that port."
    exit 1
  fi

  mkdir -p /run/sshd && chmod 0755 /run/sshd   # privilege separation folder (gone after a reboot)
  "$SSHD" -t -f "$config"
  # sshd forks into the background itself; setsid keeps it out of the caller's session.
  setsid "$SSHD" -f "$config" -E "$(logfile_of "$instance")" </dev/null >/dev/null 2>&1
  for ((i = 0; i < 50; i++)); do
    [[ "$(served_key "$port" "$type")" == "$want_key" ]] && break
    sleep 0.1
  done
  if [[ "$(served_key "$port" "$type")" != "$want_key" ]]; then
    log "error: the test sshd did not come up on $ADDR:$port; last lines of $(logfile_of "$instance"):"
    tail -n 20 "$(logfile_of "$instance")" >&2 || true
    exit 1
  fi

  # One real login, so a broken set-up shows here and not as a puzzling test failure.
  if ! out=$(/usr/bin/ssh -F /dev/null -o UserKnownHostsFile="$DOT/known_hosts $DOT/known_hosts.one-key" \
      -o GlobalKnownHostsFile=/dev/null -o UpdateHostKeys=no -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
      -i "$DOT/id_ed25519" -p "$port" "root@$ADDR" 'echo ok' 2>&1) || [[ "$out" != ok ]]; then
    log "error: key login as root to the test sshd on $ADDR:$port failed: $out"
    [[ "$(getent shadow root | cut -d: -f2)" == '!'* ]] &&
      log "root's password is locked with '!', which an sshd with UsePAM no treats as a locked account (usermod -p '*' root allows key logins)."
    tail -n 20 "$(logfile_of "$instance")" >&2 || true
    exit 1
  fi
  log "Test sshd on $ADDR:$port started (pid $(our_pid "$instance"))"
}

start_sshd "" "$PORT" ed25519 "$(sshd_config "$PORT" "$(pidfile_of "")" "HostKey $SSHD_DIR/ssh_host_ed25519_key
HostKey $SSHD_DIR/ssh_host_ecdsa_key
HostKey $SSHD_DIR/ssh_host_rsa_key")"

# Users' servers often have one host key only; each of these serves one, and offers only its algorithms.
for one in "${ONE_KEY[@]}"; do
  read -r name port type algorithms <<<"$one"
  start_sshd "$name" "$port" "$type" "$(sshd_config "$port" "$(pidfile_of "$name")" "HostKey $SSHD_DIR/ssh_host_${type}_key
HostKeyAlgorithms $algorithms")"
done

log "Client home $SSH_HOME"
echo "$SSH_HOME"
