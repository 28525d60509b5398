#!/usr/bin/env bash
# Builds the local test/demo image sandbox-local/busybox:latest without any registry:
# a rootfs made of Debian's static busybox (package busybox-static), imported with `docker import`.
#
#   tests/setup/New-TestImage.sh            build unless the image (of this revision) exists
#   tests/setup/New-TestImage.sh --force    rebuild
#
# Env: SANDBOX_TEST_IMAGE (default sandbox-local/busybox:latest), BUSYBOX (default /bin/busybox).
set -euo pipefail

IMAGE="${SANDBOX_TEST_IMAGE:-sandbox-local/busybox:latest}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
REVISION=1   # bump when the rootfs below changes, so existing machines rebuild
REV_LABEL=sandbox-local.testimage.revision

force=0
case "${1:-}" in
  --force|-f) force=1 ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

if [[ $force -eq 0 ]]; then
  have=$(docker image inspect --format "{{ index .Config.Labels \"$REV_LABEL\" }}" "$IMAGE" 2>/dev/null || true)
  if [[ "$have" == "$REVISION" ]]; then
    echo "Test image $IMAGE is up to date."
    exit 0
  fi
fi

# A dynamically linked busybox would not run in an empty rootfs.
if ! "$BUSYBOX" --list >/dev/null 2>&1 || file -L "$BUSYBOX" 2>/dev/null | grep -q 'dynamically linked'; then
  echo "error: $BUSYBOX is missing or not static; install Debian's busybox-static" >&2
  exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/sandbox,workspace,tmp,var/tmp,proc,sys,dev}
cp "$BUSYBOX" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"

# One symlink per applet, where busybox itself would install it (bin/sh, usr/bin/wget, sbin/httpd, ...).
while read -r applet; do
  [[ -z "$applet" || "$applet" == bin/busybox ]] && continue
  [[ -e "$root/$applet" || -L "$root/$applet" ]] && continue
  ln -s /bin/busybox "$root/$applet"
done < <("$BUSYBOX" --list-full)

cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
sandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
sandbox:x:1000:
nogroup:x:65534:
GROUP

chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
chmod 0777 "$root/workspace"
chown 1000:1000 "$root/home/sandbox"

old_id=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)

tar --numeric-owner -C "$root" -cf - . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL $REV_LABEL=$REVISION" \
    --change 'CMD ["sh"]' \
    --message "busybox-static rootfs for Sandbox tests" \
    - "$IMAGE" >/dev/null

# Drop the image this one replaced (fails harmlessly while a container still uses it).
[[ -n "$old_id" ]] && docker rmi "$old_id" >/dev/null 2>&1 || true

echo "Built test image $IMAGE ($("$BUSYBOX" --list | wc -l) busybox applets)."
