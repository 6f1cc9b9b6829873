# shellcheck shell=bash
# Sourced by e2e tests: the berth stack (berth-runtimed + berthd) on private
# sockets, roots and a private cgroup parent, all under one directory.
#
#   berth_stack_start DIR   starts both daemons; sets BERTHD_SOCK, BERTH_HOST,
#                           RUNTIMED_SOCK, BERTH_CGROUP_PARENT (kept when set)
#   berth_stack_start_berthd DIR
#                           starts berthd alone (after a kill -9 of it, say)
#   berth_stack_stop DIR    removes every container through the API, stops the
#                           daemons, then kills any shim left, unmounts what is
#                           mounted under DIR, removes the cgroup parent; prints
#                           "LEAK: ..." and returns 1 when something had to be
#                           cleaned up by force or could not be.
#
# Needs BUILD_DIR (the CMake build tree) and root.

berth_stack_env() {
    local dir=$1
    RUNTIMED_SOCK=$dir/runtimed.sock
    BERTHD_SOCK=$dir/berthd.sock
    BERTH_HOST=unix://$BERTHD_SOCK
    BERTH_CGROUP_PARENT=${BERTH_CGROUP_PARENT:-/berth-e2e-$$}
    export RUNTIMED_SOCK BERTHD_SOCK BERTH_HOST BERTH_CGROUP_PARENT
}

# The shim and berth-oci come from the build tree, as an install puts them on PATH.
berth_stack_path() {
    echo "$BUILD_DIR/shim:$BUILD_DIR/lowlevel-runtime:$PATH"
}

berth_stack_start() {
    local dir=$1
    mkdir -p "$dir"/runtimed/root "$dir"/runtimed/state "$dir"/berthd/data "$dir"/berthd/exec
    berth_stack_env "$dir"
    PATH=$(berth_stack_path) setsid "$BUILD_DIR/highlevel-runtime/berth-runtimed" \
        --address "$RUNTIMED_SOCK" --root "$dir/runtimed/root" --state "$dir/runtimed/state" \
        --log-level debug >>"$dir/runtimed.log" 2>&1 </dev/null &
    echo $! >"$dir/runtimed.pid"
    berth_stack_start_berthd "$dir"
}

berth_stack_start_berthd() {
    local dir=$1
    berth_stack_env "$dir"
    PATH=$(berth_stack_path) setsid "$BUILD_DIR/engine/berthd" -H "unix://$BERTHD_SOCK" \
        --runtimed "$RUNTIMED_SOCK" --data-root "$dir/berthd/data" \
        --exec-root "$dir/berthd/exec" --pidfile "$dir/berthd/berthd.pid" \
        --cgroup-parent "$BERTH_CGROUP_PARENT" --log-level debug \
        >>"$dir/berthd.log" 2>&1 </dev/null &
    echo $! >"$dir/berthd.pid"
    local i
    for i in $(seq 100); do
        if curl -sf --unix-socket "$BERTHD_SOCK" http://d/_ping >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$(cat "$dir/berthd.pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "berthd did not come up; its log:" >&2
    tail -20 "$dir/berthd.log" "$dir/runtimed.log" >&2
    return 1
}

# Stops the process in PIDFILE: SIGTERM, then SIGKILL after 5 s.
berth_stack_stop_pid() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    local i
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    sleep 0.2
}

berth_stack_stop() {
    local dir=$1 rc=0 id p mnt cg
    berth_stack_env "$dir"
    if [[ -S ${BERTHD_SOCK:-} ]]; then
        for id in $(curl -s --max-time 10 --unix-socket "$BERTHD_SOCK" \
                        'http://d/containers/json?all=1' 2>/dev/null | jq -r '.[].Id' 2>/dev/null); do
            curl -s --max-time 40 -X DELETE --unix-socket "$BERTHD_SOCK" \
                "http://d/containers/$id?force=1" >/dev/null 2>&1
        done
    fi
    berth_stack_stop_pid "$dir/berthd.pid"
    berth_stack_stop_pid "$dir/runtimed.pid"
    # Shims whose bundle is under DIR, and what they run.
    for p in $(pgrep -f "containerd-shim-berth-v2.*$dir" 2>/dev/null); do
        echo "LEAK: shim $p still running" >&2
        rc=1
        pkill -KILL -P "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
    done
    for mnt in $(findmnt -rn -o TARGET | grep -F "$dir" | sort -r); do
        echo "LEAK: $mnt still mounted" >&2
        rc=1
        umount -l "$mnt" 2>/dev/null
    done
    # The parent is berthd's to leave; a container's cgroup under it is a leak.
    for cg in /sys/fs/cgroup/*"${BERTH_CGROUP_PARENT:-/none}"; do
        [[ -d $cg ]] || continue
        if [[ -n $(find "$cg" -mindepth 1 -type d 2>/dev/null) ]]; then
            echo "LEAK: cgroups under $cg" >&2
            rc=1
            find "$cg" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
        fi
        rmdir "$cg" 2>/dev/null || { echo "LEAK: cgroup $cg" >&2; rc=1; }
    done
    return $rc
}
