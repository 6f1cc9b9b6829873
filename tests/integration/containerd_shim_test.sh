#!/usr/bin/env bash
# Usage: tests/integration/containerd_shim_test.sh RUNTIME_BINARY [SHIM_BINARY]
#
# Drives RUNTIME_BINARY (berth-oci, runc or crun) through a containerd shim, as
# ctr drives it: image import, run --rm (stdout, exit code, tty), run -d, task
# exec, task ps, task pause/resume, task kill, task delete, containers delete.
#
# Without SHIM_BINARY the shim is containerd's runc shim (io.containerd.runc.v2):
# RUNTIME must be a drop-in for runc. containerd 1.6 hands that shim runtime
# options (BinaryName, Root) only from the client outside CRI, so ctr passes
# them: `ctr run --runc-binary RUNTIME --runc-root ROOT`.
# With SHIM_BINARY (containerd-shim-berth-v2) the shim is ours, runtime
# io.containerd.berth.v2 (containerd finds it on PATH), and the options reach
# it as CRI would send them: `ctr run --runtime-config-path` naming a TOML file
# with BinaryName and Root.
#
# A private containerd (Debian's 1.6) runs with root, state, sockets and opt dir
# under one mktemp -d directory; CRI and the other plugins that would reach the
# network or the host's /opt are disabled. The test checks that RUNTIME's --root
# really holds the container while it runs, and that the default roots do not.
#
# Cleans up on exit, even on failure: tasks, containers, containerd and its
# shims, mounts under the temp dir, the temp dir; then checks that no process
# of the test is left. Needs root, containerd, ctr, skopeo, umoci, jq,
# busybox-static. Offline.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || -z $1 ]]; then
    echo "usage: $0 RUNTIME_BINARY [SHIM_BINARY]" >&2
    exit 2
