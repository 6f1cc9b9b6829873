#!/usr/bin/env bash
# Usage: tests/integration/dockerd_add_runtime_test.sh RUNTIME_BINARY
#
# Proves RUNTIME_BINARY (berth-oci; runc works too) is a drop-in for runc under
# Docker: Debian's dockerd 20.10 with `--add-runtime berth=RUNTIME`, driven by
# Debian's docker 20.10 client (/usr/bin/docker): load, run --rm (stdout, exit
# codes, the 127/126 that dockerd derives from the runtime's error text), run
# -d, exec (-it too), top, pause/unpause, stop, rm, and RUNTIME's --root
# (EXEC_ROOT/runtime-runc/moby, where dockerd 20.10 puts every runc-shim
# runtime) holding the container while it runs.
#
# dockerd runs on a private socket, data root, exec root, pid file, config file
# and cgroup parent, all under one mktemp -d directory; it starts its own
# containerd there. No network: --bridge=none, no iptables, containers on
# --network none. If dockerd cannot start on this machine, prints
# "SKIP: <reason>" and exits 77.
#
# Cleans up on exit, even on failure: containers, dockerd, its containerd and
# shims, mounts, the temp dir, the cgroup parent, and what dockerd 20.10
# creates outside its roots when they were not there before
# (/etc/docker/key.json, /run/docker/plugins). Needs root, docker.io,
# containerd, skopeo, umoci, jq, busybox-static. Offline.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    echo "usage: $0 RUNTIME_BINARY" >&2
    exit 2
fi
runtime=$(command -v -- "$1") || { echo "FAIL: runtime binary not found: $1" >&2; exit 2; }
runtime=$(readlink -f -- "$runtime")
if [[ $(id -u) -ne 0 ]]; then
    echo "FAIL: must run as root" >&2
    exit 2
fi
dockerd_bin=/usr/sbin/dockerd
docker_bin=/usr/bin/docker
for b in "$dockerd_bin" "$docker_bin" /usr/bin/containerd; do
    if [[ ! -x $b ]]; then
        echo "SKIP: $b is not installed (Debian package docker.io)"
        exit 77
    fi
done

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
fixtures=$(cd -- "$here/../fixtures" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-dockerd-test.XXXXXX")
tag=$$-$RANDOM
cgparent=/berth-dockerd-test-$tag
dockerd_pid=
start=$SECONDS
# What dockerd 20.10 writes outside --data-root/--exec-root, to undo if new.
host_leftovers=()
for f in /etc/docker/key.json /run/docker/plugins /run/docker /etc/docker; do
    [[ -e $f ]] || host_leftovers+=("$f")
done

log() { echo "== $*"; }
pass() { echo "ok: $*"; }
die() {
    echo "FAIL: $*" >&2
    exit 1
}
d() { timeout 120 "$docker_bin" -H "unix://$tmp/docker.sock" "$@"; }

# pids_of_test: every process but this shell whose command line mentions the
# temp dir: dockerd, its containerd and shims, leftovers.
pids_of_test() {
    local p cmd
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" || $p == "$BASHPID" ]] && continue
        cmd=$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) || continue
        [[ $cmd == *"$tmp"* ]] && echo "$p"
    done
    return 0
}

# dockerd makes a "docker" parent cgroup in every hierarchy; remove it at the end
# unless it was there before.
docker_cgroup_existed=0
compgen -G '/sys/fs/cgroup/*/docker' >/dev/null && docker_cgroup_existed=1
compgen -G '/sys/fs/cgroup/docker' >/dev/null && docker_cgroup_existed=1

