# Sourced by tests/e2e/cli_walkthrough.sh: starts and stops the daemon the CLI
# talks to, an Engine API daemon on a private socket, with every path under
# one temp dir ($tmp, set by the caller before sourcing).
#
#   start_daemon TARGET   TARGET is dockerd or berthd; sets DAEMON_HOST
#                         (unix://…) and exits 77 ("SKIP: …") when the daemon
#                         cannot run on this machine.
#   stop_daemon           removes every container, stops the daemon and what
#                         it started; safe to call twice and on any exit path.
#   daemon_pids           every process but this shell whose command line
#                         mentions $tmp (daemon, its containerd, shims).
#
# To add a daemon, write start_daemon_NAME and stop_daemon_NAME.

DAEMON_HOST=
daemon_pid=
daemon_target=
daemon_sock=$tmp/daemon.sock
daemon_log=$tmp/daemon.log
cgparent=/berth-cli-e2e-$$-$RANDOM

# What dockerd 20.10 writes outside its roots, to undo if it was not there.
daemon_host_leftovers=()
for _f in /etc/docker/key.json /run/docker/plugins /run/docker /etc/docker; do
    [[ -e $_f ]] || daemon_host_leftovers+=("$_f")
done
# dockerd makes a "docker" cgroup in every hierarchy; removed unless it was there.
daemon_docker_cgroup_existed=0
compgen -G '/sys/fs/cgroup/*/docker' >/dev/null && daemon_docker_cgroup_existed=1
compgen -G '/sys/fs/cgroup/docker' >/dev/null && daemon_docker_cgroup_existed=1

daemon_pids() {
    local p cmd
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" || $p == "$BASHPID" ]] && continue
        cmd=$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) || continue
        [[ $cmd == *"$tmp"* ]] && echo "$p"
    done
    return 0
}

# daemon_api METHOD PATH: a raw Engine API call (for setup and cleanup, so
# they do not depend on the CLI under test).
daemon_api() {
    curl -fsS --max-time 30 --unix-socket "$daemon_sock" -X "$1" "http://localhost$2"
}

# wait_for_daemon SECONDS: until GET /_ping answers OK; 77 if the daemon died.
wait_for_daemon() {
    local i reason
    for ((i = 0; i < $1 * 10; i++)); do
        [[ $(curl -s --max-time 2 --unix-socket "$daemon_sock" http://localhost/_ping 2>/dev/null) == OK ]] &&
            return 0
        if ! kill -0 "$daemon_pid" 2>/dev/null; then
            reason=$(grep -E 'level=(fatal|error)|failed to start' "$daemon_log" | tail -n 1 || true)
            echo "SKIP: $daemon_target cannot start on this machine: ${reason:-$(tail -n 1 "$daemon_log")}"
            exit 77
        fi
        sleep 0.1
    done
    echo "SKIP: $daemon_target did not answer on $daemon_sock within $1 s: $(tail -n 1 "$daemon_log")"
    exit 77
}

start_daemon_dockerd() {
    local b
    for b in /usr/sbin/dockerd /usr/bin/containerd /usr/bin/runc; do
        if [[ ! -x $b ]]; then
            echo "SKIP: $b is not installed (Debian packages docker.io, containerd, runc)"
            exit 77
        fi
    done
    echo '{}' >"$tmp/daemon.json"
    /usr/sbin/dockerd \
        --config-file "$tmp/daemon.json" \
        -H "unix://$daemon_sock" \
        --data-root "$tmp/data" \
        --exec-root "$tmp/exec" \
        --pidfile "$tmp/daemon.pid" \
        --cgroup-parent "$cgparent" \
        --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
        --userland-proxy=false \
        >"$daemon_log" 2>&1 &
    daemon_pid=$!
    wait_for_daemon 60
}

stop_daemon_dockerd() {
    local i
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null
        for i in $(seq 300); do
            kill -0 "$daemon_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$daemon_pid" 2>/dev/null
    fi
    [[ -n $daemon_pid ]] && wait "$daemon_pid" 2>/dev/null
    return 0
}

# berthd + berth-runtimed from the build tree (tests/e2e/lib_berth_stack.sh),
# under $tmp/berth; BUILD_DIR defaults to the tree's build/.
start_daemon_berthd() {
    export BUILD_DIR=${BUILD_DIR:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)/build}
    if [[ ! -x $BUILD_DIR/engine/berthd || ! -x $BUILD_DIR/highlevel-runtime/berth-runtimed ]]; then
        echo "SKIP: berthd or berth-runtimed is not built in $BUILD_DIR"
        exit 77
    fi
    # shellcheck source=tests/e2e/lib_berth_stack.sh
    source "$(dirname -- "${BASH_SOURCE[0]}")/lib_berth_stack.sh"
    export BERTH_CGROUP_PARENT=$cgparent
    daemon_sock=$tmp/berth/berthd.sock
    daemon_log=$tmp/berth/berthd.log
    berth_stack_start "$tmp/berth" || { echo "FAIL: the berth stack did not start" >&2; exit 1; }
    daemon_pid=$(cat "$tmp/berth/berthd.pid")
}

# Sets daemon_leaked=1 when the stack had to clean up after itself.
stop_daemon_berthd() {
    berth_stack_stop "$tmp/berth" || daemon_leaked=1
    return 0
}

start_daemon() {
    daemon_target=$1
    if ! declare -F "start_daemon_$daemon_target" >/dev/null; then
        echo "FAIL: unknown daemon target: $daemon_target (dockerd or berthd)" >&2
        exit 2
    fi
    "start_daemon_$daemon_target"
    DAEMON_HOST=unix://$daemon_sock
}

stop_daemon() {
    local id p mnt i f
    [[ -n $daemon_target ]] || return 0
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        for id in $(daemon_api GET '/containers/json?all=1' 2>/dev/null | jq -r '.[].Id' 2>/dev/null); do
            daemon_api DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1
        done
    fi
    "stop_daemon_$daemon_target"
    # Shims outlive the daemons by design; anything left mentions $tmp.
    for p in $(daemon_pids); do
        kill -KILL "$p" 2>/dev/null
    done
    sleep 0.2
    while read -r mnt; do
        umount -R "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    done < <(awk -v d="$tmp/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    for i in /sys/fs/cgroup/*"$cgparent" /sys/fs/cgroup/"${cgparent#/}"; do
        [[ -d $i ]] || continue
        find "$i" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    if [[ $daemon_docker_cgroup_existed == 0 ]]; then
        rmdir /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker 2>/dev/null
    fi
    for f in "${daemon_host_leftovers[@]}"; do
        if [[ -f $f ]]; then rm -f -- "$f"; elif [[ -d $f ]]; then rmdir -- "$f" 2>/dev/null; fi
    done
    daemon_target=
    return 0
}
