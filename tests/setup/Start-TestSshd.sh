#!/usr/bin/env bash
# Starts a test-only sshd on 127.0.0.1:2222 (Debian's openssh-server, its own config; the system sshd and
# /etc/ssh are left alone) and makes the client side the ssh:// tests use. Everything lives in
# $SANDBOX_TEST_STATE (default /var/lib/sandbox-test):
#
#   sshd/sshd_config, ssh_host_{ed25519,ecdsa,rsa}_key, sshd.pid, sshd.log, authorized_keys
#   sshd/password.txt        random password of the local user `sandboxtest` (group docker), for -Credential tests
#   ssh-home/                a client "home": point $HOME at it (OpenSSH-style clients read $HOME/.ssh)
#     .ssh/id_ed25519, id_ecdsa, id_rsa (+ .pub)   all three authorized for root and sandboxtest
#     .ssh/known_hosts        the server's three host keys for [127.0.0.1]:2222 and [localhost]:2222, HASHED
#     .ssh/known_hosts.plain  the same entries in plain text
#     .ssh/known_hosts.wrong  other keys (all three types) for the same hosts: the changed-host-key case
#     .ssh/bad_ed25519        a key nobody authorized: the bad-key case
#     bin/ssh                 wrapper that makes the system ssh read $HOME/.ssh (OpenSSH ignores $HOME); put
#                             it first in PATH to run `docker -H ssh://root@127.0.0.1:2222 ...` with this home
#
#   tests/setup/Start-TestSshd.sh            idempotent: quick when sshd already answers with this host key
#   tests/setup/Start-TestSshd.sh --restart  restart the test sshd
#   tests/setup/Start-TestSshd.sh --stop     stop it
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

# The pid of the sshd this script started, if it runs.
our_pid() {
  local pid
  pid=$(cat "$SSHD_DIR/sshd.pid" 2>/dev/null) || return 1
  [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $SSHD_DIR/sshd_config" || return 1
  echo "$pid"
}

stop_sshd() {
  local pid i
  pid=$(our_pid) || return 0
  log "Stopping the test sshd (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$SSHD_DIR/sshd.pid"
}

if [[ $mode == stop ]]; then stop_sshd; exit 0; fi

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
config_changed=0
write_if_changed "$SSHD_DIR/sshd_config" 0644 <<CONFIG && config_changed=1
# Test-only sshd made by tests/setup/Start-TestSshd.sh (not the system sshd). Local connections only.
ListenAddress $ADDR:$PORT
HostKey $SSHD_DIR/ssh_host_ed25519_key
HostKey $SSHD_DIR/ssh_host_ecdsa_key
HostKey $SSHD_DIR/ssh_host_rsa_key
PidFile $SSHD_DIR/sshd.pid
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

# The key sshd serves now, or nothing when nothing answers.
served_key() { ssh-keyscan -T 2 -p "$PORT" -t ed25519 "$ADDR" 2>/dev/null | awk '{print $3}'; }
want_key=$(cut -d' ' -f2 "$SSHD_DIR/ssh_host_ed25519_key.pub")

if [[ $mode == start && $config_changed -eq 0 ]] && our_pid >/dev/null && [[ "$(served_key)" == "$want_key" ]]; then
  log "Test sshd on $ADDR:$PORT is running."
  echo "$SSH_HOME"
  exit 0
fi

stop_sshd
if [[ -n "$(served_key)" ]] || (exec 3<>"/dev/tcp/$ADDR/$PORT") 2>/dev/null; then
  log "error: something else listens on $ADDR:$PORT; stop it, the ssh:// tests need that port."
  exit 1
fi

mkdir -p /run/sshd && chmod 0755 /run/sshd   # privilege separation folder (gone after a reboot)
"$SSHD" -t -f "$SSHD_DIR/sshd_config"
# sshd forks into the background itself; setsid keeps it out of the caller's session.
setsid "$SSHD" -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" </dev/null >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do
  [[ "$(served_key)" == "$want_key" ]] && break
  sleep 0.1
done
if [[ "$(served_key)" != "$want_key" ]]; then
  log "error: the test sshd did not come up on $ADDR:$PORT; last lines of $SSHD_DIR/sshd.log:"
  tail -n 20 "$SSHD_DIR/sshd.log" >&2 || true
  exit 1
fi

# One real login, so a broken set-up shows here and not as a puzzling test failure.
if ! out=$(HOME="$SSH_HOME" "$SSH_HOME/bin/ssh" -p "$PORT" "root@$ADDR" 'echo ok' 2>&1) || [[ "$out" != ok ]]; then
  log "error: key login as root to the test sshd failed: $out"
  [[ "$(getent shadow root | cut -d: -f2)" == '!'* ]] &&
    log "root's password is locked with '!', which an sshd with UsePAM no treats as a locked account (usermod -p '*' root allows key logins)."
  tail -n 20 "$SSHD_DIR/sshd.log" >&2 || true
  exit 1
fi
log "Test sshd on $ADDR:$PORT started (pid $(our_pid)); client home $SSH_HOME"
echo "$SSH_HOME"
