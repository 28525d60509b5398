#!/usr/bin/env bash
# Builds the polyglot test/example image sandbox-local/polyglot:bookworm without any registry: a Debian 12
# rootfs from debootstrap (--variant=minbase) with python3 (+ pip, requests) and nodejs (+ npm), imported
# with `docker import`. It is built once and kept: an image whose revision label matches is left alone.
#
#   tests/setup/New-PolyglotImage.sh            build unless the image (of this revision) exists
#   tests/setup/New-PolyglotImage.sh --force    rebuild
#
# Env: SANDBOX_POLYGLOT_IMAGE (default sandbox-local/polyglot:bookworm),
#      DEBIAN_MIRROR (default: the first deb.debian.org-style URI in apt's sources, else http://deb.debian.org/debian).
set -euo pipefail

IMAGE="${SANDBOX_POLYGLOT_IMAGE:-sandbox-local/polyglot:bookworm}"
REVISION=1   # bump when the package set below changes, so existing machines rebuild
REV_LABEL=sandbox-local.polyglot.revision
SUITE=bookworm
# debootstrap's resolver can't follow npm's virtual packages, so npm comes from apt inside the new root.
BOOTSTRAP_PACKAGES=python3,python3-pip,python3-requests,nodejs,ca-certificates
APT_PACKAGES=(npm)

force=0
case "${1:-}" in
  --force|-f) force=1 ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

if [[ $force -eq 0 ]]; then
  have=$(docker image inspect --format "{{ index .Config.Labels \"$REV_LABEL\" }}" "$IMAGE" 2>/dev/null || true)
  if [[ "$have" == "$REVISION" ]]; then
    echo "Polyglot image $IMAGE is up to date."
    exit 0
  fi
fi

command -v debootstrap >/dev/null || { echo "error: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

mirror="${DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -oE 'https?://[^ ]+' | head -n 1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

started=$SECONDS
root=$(mktemp -d /var/tmp/sandbox-polyglot.XXXXXX)
chmod 0755 "$root"   # apt in the chroot drops to _apt, which must reach its folders
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$root"' EXIT

echo "Building $IMAGE once for this engine, about 2 minutes (debootstrap $SUITE from $mirror)..."
if ! debootstrap --variant=minbase --include="$BOOTSTRAP_PACKAGES" "$SUITE" "$root" "$mirror" >"$root.log" 2>&1; then
  tail -n 30 "$root.log" >&2
  echo "error: debootstrap failed (full log: $root.log)" >&2
  exit 1
fi
echo "  debootstrap done in $((SECONDS - started)) s; installing ${APT_PACKAGES[*]}"

mount -t proc proc "$root/proc"
chroot "$root" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${APT_PACKAGES[*]} >/dev/null" \
  2> >(grep -v -e 'debconf: delaying' -e 'Can not write log' >&2)
umount "$root/proc"

# What an image doesn't need: package caches and lists, docs, man pages.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/var/log/*.log "$root"/var/cache/debconf/*-old "$root"/debootstrap
# A non-root user for -User tests, and a workspace anyone may write to.
chroot "$root" /bin/sh -c 'id sandbox >/dev/null 2>&1 || useradd --uid 1000 --create-home --shell /bin/sh sandbox'
mkdir -p "$root/workspace" && chmod 0777 "$root/workspace"

old_id=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
tar --numeric-owner -C "$root" -cf - . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL $REV_LABEL=$REVISION" \
    --change 'CMD ["bash"]' \
    --message "Debian $SUITE minbase with python3 and nodejs for Sandbox tests and examples" \
    - "$IMAGE" >/dev/null
rm -f "$root.log"
[[ -n "$old_id" && "$old_id" != "$(docker image inspect --format '{{.Id}}' "$IMAGE")" ]] && docker rmi "$old_id" >/dev/null 2>&1 || true

echo "Built polyglot image $IMAGE in $((SECONDS - started)) s ($(docker run --rm "$IMAGE" sh -c 'python3 --version; echo node $(node --version)' | tr '\n' ' '))."
