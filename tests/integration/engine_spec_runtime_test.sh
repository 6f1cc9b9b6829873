#!/bin/bash
# The OCI spec berthd_spec builds for a Docker container, run by a real OCI
# runtime on the busybox fixture: what a container sees must be what Docker
# gives it (ids and groups from the image, the 14 default capabilities, masked
# and read-only /proc paths, the default seccomp profile, the network files),
# and each HostConfig knob must take effect.
# Usage: engine_spec_runtime_test.sh BERTHD_SPEC_DUMP RUNTIME_BINARY      (as root)
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 BERTHD_SPEC_DUMP RUNTIME_BINARY" >&2
  exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root"
  exit 77
fi
spec_dump=$1
runtime=$(command -v "$2" || echo "$2")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/berth-spec-test-XXXXXX)
prefix=spec-$$-$RANDOM
cgroup_parent=/berth-spec-test-$$
ids=()

cleanup() {
  for id in "${ids[@]}"; do
    "$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  done
  # The runtime removes the container's cgroups; the parent is ours.
  # (v1 controllers, the hybrid unified tree, or a v2 host's single tree).
  for dir in /sys/fs/cgroup/*"$cgroup_parent" /sys/fs/cgroup"$cgroup_parent"; do
    [[ -d $dir ]] || continue
    find "$dir" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null || true
    rmdir "$dir" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

"$here/../fixtures/busybox-rootfs.sh" "$work/bundle/rootfs"
mkdir -p "$work/state" "$work/files"
failures=0

# run_case NAME REQUEST_JSON SCRIPT: builds config.json for the request (its
# Cmd is replaced by `sh -c SCRIPT`), runs it, leaves the output in $out.
run_case() {
  local name=$1 request=$2 script=$3
  local id=$prefix-$name
  ids+=("$id")
  local hex
  hex=$(printf '%s' "$id" | sha256sum | cut -c1-64)
  jq --arg id "$hex" --arg script "$script" \
    '.id = $id | .config.Cmd = ["sh", "-c", $script]' <<<"$request" >"$work/request.json"
  "$spec_dump" "$work/bundle/rootfs" --files "$work/files" \
    --cgroups-path "$cgroup_parent/$id" --init-path "${init_path:-}" \
    <"$work/request.json" >"$work/bundle/config.json"
  out=$("$runtime" --root "$work/state" run --bundle "$work/bundle" "$id" </dev/null 2>&1) ||
    out+=$'\n'"(exit $?)"
  "$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  echo "--- $name"
  echo "$out"
}

# expect LINE...: each LINE must be one line of the last case's output.
expect() {
  local want
  for want in "$@"; do
    if ! grep -qxF -- "$want" <<<"$out"; then
      echo "FAIL: expected the line \"$want\""
      failures=$((failures + 1))
    fi
  done
}

none='{"config": {}, "host_config": {"NetworkMode": "none"}}'
probe='
  id
  grep -E "^(CapBnd|CapEff|CapPrm|CapInh|Seccomp|NoNewPrivs):" /proc/self/status
  echo "kcore=$(head -c1 /proc/kcore 2>/dev/null | wc -c)"
  echo "timer_list=$(head -c1 /proc/timer_list 2>/dev/null | wc -c)"
  echo "keys=$(head -c1 /proc/keys 2>/dev/null | wc -c)"
  echo "hostname=$(hostname)"
  (echo x >/proc/sys/kernel/hostname) 2>/dev/null && echo proc-sys-writable || echo proc-sys-readonly
  mount -t tmpfs none /run 2>/dev/null && echo mount-ok || echo mount-denied
  unshare -U true 2>&1 | grep -q "Operation not permitted" && echo unshare-eperm || echo unshare-ok
  touch /rootfs-write 2>/dev/null && echo rootfs-writable || echo rootfs-readonly
  echo "env-hostname=$HOSTNAME"
  echo "path=$PATH"
  head -n1 /etc/hosts
  df -k /dev/shm | tail -n1 | awk "{print \"shm=\" \$2}"
  echo "net=$(readlink /proc/self/ns/net)"
'

run_case default "$none" "$probe"
host_id=$(printf '%s' "$prefix-default" | sha256sum | cut -c1-12)
expect "uid=0(root) gid=0(root) groups=0(root)" \
  $'CapBnd:\t00000000a80425fb' $'CapEff:\t00000000a80425fb' $'CapPrm:\t00000000a80425fb' \
  $'CapInh:\t0000000000000000' $'Seccomp:\t2' $'NoNewPrivs:\t0' \
  kcore=0 timer_list=0 keys=0 proc-sys-readonly mount-denied unshare-eperm rootfs-writable \
  "hostname=$host_id" "env-hostname=$host_id" \
  "path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  $'127.0.0.1\tlocalhost' "shm=65536"

run_case user "$(jq '.config.User = "berth"' <<<"$none")" "$probe"
expect "uid=1000(berth) gid=1000(berth) groups=1000(berth),2000(extra)" \
  $'CapBnd:\t00000000a80425fb' $'CapEff:\t0000000000000000' $'Seccomp:\t2'

# CapAdd SYS_ADMIN opens mount(2) in both the capability set and the seccomp
# profile; the other knobs ride along.
run_case tweaks "$(jq '.host_config += {CapAdd: ["sys_admin"], CapDrop: ["NET_RAW"],
    SecurityOpt: ["no-new-privileges"], ReadonlyRootfs: true, ShmSize: 8388608}
  | .config += {Hostname: "web", Env: ["PATH=/bin"]}' <<<"$none")" "$probe"
expect $'CapEff:\t00000000a82405fb' $'NoNewPrivs:\t1' $'Seccomp:\t2' mount-ok \
  rootfs-readonly hostname=web env-hostname=web path=/bin shm=8192

host_caps=$(awk '$1 == "CapEff:" {print $2}' /proc/self/status)
run_case privileged "$(jq '.host_config.Privileged = true' <<<"$none")" "$probe"
expect "CapEff:	$host_caps" $'Seccomp:\t0' timer_list=1 mount-ok

run_case unconfined "$(jq '.host_config.SecurityOpt = ["seccomp=unconfined"]' <<<"$none")" \
  "$probe"
expect $'Seccomp:\t0' $'CapEff:\t00000000a80425fb' mount-denied

# A profile the client sends inline (`--security-opt seccomp=FILE`): allow all,
# deny mkdir with EPERM.
profile='{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
run_case profile "$(jq --arg p "seccomp=$profile" '.host_config.SecurityOpt = [$p]' <<<"$none")" \
  'mkdir /tmp/d 2>&1 | grep -q "Operation not permitted" && echo mkdir-eperm || echo mkdir-ok
   echo alive'
expect mkdir-eperm alive

run_case host-network "$(jq '.host_config.NetworkMode = "host"' <<<"$none")" "$probe"
expect "net=$(readlink /proc/self/ns/net)" "hostname=$(hostname)"

if [[ -x /usr/bin/docker-init ]]; then
  init_path=/usr/bin/docker-init
  run_case init "$(jq '.host_config.Init = true' <<<"$none")" \
    'echo "pid1=$(head -c 17 /proc/1/cmdline)"; echo "self=$$"'
  init_path=
  expect pid1=/sbin/docker-init
  if grep -qx "self=1" <<<"$out"; then
    echo "FAIL: the command is pid 1; docker-init should be"
    failures=$((failures + 1))
  fi
fi

if [[ $failures -ne 0 ]]; then
  echo "FAIL: $failures expectation(s) not met under $runtime"
  exit 1
fi
echo "PASS: berthd_spec's Docker defaults enforced by $runtime"
