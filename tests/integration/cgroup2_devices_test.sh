#!/bin/bash
# Device control on a cgroup v2 host: the runtime runs in a private mount
# namespace where /sys/fs/cgroup is the cgroup2 hierarchy (as on most hosts
# today), so device rules must be enforced by an eBPF program. The container
# may use /dev/null, may mknod (CAP_MKNOD, "c *:* m"), but may not open a node
# no rule allows (1:1, /dev/mem).
# Usage: cgroup2_devices_test.sh RUNTIME_BINARY      (as root)
set -euo pipefail
runtime=$(command -v "$1" || echo "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/berth-cgroup2-test-XXXXXX)
id=cg2-$$
cleanup() {
  unshare -m --propagation private sh -c '
    umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup &&
    "$1" --root "$2/state" delete --force "$3"' sh "$runtime" "$work" "$id" 2>/dev/null || true
  rmdir /sys/fs/cgroup/unified/berth-oci/"$id" /sys/fs/cgroup/unified/"$id" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! grep -q " - cgroup2 " /proc/self/mountinfo; then
  echo "SKIP: no cgroup2 hierarchy on this host"
  exit 77
fi
"$here/../fixtures/busybox-bundle.sh" "$work/bundle" sh -c '
  echo x > /dev/null && echo null-ok
  mknod /dev/mem2 c 1 1 && echo mknod-ok
  head -c1 /dev/mem2 >/dev/null 2>&1 && echo mem-READABLE || echo mem-denied' >/dev/null
# The cgroup namespace and cgroup mount are dropped: the v2 hierarchy here only has
# the controllers the host left it; device control needs none of them.
jq '.linux.namespaces |= map(select(.type != "cgroup"))
    | .mounts |= map(select(.type != "cgroup"))
    | .process.capabilities |= with_entries(.value += ["CAP_MKNOD"])' \
  "$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"

out=$(unshare -m --propagation private sh -c '
  umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup &&
  exec "$1" --root "$2/state" run --bundle "$2/bundle" "$3"' sh "$runtime" "$work" "$id" 2>&1) ||
  echo "(run exited with $?)"
echo "$out"
for want in null-ok mknod-ok mem-denied; do
  if ! grep -qx "$want" <<<"$out"; then
    echo "FAIL: expected \"$want\" from the container"
    exit 1
  fi
done
echo "PASS: cgroup v2 device rules enforced by $runtime"