fi
shim_binary=
if [[ $# -eq 2 ]]; then
    shim_binary=$(readlink -f -- "$2")
    [[ -x $shim_binary ]] || { echo "FAIL: shim binary not found: $2" >&2; exit 2; }
fi
runtime=$(command -v -- "$1") || { echo "FAIL: runtime binary not found: $1" >&2; exit 2; }
runtime=$(readlink -f -- "$runtime")
if [[ $(id -u) -ne 0 ]]; then
    echo "FAIL: must run as root" >&2
    exit 2
fi

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
fixtures=$(cd -- "$here/../fixtures" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-ctrd-test.XXXXXX")
sock=$tmp/containerd.sock
ns=berth-test
rtroot=$tmp/berth-oci-root
nsroot=$rtroot/$ns # the shim runs RUNTIME --root ROOT/NAMESPACE
image=docker.io/library/busybox:latest
tag=$$-$RANDOM
containerd_pid=
ids=() # every container id this test creates
start=$SECONDS

log() { echo "== $*"; }
pass() { echo "ok: $*"; }
die() {
    echo "FAIL: $*" >&2
    exit 1
}

# ctr against the private containerd, never hanging forever.
c() { timeout 60 ctr -a "$sock" -n "$ns" "$@"; }
# The shim and the runtime options it must get; ctr sends them with the container.
if [[ -z $shim_binary ]]; then
    shim_name="containerd's runc shim"
    runc_opts=(--runc-binary "$runtime" --runc-root "$rtroot" --fifo-dir "$tmp/fifo")
else
    shim_name="containerd-shim-berth-v2"
    printf 'BinaryName = "%s"\nRoot = "%s"\n' "$runtime" "$rtroot" >"$tmp/runtime.toml"
    runc_opts=(--runtime io.containerd.berth.v2 --runtime-config-path "$tmp/runtime.toml"
               --fifo-dir "$tmp/fifo")
fi

# pids_of_test: every process (but this shell and its children) whose command
# line or cwd mentions the temp dir: containerd, its shims, leftovers.
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

cleanup() {
    local rc=$? id p mnt i
    trap - EXIT ERR
    set +e
    if [[ -n $containerd_pid ]] && kill -0 "$containerd_pid" 2>/dev/null; then
        for id in $(c tasks ls -q 2>/dev/null); do
            c tasks kill -s KILL "$id" >/dev/null 2>&1
        done
        for id in $(c tasks ls -q 2>/dev/null); do
            for i in $(seq 50); do
                c tasks ls 2>/dev/null | awk -v id="$id" '$1 == id {print $3}' | grep -qx STOPPED && break
                sleep 0.1
            done
            c tasks delete -f "$id" >/dev/null 2>&1
        done
        for id in $(c containers ls -q 2>/dev/null); do
            c containers delete "$id" >/dev/null 2>&1
        done
    fi
    # Whatever the shims did not delete, the runtime deletes (kills) itself.
    if [[ -d $nsroot ]]; then
        for id in $("$runtime" --root "$nsroot" list -q 2>/dev/null); do
            echo "cleanup: $runtime delete --force $id" >&2
            "$runtime" --root "$nsroot" delete --force "$id" >/dev/null 2>&1
        done
    fi
    if [[ -n $containerd_pid ]]; then
        kill -TERM "$containerd_pid" 2>/dev/null
        for i in $(seq 100); do
            kill -0 "$containerd_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$containerd_pid" 2>/dev/null
        wait "$containerd_pid" 2>/dev/null
    fi
    # Shims outlive containerd by design; ours name our socket on their command line.
    for p in $(pids_of_test); do
        kill -KILL "$p" 2>/dev/null
    done
    sleep 0.2
    # Mounts under the temp dir (overlay rootfs, shm), deepest first.
    while read -r mnt; do
        umount -R "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    done < <(awk -v d="$tmp/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    if awk -v d="$tmp/" 'index($5, d) == 1 {f = 1} END {exit !f}' /proc/self/mountinfo; then
        echo "FAIL: mounts left under $tmp" >&2
        rc=1
    fi
    rm -rf -- "$tmp"
    # ctr's default cgroup path is /NAMESPACE/ID; the runtime removes ID, we remove
    # the namespace's directory when it is empty (another run may still use it).
    for id in "${ids[@]}"; do
        for i in /sys/fs/cgroup/*/"$ns"/"$id" /sys/fs/cgroup/"$ns"/"$id"; do
            [[ -d $i ]] && { echo "cleanup: cgroup left behind: $i" >&2; rmdir "$i" 2>/dev/null; }
        done
    done
    for i in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns"; do
        [[ -d $i ]] && rmdir "$i" 2>/dev/null
    done
    p=$(pids_of_test)
    if [[ -n $p ]]; then
        echo "FAIL: processes of the test left behind:" >&2
        for i in $p; do echo "  $i: $(tr '\0' ' ' <"/proc/$i/cmdline" 2>/dev/null)" >&2; done
        rc=1
    fi
    if [[ $rc -ne 0 && -n ${containerd_log_tail:-} ]]; then
        echo "--- containerd log (tail) ---" >&2
        echo "$containerd_log_tail" >&2
    fi
    if [[ $rc -eq 0 ]]; then
        echo "PASS: $shim_name drives $runtime ($((SECONDS - start)) s)"
    else
        echo "FAIL: $shim_name with $runtime (exit $rc, $((SECONDS - start)) s)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
trap 'containerd_log_tail=$(tail -n 40 "$tmp/containerd.log" 2>/dev/null); echo "FAIL: aborted at line $LINENO: $BASH_COMMAND" >&2' ERR

# task_status ID: the STATUS column of `ctr task ls` for ID.
task_status() { c tasks ls | awk -v id="$1" '$1 == id {print $3}'; }
task_pid() { c tasks ls | awk -v id="$1" '$1 == id {print $2}'; }
# wait_status ID STATUS
wait_status() {
    local i
    for i in $(seq 100); do
        [[ $(task_status "$1") == "$2" ]] && return 0
        sleep 0.1
    done
    die "task $1: status $(task_status "$1"), want $2"
}
# expect_eq WHAT GOT WANT
expect_eq() {
    [[ $2 == "$3" ]] || die "$1: got $(printf %q "$2"), want $(printf %q "$3")"
    pass "$1"
}
# runtime_state ID FIELD: a field of `RUNTIME --root NSROOT state ID`.
runtime_state() { "$runtime" --root "$nsroot" state "$1" | jq -r ".$2"; }

# --- containerd ----------------------------------------------------------------
log "runtime: $runtime; shim: ${shim_binary:-io.containerd.runc.v2}; temp dir: $tmp"
"$fixtures/busybox-image.sh" "$tmp/image" >/dev/null

cat >"$tmp/config.toml" <<EOF
version = 2
root = "$tmp/root"
state = "$tmp/state"
# No CRI (it would want CNI and registries), nothing reaching the network, no
# snapshotter this host cannot run.
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  address = "$tmp/debug.sock"
  level = "debug"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$tmp/opt"
EOF

shim_path=$PATH
[[ -z $shim_binary ]] || shim_path=$(dirname "$shim_binary"):$PATH
start_containerd() {
    PATH=$shim_path containerd --config "$tmp/config.toml" >>"$tmp/containerd.log" 2>&1 &
    containerd_pid=$!
    for i in $(seq 100); do
        ctr -a "$sock" version >/dev/null 2>&1 && break
        kill -0 "$containerd_pid" 2>/dev/null || die "containerd exited: $(tail -n 20 "$tmp/containerd.log")"
        sleep 0.1
    done
    ctr -a "$sock" version >/dev/null || die "containerd did not answer on $sock"
}
start_containerd
pass "containerd $(containerd --version | awk '{print $3}') up on $sock"
if c plugins ls | grep -q 'io.containerd.grpc.v1.cri'; then
    c plugins ls | grep -q 'io.containerd.grpc.v1.cri.*skip' || die "CRI plugin is not disabled"
fi

# --- image -----------------------------------------------------------------------
c images import "$tmp/image/busybox.tar" >/dev/null
c images ls -q | grep -qx "$image" || die "image $image not imported: $(c images ls -q)"
pass "ctr images import of the docker-archive: $image"

# --- run --rm: stdout, exit code, tty --------------------------------------------
id=berth-echo-$tag
ids+=("$id")
out=$(c run --rm "${runc_opts[@]}" "$image" "$id" echo hello </dev/null)
expect_eq "ctr run --rm echo hello prints hello" "$out" hello

id=berth-exit-$tag
ids+=("$id")
rc=0
c run --rm "${runc_opts[@]}" "$image" "$id" sh -c 'exit 3' </dev/null || rc=$?
expect_eq "ctr run --rm exit status of the container's init" "$rc" 3

# A process that cannot start: ctr fails with the runtime's own error, which
# the shim reads from the runtime's --log file (--log-format json).
id=berth-noexec-$tag
ids+=("$id")
rc=0
err=$(c run --rm "${runc_opts[@]}" "$image" "$id" /no/such/binary 2>&1 </dev/null) || rc=$?
[[ $rc -ne 0 ]] || die "ctr run of a missing binary succeeded"
[[ $err == *"/no/such/binary"* ]] || die "ctr run of a missing binary: error does not name it: $err"
pass "ctr run of a missing binary fails with the runtime's error: $(echo "$err" | tail -n1 | cut -c1-200)"
c containers delete "$id" >/dev/null 2>&1 || true
[[ -z $("$runtime" --root "$nsroot" list -q 2>/dev/null) ]] \
    || die "$runtime still lists containers after a failed create: $("$runtime" --root "$nsroot" list)"
pass "no container left in $runtime's root after the failed create"

id=berth-tty-$tag
ids+=("$id")
# ctr -t needs a terminal on its side: run_in_pty.py gives it one; the shim hands
# the runtime a --console-socket and relays the pty.
# ctr passes its terminal's size on (ResizePty): the container's pty has it.
out=$(RUN_IN_PTY_SIZE=50x132 "$here/run_in_pty.py" 60 ctr -a "$sock" -n "$ns" run --rm -t "${runc_opts[@]}" \
    "$image" "$id" sh -c 'tty; test -t 1 && echo isatty; sleep 0.5; stty size' </dev/null | tr -cd '[:print:]\n')
[[ $out == *"/dev/pts/0"* && $out == *isatty* ]] || die "ctr run -t: tty output $(printf %q "$out"), want /dev/pts/0"
pass "ctr run -t gets a pty (console socket): $(echo $out)"
[[ $out == *"50 132"* ]] || die "ctr run -t: the container's terminal size is not 50 132: $(printf %q "$out")"
pass "ctr run -t: the terminal's size reaches the container (ResizePty)"

# --- run -d and the task lifecycle -------------------------------------------------
id=berth-sleep-$tag
ids+=("$id")
ctr -a "$sock" events >"$tmp/events.txt" 2>&1 &
events_pid=$!
sleep 0.2
c run -d "${runc_opts[@]}" "$image" "$id" sleep 1000 </dev/null >/dev/null
wait_status "$id" RUNNING
pid=$(task_pid "$id")
[[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || die "task $id pid $(printf %q "$pid") not running"
expect_eq "task $id init on the host is sleep 1000" "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 "
pass "ctr run -d: task $id RUNNING, pid $pid"

# The runtime the shim used is RUNTIME with our root, not runc's default.
[[ -f $nsroot/$id/state.json || -d $nsroot/$id ]] || die "no state for $id under $nsroot: $(ls -la "$nsroot" 2>&1)"
pass "state dir $nsroot/$id exists while the task runs"
"$runtime" --root "$nsroot" list | awk 'NR > 1 {print $1}' | grep -qx "$id" \
    || die "$runtime --root $nsroot list lacks $id: $("$runtime" --root "$nsroot" list 2>&1)"
pass "$runtime --root $nsroot list shows $id"
expect_eq "$runtime state: status" "$(runtime_state "$id" status)" running
expect_eq "$runtime state: pid is the task's pid" "$(runtime_state "$id" pid)" "$pid"
for d in /run/runc/"$ns"/"$id" /run/containerd/runc/"$ns"/"$id" /run/runc/"$id"; do
    [[ ! -e $d ]] || die "runc's default root has the container: $d"
done
pass "runc's default roots (/run/runc, /run/containerd/runc) know nothing of $id"
bundle=$tmp/state/io.containerd.runtime.v2.task/$ns/$id
[[ -f $bundle/config.json ]] || die "no bundle at $bundle"

# exec: output, exit status.
out=$(c tasks exec --fifo-dir "$tmp/fifo" --exec-id e1 "$id" cat /proc/1/cmdline </dev/null | tr '\0' ' ')
expect_eq "task exec --exec-id e1 cat /proc/1/cmdline" "$out" "sleep 1000 "
out=$(c tasks exec --fifo-dir "$tmp/fifo" --exec-id e2 "$id" sh -c 'echo "$(id -u) $PWD $PATH"' </dev/null)
expect_eq "task exec sees the image env and cwd" "$out" \
    "0 / /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
rc=0
c tasks exec --fifo-dir "$tmp/fifo" --exec-id e3 "$id" sh -c 'exit 7' </dev/null || rc=$?
expect_eq "task exec exit status" "$rc" 7
# Exec ids are reusable once the exec has exited and been deleted by ctr.
out=$(c tasks exec --fifo-dir "$tmp/fifo" --exec-id e1 "$id" echo again </dev/null)
expect_eq "task exec reusing exec id e1" "$out" again

# ps: the init pid, and a running exec process.
c tasks exec --fifo-dir "$tmp/fifo" --exec-id bg "$id" sleep 999 </dev/null >/dev/null 2>&1 &
exec_ctr=$!
for i in $(seq 100); do
    c tasks ps "$id" | awk 'NR > 1 {print $1}' | wc -l | grep -qx 2 && break
    sleep 0.1
done
ps_pids=$(c tasks ps "$id" | awk 'NR > 1 {print $1}' | sort -n | tr '\n' ' ')
echo "$ps_pids" | tr ' ' '\n' | grep -qx "$pid" || die "task ps $id lacks init pid $pid: $ps_pids"
[[ $(echo "$ps_pids" | wc -w) -eq 2 ]] || die "task ps $id: want init and the exec, got: $ps_pids"
for p in $ps_pids; do
    [[ $p == "$pid" ]] && continue
    expect_eq "task ps lists the exec process" "$(tr '\0' ' ' <"/proc/$p/cmdline")" "sleep 999 "
done
pass "task ps: $ps_pids"
# metrics come from the cgroup the shim finds for the init pid.
if ! "$runtime" events --help >/dev/null 2>&1; then
    pass "task metrics: skipped, $runtime has no events command to read them from"
else
metrics=$(c tasks metrics --format json "$id")
expect_eq "task metrics: pids.current counts init and the exec" \
    "$(echo "$metrics" | jq -r '.pids.current')" 2
echo "$metrics" | jq -e '.memory.usage.usage > 0' >/dev/null \
    || die "task metrics: no memory usage: $metrics"
pass "task metrics: memory usage $(echo "$metrics" | jq -r '.memory.usage.usage')"
fi
c tasks kill --exec-id bg -s KILL "$id" >/dev/null 2>&1 || true
wait "$exec_ctr" 2>/dev/null || true

# pause / resume.
c tasks pause "$id"
wait_status "$id" PAUSED
expect_eq "$runtime state after pause" "$(runtime_state "$id" status)" paused
freezer=$(awk -F: '$2 == "freezer" {print $3}' "/proc/$pid/cgroup")
if [[ -n $freezer && -f /sys/fs/cgroup/freezer$freezer/freezer.state ]]; then
    expect_eq "freezer cgroup of the task" "$(cat "/sys/fs/cgroup/freezer$freezer/freezer.state")" FROZEN
fi
pass "task pause: PAUSED"
c tasks resume "$id"
wait_status "$id" RUNNING
expect_eq "$runtime state after resume" "$(runtime_state "$id" status)" running
out=$(c tasks exec --fifo-dir "$tmp/fifo" --exec-id e4 "$id" echo alive </dev/null)
# stdin reaches an exec, and its end (CloseIO) reaches it too: cat exits.
out2=$(printf 'piped\n' | c tasks exec --fifo-dir "$tmp/fifo" --exec-id e6 "$id" cat)
expect_eq "task exec: stdin through the fifo, closed at its end (CloseIO)" "$out2" piped
expect_eq "task exec after resume" "$out" alive
pass "task resume: RUNNING"

# The task events, as containerd got them from the shim, in order.
sleep 0.2
kill "$events_pid" 2>/dev/null
wait "$events_pid" 2>/dev/null || true
topics=$(grep -F "$ns" "$tmp/events.txt" | grep -F "\"$id\"" | grep -o '/tasks/[a-z-]*' | tr '\n' ' ')
[[ $topics == "/tasks/create /tasks/start /tasks/exec-added /tasks/exec-started /tasks/exit "* ]] \
    || die "task events out of order: $topics"
[[ $topics == *"/tasks/exit /tasks/paused /tasks/resumed /tasks/exec-added /tasks/exec-started /tasks/exit "* ]] \
    || die "pause/resume events out of order: $topics"
pass "task events in order: $topics"

# --- over its memory limit: killed (137), and containerd hears of the OOM ---------
oom_id=berth-oom-$tag
ids+=("$oom_id")
ctr -a "$sock" events >"$tmp/oom-events.txt" 2>&1 &
events_pid=$!
sleep 0.2
rc=0
# sh holds what it reads: the largest process in the cgroup, the one the OOM killer picks.
c run --rm --memory-limit 33554432 "${runc_opts[@]}" "$image" "$oom_id" \
    sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' </dev/null >/dev/null || rc=$?
sleep 0.3
kill "$events_pid" 2>/dev/null
wait "$events_pid" 2>/dev/null || true
expect_eq "ctr run over the memory limit: exit status" "$rc" 137
grep -F "\"$oom_id\"" "$tmp/oom-events.txt" | grep -q '/tasks/oom' \
    || die "no /tasks/oom event for $oom_id: $(grep -F "$oom_id" "$tmp/oom-events.txt" | grep -o '/tasks/[a-z-]*' | tr '\n' ' ')"
pass "/tasks/oom published for $oom_id"

# --- containerd killed: the shim and the task live on; containerd comes back ------
shim_pid=
for p in /proc/[0-9]*; do
    cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
    [[ $cmd == *"-id $id "* && $cmd == *"-address $sock"* ]] && shim_pid=${p#/proc/}
done
[[ -n $shim_pid ]] || die "no shim process found for $id"
kill -KILL "$containerd_pid"
wait "$containerd_pid" 2>/dev/null || true
sleep 0.5
[[ -d /proc/$shim_pid ]] || die "the shim ($shim_pid) died with containerd"
[[ -d /proc/$pid ]] || die "the task's init ($pid) died with containerd"
start_containerd
wait_status "$id" RUNNING
expect_eq "task pid after containerd's restart" "$(task_pid "$id")" "$pid"
out=$(c tasks exec --fifo-dir "$tmp/fifo" --exec-id e5 "$id" echo reconnected </dev/null)
expect_eq "task exec after containerd's restart" "$out" reconnected
pass "containerd killed -9 and restarted: shim $shim_pid and task $pid survived and are managed again"

# kill, delete.
c tasks kill -s KILL "$id"
wait_status "$id" STOPPED
pass "task kill -s KILL: STOPPED"
c tasks delete "$id" >/dev/null
! c tasks ls -q | grep -qx "$id" || die "task $id still listed after delete"
[[ ! -e /proc/$pid ]] || die "init pid $pid still exists after task delete"
[[ ! -e $nsroot/$id ]] || die "$nsroot/$id still exists after task delete"
! "$runtime" --root "$nsroot" list 2>/dev/null | awk 'NR > 1 {print $1}' | grep -qx "$id" \
    || die "$runtime list still shows $id after task delete"
pass "task delete: gone from ctr, from $runtime's root and from /proc"
c containers delete "$id"
! c containers ls -q | grep -qx "$id" || die "container $id still listed after delete"
pass "containers delete"
for d in /sys/fs/cgroup/*/"$ns"/"$id"; do
    [[ ! -d $d ]] || die "cgroup $d left after task delete"
done
pass "no cgroup left for $id"
