#!/usr/bin/env bash
# Checks the remote-engine test set-up with the docker CLI and ssh (no module involved): what works works,
# and each negative case fails for the reason it is meant to. Run after ./build.sh (or after
# New-TestTls.sh, Start-TestSshd.sh and a dockerd with the TLS listener). Takes a few seconds.
#
#   tests/setup/Test-RemoteEngines.sh     prints one line per check; exit code 1 when any check fails
set -uo pipefail

STATE="${SANDBOX_TEST_STATE:-/var/lib/sandbox-test}"
TLS="$STATE/tls"
SSH_HOME="$STATE/ssh-home"
DOT="$SSH_HOME/.ssh"
PASSWORD_FILE="$STATE/sshd/password.txt"
failed=0
cd /   # nothing here depends on the current folder

# check <name> <expected: ok|fail> <output pattern> <command...>
check() {
  local name=$1 want=$2 pattern=$3 out rc
  shift 3
  out=$("$@" </dev/null 2>&1); rc=$?
  if { [[ $want == ok && $rc -eq 0 ]] || [[ $want == fail && $rc -ne 0 ]]; } && grep -qiE -- "$pattern" <<<"$out"; then
    printf 'PASS  %s\n' "$name"
  else
    printf 'FAIL  %s (exit %s)\n%s\n' "$name" "$rc" "$(sed 's/^/      /' <<<"$out" | tail -n 5)"
    failed=1
  fi
}

tls() {   # tls <cert folder> <host> <docker args...>
  local dir=$1 host=$2
  shift 2
  env DOCKER_CERT_PATH="$TLS/$dir" DOCKER_TLS_VERIFY=1 DOCKER_HOST="$host" DOCKER_CONTEXT= docker "$@"
}
check 'tls: client/ on tcp://127.0.0.1:2376' ok '^[0-9]' tls client tcp://127.0.0.1:2376 version --format '{{.Server.Version}}'
check 'tls: client/ on tcp://localhost:2376' ok '^[0-9]' tls client tcp://localhost:2376 version --format '{{.Server.Version}}'
check 'tls: wrong-ca/ is refused (unknown authority)' fail 'unknown authority' tls wrong-ca tcp://127.0.0.1:2376 version
check 'tls: wrong-name/ on tcp://127.0.0.2:2376 is refused (name)' fail 'not 127\.0\.0\.2' tls wrong-name tcp://127.0.0.2:2376 version
check 'tls: untrusted-client/ is refused by dockerd' fail 'bad certificate' tls untrusted-client tcp://127.0.0.1:2376 version
check 'tls: no plain HTTP on 2376' fail 'HTTP request to an HTTPS server|bad certificate' \
  env -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH DOCKER_HOST=tcp://127.0.0.1:2376 docker version

sshx() {   # sshx <key> <known_hosts file> <user> <command...>: the system ssh, no config, no agent
  local key=$1 kh=$2 user=$3
  shift 3
  ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=10 -o IdentitiesOnly=yes -o IdentityAgent=none -o UpdateHostKeys=no \
    -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile="$kh" -i "$key" -p 2222 "$user@127.0.0.1" "$@"
}
for k in id_ed25519 id_ecdsa id_rsa; do
  check "ssh: root with $k, hashed known_hosts, runs docker" ok '^[0-9]' sshx "$DOT/$k" "$DOT/known_hosts" root docker version --format "'{{.Server.Version}}'"
done
for alg in ssh-ed25519 ecdsa-sha2-nistp256 rsa-sha2-512; do
  check "ssh: host key $alg found in known_hosts" ok '^ok$' sshx "$DOT/id_ed25519" "$DOT/known_hosts" root -o HostKeyAlgorithms=$alg echo ok
  check "ssh: host key $alg found in known_hosts.plain" ok '^ok$' sshx "$DOT/id_ed25519" "$DOT/known_hosts.plain" root -o HostKeyAlgorithms=$alg echo ok
  check "ssh: host key $alg refused with known_hosts.wrong" fail 'verification failed' \
    sshx "$DOT/id_ed25519" "$DOT/known_hosts.wrong" root -o HostKeyAlgorithms=$alg true
done
check 'ssh: unknown host refused (empty known_hosts)' fail 'verification failed' sshx "$DOT/id_ed25519" /dev/null root true
check 'ssh: bad_ed25519 refused' fail 'Permission denied' sshx "$DOT/bad_ed25519" "$DOT/known_hosts" root true
ping_dial_stdio() { printf 'GET /_ping HTTP/1.0\r\n\r\n' | sshx "$DOT/id_ed25519" "$DOT/known_hosts" sandboxtest docker system dial-stdio; }
check 'ssh: sandboxtest with a key, `docker system dial-stdio` answers /_ping' ok '^OK' ping_dial_stdio

askpass=$(mktemp)
trap 'rm -f "$askpass"' EXIT
printf '#!/bin/sh\ncat %q\n' "$PASSWORD_FILE" >"$askpass"
chmod 0700 "$askpass"
pw() {   # pw <user> <command...>: password login only
  local user=$1
  shift
  SSH_ASKPASS="$askpass" SSH_ASKPASS_REQUIRE=force setsid -w ssh -F /dev/null -o NumberOfPasswordPrompts=1 \
    -o PreferredAuthentications=password -o PubkeyAuthentication=no -o IdentityAgent=none \
    -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile="$DOT/known_hosts" -p 2222 "$user@127.0.0.1" "$@"
}
check 'ssh: sandboxtest with the password from password.txt runs docker ps' ok 'CONTAINER ID' pw sandboxtest docker ps
check 'ssh: root cannot log in with a password' fail 'Permission denied' pw root true

check 'docker CLI: -H ssh://root@127.0.0.1:2222 with HOME=ssh-home and its bin/ssh' ok '^[0-9]' \
  env HOME="$SSH_HOME" PATH="$SSH_HOME/bin:$PATH" DOCKER_CONTEXT= docker -H ssh://root@127.0.0.1:2222 version --format '{{.Server.Version}}'
check 'docker CLI: -H ssh://sandboxtest@127.0.0.1:2222' ok 'CONTAINER ID' \
  env HOME="$SSH_HOME" PATH="$SSH_HOME/bin:$PATH" DOCKER_CONTEXT= docker -H ssh://sandboxtest@127.0.0.1:2222 ps
check 'docker CLI: unix socket still answers' ok '^[0-9]' env -u DOCKER_HOST DOCKER_CONTEXT= docker version --format '{{.Server.Version}}'

exit $failed
