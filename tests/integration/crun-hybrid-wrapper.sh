#!/bin/bash
# crun 1.8 refuses this host's hybrid cgroup layout (cgroup2 at
# /sys/fs/cgroup/unified next to v1 controllers). Run it in a private mount
# namespace with that mount unmounted, so it sees a plain v1 layout.
# Usage: crun-hybrid-wrapper.sh [crun args...]
set -euo pipefail
if [[ $(id -u) -eq 0 ]] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
  exec unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified; exec crun "$@"' crun "$@"
fi
exec crun "$@"
