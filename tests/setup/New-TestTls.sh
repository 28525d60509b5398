#!/usr/bin/env bash
# Makes the TLS material for the tcp:// + TLS tests with openssl, at test time (never committed):
#
#   $TLS/ca.pem, ca-key.pem                 the test CA
#   $TLS/server-cert.pem, server-key.pem    dockerd's certificate: SAN IP:127.0.0.1, DNS:localhost (nothing else)
#   $TLS/other-ca.pem, other-ca-key.pem     a second, unrelated CA
#   $TLS/client/            ca.pem + cert.pem/key.pem (clientAuth): a good DOCKER_CERT_PATH for tcp://127.0.0.1:2376
#   $TLS/wrong-ca/          ca.pem is the OTHER CA, cert/key the good client cert: only the server check fails
#   $TLS/wrong-name/        same files as client/, meant for tcp://127.0.0.2:2376 (dockerd listens there too,
#                           but the server certificate does not list 127.0.0.2): the host name check fails
#   $TLS/untrusted-client/  ca.pem is the real CA, the client cert is signed by the other CA: dockerd refuses it
#
# $TLS is $SANDBOX_TEST_STATE/tls (default /var/lib/sandbox-test/tls): outside output/ because the running
# dockerd reads its certificate from there; `build.sh Clean` leaves it alone.
#
#   tests/setup/New-TestTls.sh            make unless present, consistent and valid for more than a day
#   tests/setup/New-TestTls.sh --force    make anew (a running dockerd keeps the old certificate until restarted)
#
# Prints the TLS folder on stdout (last line); messages go to stderr.
set -euo pipefail

STATE="${SANDBOX_TEST_STATE:-/var/lib/sandbox-test}"
TLS="$STATE/tls"
REVISION=1   # bump when the layout or the certificates below change, so existing machines remake them
DAYS_CA=3650
DAYS_LEAF=825

force=0
case "${1:-}" in
  --force|-f) force=1 ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

command -v openssl >/dev/null || { echo "error: openssl is missing (apt-get install openssl)" >&2; exit 1; }

# True when the material is complete, consistent and valid for at least another day.
is_valid() {
  local d=$1 f
  [[ "$(cat "$d/.revision" 2>/dev/null)" == "$REVISION" ]] || return 1
  for f in ca.pem ca-key.pem server-cert.pem server-key.pem other-ca.pem other-ca-key.pem \
           client/{ca,cert,key}.pem wrong-ca/{ca,cert,key}.pem wrong-name/{ca,cert,key}.pem \
           untrusted-client/{ca,cert,key}.pem; do
    [[ -s "$d/$f" ]] || return 1
  done
  # Chains good (CA and leaf validity included) a day from now.
  local tomorrow=$(($(date +%s) + 86400))
  openssl verify -attime "$tomorrow" -CAfile "$d/ca.pem" "$d/server-cert.pem" "$d/client/cert.pem" >/dev/null 2>&1 || return 1
  openssl verify -attime "$tomorrow" -CAfile "$d/other-ca.pem" "$d/untrusted-client/cert.pem" "$d/wrong-ca/ca.pem" >/dev/null 2>&1 || return 1
  cmp -s "$d/ca.pem" "$d/client/ca.pem" && cmp -s "$d/other-ca.pem" "$d/wrong-ca/ca.pem" || return 1
  # The server key belongs to the server certificate.
  [[ "$(openssl x509 -noout -pubkey -in "$d/server-cert.pem")" == "$(openssl pkey -pubout -in "$d/server-key.pem")" ]] || return 1
}

if [[ $force -eq 0 ]] && is_valid "$TLS"; then
  echo "TLS material in $TLS is up to date." >&2
  echo "$TLS"
  exit 0
fi

mkdir -p "$STATE"
chmod 0755 "$STATE"
work=$(mktemp -d "$STATE/.tls.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

cat >openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

newkey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; chmod 0600 "$1"; }

newca() {   # newca <name> <CN>
  newkey "$1-key.pem"
  openssl req -new -x509 -config openssl.cnf -extensions v3_ca -key "$1-key.pem" -out "$1.pem" \
    -days "$DAYS_CA" -subj "/O=Sandbox tests/CN=$2" -sha256
}

newleaf() {   # newleaf <cert> <key> <CN> <ext section> <ca name>
  newkey "$2"
  openssl req -new -config openssl.cnf -key "$2" -subj "/O=Sandbox tests/CN=$3" -out leaf.csr
  openssl x509 -req -in leaf.csr -CA "$5.pem" -CAkey "$5-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$DAYS_LEAF" -sha256 -extfile openssl.cnf -extensions "$4" -out "$1" 2>/dev/null
  rm -f leaf.csr
}

newca ca 'Sandbox test CA'
newca other-ca 'Sandbox test CA (unrelated)'
newleaf server-cert.pem server-key.pem localhost server ca
newleaf client-cert.pem client-key.pem 'sandbox test client' client ca
newleaf untrusted-cert.pem untrusted-key.pem 'sandbox untrusted client' client other-ca

mkdir client wrong-ca wrong-name untrusted-client
cp ca.pem client/ca.pem;            cp client-cert.pem client/cert.pem;     cp client-key.pem client/key.pem
cp other-ca.pem wrong-ca/ca.pem;    cp client-cert.pem wrong-ca/cert.pem;   cp client-key.pem wrong-ca/key.pem
cp ca.pem wrong-name/ca.pem;        cp client-cert.pem wrong-name/cert.pem; cp client-key.pem wrong-name/key.pem
cp ca.pem untrusted-client/ca.pem;  cp untrusted-cert.pem untrusted-client/cert.pem; cp untrusted-key.pem untrusted-client/key.pem
chmod 0600 ./*/key.pem
rm -f client-cert.pem client-key.pem untrusted-cert.pem untrusted-key.pem openssl.cnf

cat >README <<'README'
Test-only TLS material made by tests/setup/New-TestTls.sh (remade with --force). Never use it for anything else.
dockerd (started by build.sh) listens with --tlsverify on tcp://127.0.0.1:2376 and tcp://127.0.0.2:2376
using server-cert.pem (SAN IP:127.0.0.1, DNS:localhost) signed by ca.pem.

  DOCKER_CERT_PATH=client/            + tcp://127.0.0.1:2376 or tcp://localhost:2376  -> works
  DOCKER_CERT_PATH=wrong-ca/          + tcp://127.0.0.1:2376  -> server certificate not trusted (unknown CA)
  DOCKER_CERT_PATH=wrong-name/        + tcp://127.0.0.2:2376  -> certificate valid for 127.0.0.1/localhost, not 127.0.0.2
  DOCKER_CERT_PATH=untrusted-client/  + tcp://127.0.0.1:2376  -> dockerd refuses the client certificate
README
echo "$REVISION" >.revision
chmod 0755 . client wrong-ca wrong-name untrusted-client

is_valid "$work" || { echo "error: the TLS material just made does not check out" >&2; exit 1; }

# Swap the new folder in.
rm -rf "$TLS.old"
[[ -e "$TLS" ]] && mv "$TLS" "$TLS.old"
mv "$work" "$TLS"
rm -rf "$TLS.old"
trap - EXIT
echo "Made TLS material in $TLS (CA, dockerd server certificate, client/, wrong-ca/, wrong-name/, untrusted-client/)." >&2
echo "$TLS"