cleanup() {
    local rc=$? id p mnt i root f
    trap - EXIT ERR
    set +e
    trap 'if [[ $docker_cgroup_existed == 0 ]]; then
            rmdir /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker 2>/dev/null
          fi' RETURN
    if [[ $rc -ne 0 && $rc -ne 77 && -f $tmp/dockerd.log ]]; then
        echo "--- dockerd log (tail) ---" >&2
        grep -v 'module=grpc' "$tmp/dockerd.log" | tail -n 30 >&2
    fi
    if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
        for id in $(d ps -aq 2>/dev/null); do
            d rm -f "$id" >/dev/null 2>&1
        done
        kill -TERM "$dockerd_pid" 2>/dev/null
        for i in $(seq 300); do
            kill -0 "$dockerd_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$dockerd_pid" 2>/dev/null
    fi
    [[ -n $dockerd_pid ]] && wait "$dockerd_pid" 2>/dev/null
    # Containers the shims left: the runtime deletes (kills) them itself.
    for root in "$tmp"/exec/runtime-*/*; do
        [[ -d $root ]] || continue
        for id in $("$runtime" --root "$root" list -q 2>/dev/null); do
            echo "cleanup: $runtime --root $root delete --force $id" >&2
            "$runtime" --root "$root" delete --force "$id" >/dev/null 2>&1
        done
    done
    # dockerd stops its containerd on exit; shims outlive it by design.
    for p in $(pids_of_test); do
        kill -KILL "$p" 2>/dev/null
    done
    sleep 0.2
    while read -r mnt; do
        umount -R "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    done < <(awk -v d="$tmp/" 'index($5, d) == 1 || $5 == substr(d, 1, length(d) - 1) {print $5}' \
        /proc/self/mountinfo | sort -r)
    if awk -v d="$tmp/" 'index($5, d) == 1 {f = 1} END {exit !f}' /proc/self/mountinfo; then
        echo "FAIL: mounts left under $tmp" >&2
        rc=1
    fi
    rm -rf -- "$tmp"
    for i in /sys/fs/cgroup/*"$cgparent"; do
        [[ -d $i ]] || continue
        find "$i" -depth -type d -exec rmdir {} + 2>/dev/null
        [[ -d $i ]] && { echo "FAIL: cgroup left behind: $i" >&2; rc=1; }
    done
    for f in "${host_leftovers[@]}"; do
        if [[ -f $f ]]; then rm -f -- "$f"; elif [[ -d $f ]]; then rmdir -- "$f" 2>/dev/null; fi
    done
    p=$(pids_of_test)
    if [[ -n $p ]]; then
        echo "FAIL: processes of the test left behind:" >&2
        for i in $p; do echo "  $i: $(tr '\0' ' ' <"/proc/$i/cmdline" 2>/dev/null)" >&2; done
        rc=1
    fi
    if [[ $rc -eq 0 ]]; then
        echo "PASS: dockerd --add-runtime berth=$runtime ($((SECONDS - start)) s)"
    elif [[ $rc -ne 77 ]]; then
        echo "FAIL: dockerd --add-runtime berth=$runtime (exit $rc, $((SECONDS - start)) s)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
trap 'echo "FAIL: aborted at line $LINENO: $BASH_COMMAND" >&2' ERR

expect_eq() {
    [[ $2 == "$3" ]] || die "$1: got $(printf %q "$2"), want $(printf %q "$3")"
    pass "$1"
}
# runs_rc CMD...: the exit status of CMD (output to stderr).
runs_rc() {
    local rc=0
    "$@" >&2 || rc=$?
    echo "$rc"
}

# --- dockerd -------------------------------------------------------------------------
log "runtime: $runtime; temp dir: $tmp"
"$fixtures/busybox-image.sh" "$tmp/image" >/dev/null
echo '{}' >"$tmp/daemon.json"
"$dockerd_bin" \
    --config-file "$tmp/daemon.json" \
    -H "unix://$tmp/docker.sock" \
    --data-root "$tmp/data" \
    --exec-root "$tmp/exec" \
    --pidfile "$tmp/docker.pid" \
    --cgroup-parent "$cgparent" \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
    --userland-proxy=false \
    --add-runtime "berth=$runtime" \
    >"$tmp/dockerd.log" 2>&1 &
dockerd_pid=$!
for i in $(seq 600); do
    d version >/dev/null 2>&1 && break
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
        reason=$(grep -E 'level=(fatal|error)|failed to start' "$tmp/dockerd.log" | tail -n 1 || true)
        echo "SKIP: dockerd cannot start on this machine: ${reason:-$(tail -n 1 "$tmp/dockerd.log")}"
        exit 77
    fi
    sleep 0.1
done
if ! d version >/dev/null 2>&1; then
    echo "SKIP: dockerd did not answer on $tmp/docker.sock within 60 s: $(tail -n 1 "$tmp/dockerd.log")"
    exit 77
fi
pass "dockerd $(d version -f '{{.Server.Version}}') up on $tmp/docker.sock"
d info -f '{{json .Runtimes}}' | jq -e --arg p "$runtime" '.berth.path == $p' >/dev/null \
    || die "docker info does not list runtime berth=$runtime: $(d info -f '{{json .Runtimes}}')"
pass "docker info lists runtime berth -> $runtime"

d load -i "$tmp/image/busybox.tar" >/dev/null
d image inspect busybox:latest >/dev/null
pass "docker load of the docker-archive: busybox:latest"

run=(run --runtime berth --network none)

# --- run --rm: stdout and exit codes -----------------------------------------------
out=$(d "${run[@]}" --rm busybox echo hello)
expect_eq "docker run --rm --runtime berth busybox echo hello" "$out" hello
expect_eq "docker run exit status of the container's init" "$(runs_rc d "${run[@]}" --rm busybox sh -c 'exit 3')" 3
# dockerd turns the runtime's create error into 127 / 126 by its wording, as
# runc words it ("executable file not found", "no such file or directory",
# "permission denied").
expect_eq "docker run of a command not on PATH exits 127" \
    "$(runs_rc d "${run[@]}" --rm busybox no-such-command)" 127
expect_eq "docker run of a missing path exits 127" \
    "$(runs_rc d "${run[@]}" --rm busybox /no/such/binary)" 127
expect_eq "docker run of a non-executable exits 126" \
    "$(runs_rc d "${run[@]}" --rm busybox /etc/passwd)" 126
[[ -z $(d ps -aq) ]] || die "containers left after run --rm: $(d ps -a)"

# --- run -d and the container's life ------------------------------------------------
cid=$(d "${run[@]}" -d --name "berth-sleep-$tag" busybox sleep 1000)
expect_eq "docker run -d: running" "$(d inspect -f '{{.State.Status}}' "$cid")" running
expect_eq "container's runtime" "$(d inspect -f '{{.HostConfig.Runtime}}' "$cid")" berth
pid=$(d inspect -f '{{.State.Pid}}' "$cid")
expect_eq "init on the host is sleep 1000" "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 "

# Where did the runtime keep its state? dockerd passes --root to the shim.
state_dir=$(find "$tmp/exec" -mindepth 2 -maxdepth 4 -type d -name "$cid" -path '*/runtime-*' | head -n 1)
[[ -n $state_dir ]] || die "no runtime state dir for $cid under $tmp/exec: $(find "$tmp/exec" -maxdepth 3 -type d)"
rtroot=$(dirname -- "$state_dir")
pass "runtime state for the container in $state_dir"
"$runtime" --root "$rtroot" list | awk 'NR > 1 {print $1}' | grep -qx "$cid" \
    || die "$runtime --root $rtroot list lacks $cid: $("$runtime" --root "$rtroot" list 2>&1)"
pass "$runtime --root $rtroot list shows the container"
expect_eq "$runtime state: pid is docker's State.Pid" \
    "$("$runtime" --root "$rtroot" state "$cid" | jq -r .pid)" "$pid"
for f in /run/runc/"$cid" /run/runc/moby/"$cid" /run/docker/runtime-runc/moby/"$cid" \
    /run/containerd/runc/moby/"$cid"; do
    [[ ! -e $f ]] || die "runc's default root has the container: $f"
done
pass "runc's default roots know nothing of the container"

expect_eq "docker exec hostname is the short id" "$(d exec "$cid" hostname)" "${cid:0:12}"
expect_eq "docker exec exit status" "$(runs_rc d exec "$cid" sh -c 'exit 7')" 7
# docker 20.10 answers 126 for any exec that fails to start.
expect_eq "docker exec of a command not on PATH exits 126" "$(runs_rc d exec "$cid" no-such-command)" 126
expect_eq "docker exec of a non-executable exits 126" "$(runs_rc d exec "$cid" /etc/passwd)" 126
out=$("$here/run_in_pty.py" 60 "$docker_bin" -H "unix://$tmp/docker.sock" exec -it "$cid" \
    sh -c 'tty; test -t 0 && echo isatty' </dev/null | tr -cd '[:print:]\n')
[[ $out == *"/dev/pts/"* && $out == *isatty* ]] || die "docker exec -it: $(printf %q "$out"), want a /dev/pts tty"
pass "docker exec -it gets a pty: $(echo $out)"
d top "$cid" | grep -q 'sleep 1000' || die "docker top lacks sleep 1000: $(d top "$cid")"
pass "docker top"
expect_eq "docker stats: pids" "$(d stats --no-stream --format '{{.PIDs}}' "$cid")" 1

d pause "$cid" >/dev/null
expect_eq "docker pause: status" "$(d inspect -f '{{.State.Status}}' "$cid")" paused
expect_eq "$runtime state after pause" "$("$runtime" --root "$rtroot" state "$cid" | jq -r .status)" paused
d unpause "$cid" >/dev/null
expect_eq "docker unpause: status" "$(d inspect -f '{{.State.Status}}' "$cid")" running
expect_eq "$runtime state after unpause" "$("$runtime" --root "$rtroot" state "$cid" | jq -r .status)" running
expect_eq "docker exec after unpause" "$(d exec "$cid" echo alive)" alive

# sleep as pid 1 ignores SIGTERM: stop escalates to SIGKILL.
d stop -t 1 "$cid" >/dev/null
expect_eq "docker stop: status" "$(d inspect -f '{{.State.Status}}' "$cid")" exited
expect_eq "docker stop: exit code" "$(d inspect -f '{{.State.ExitCode}}' "$cid")" 137
[[ ! -e /proc/$pid ]] || die "init $pid still exists after docker stop"
[[ ! -e $state_dir ]] || die "$state_dir still exists after docker stop"

# A stopped container starts again (a new create/start on the same id).
d start "$cid" >/dev/null
expect_eq "docker start again: status" "$(d inspect -f '{{.State.Status}}' "$cid")" running
[[ -d $state_dir ]] || die "no $state_dir after docker start"
d kill "$cid" >/dev/null
d wait "$cid" >/dev/null
d rm "$cid" >/dev/null
[[ ! -e $state_dir ]] || die "$state_dir still exists after docker rm"
! "$runtime" --root "$rtroot" list 2>/dev/null | awk 'NR > 1 {print $1}' | grep -qx "$cid" \
    || die "$runtime list still shows the container after docker rm"
pass "docker stop, start, kill, rm: runtime state gone"
for f in /sys/fs/cgroup/*"$cgparent"/"$cid"; do
    [[ ! -d $f ]] || die "cgroup $f left after docker rm"
done
pass "no cgroup left for the container"
