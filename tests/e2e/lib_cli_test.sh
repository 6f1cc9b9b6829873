# shellcheck shell=bash
# Sourced by the CLI e2e tests (cli_walkthrough.sh, interactive_test.sh,
# logs_test.sh): the usage check, the tools they need, a temp dir, the daemon
# on a private socket (lib_cli_daemon.sh), the busybox image in a registry on
# 127.0.0.1, the cleanup on every exit path that fails the test when
# containers, mounts or processes are left, and small assertion helpers.
#
#   cli_test_begin NAME "$@"   NAME for PASS/FAIL lines; sets target, here,
#                              root, fixtures, cli, tmp, start; exits 77 (SKIP)
#                              when root or a tool is missing
#   cli_test_setup             starts the daemon and the registry, pushes
#                              busybox; sets img (registry/busybox)
#   c ARGS...                  the CLI under test on the test's daemon, bounded
#   run_rc OUT ERR ARGS...     the CLI's exit status, its output in files
#   die MSG / pass MSG / expect_eq WHAT GOT WANT / log MSG

cli_test_begin() {
    cli_test_name=$1
    shift
    if [[ $# -ne 1 || -z $1 ]]; then
        echo "usage: $0 dockerd|berthd" >&2
        exit 2
    fi
    target=$1
    here=$(cd -- "$(dirname -- "${BASH_SOURCE[1]}")" && pwd)
    root=$(cd -- "$here/../.." && pwd)
    fixtures=$root/tests/fixtures
    cli=${CLI:-$root/build/cli/berth}
    cli=$(command -v -- "$cli") || { echo "SKIP: CLI not installed: ${CLI:-$root/build/cli/berth}"; exit 77; }
    if [[ $(id -u) -ne 0 ]]; then
        echo "SKIP: needs root (starts $target)"
        exit 77
    fi
    local tool
    for tool in curl jq skopeo umoci docker-registry busybox /usr/bin/python3; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
    done
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-cli-e2e.XXXXXX")
    start=$SECONDS
    # shellcheck source=tests/e2e/lib_cli_daemon.sh
    source "$here/lib_cli_daemon.sh"
    trap cli_test_cleanup EXIT
    trap 'exit 143' TERM INT HUP
    trap 'echo "FAIL: aborted at line $LINENO: $BASH_COMMAND" >&2' ERR
}

cli_test_cleanup() {
    local rc=$? p i
    trap - EXIT ERR
    set +e
    if [[ $rc -ne 0 && $rc -ne 77 && -f $daemon_log ]]; then
        echo "--- $target log (tail) ---" >&2
        grep -v 'module=grpc' "$daemon_log" | tail -n 30 >&2
    fi
    stop_daemon
    if [[ ${daemon_leaked:-0} == 1 ]]; then
        echo "FAIL: $target left containers, mounts or cgroups behind (see LEAK above)" >&2
        rc=1
    fi
    "$fixtures/registry.sh" stop "$tmp/registry" >/dev/null 2>&1
    if awk -v d="$tmp/" 'index($5, d) == 1 {f = 1} END {exit !f}' /proc/self/mountinfo; then
        echo "FAIL: mounts left under $tmp" >&2
        rc=1
    fi
    p=$(daemon_pids)
    if [[ -n $p ]]; then
        echo "FAIL: processes of the test left behind:" >&2
        for i in $p; do echo "  $i: $(tr '\0' ' ' <"/proc/$i/cmdline" 2>/dev/null)" >&2; done
        rc=1
    fi
    rm -rf -- "$tmp"
    if [[ $rc -eq 0 ]]; then
        echo "PASS: $cli_test_name with $cli against $target ($((SECONDS - start)) s)"
    elif [[ $rc -ne 77 ]]; then
        echo "FAIL: $cli_test_name with $cli against $target (exit $rc, $((SECONDS - start)) s)" >&2
    fi
    exit "$rc"
}

cli_test_setup() {
    log "CLI: $cli; target: $target; temp dir: $tmp"
    start_daemon "$target"
    pass "$target up on $DAEMON_HOST"
    "$fixtures/busybox-image.sh" "$tmp/image" >/dev/null
    registry=$("$fixtures/registry.sh" start "$tmp/registry")
    "$fixtures/registry.sh" push "$tmp/registry" "$tmp/image/oci" busybox:latest
    img=$registry/busybox
    pass "busybox pushed to $img"
}

log() { echo "== $*"; }
pass() { echo "ok: $*"; }
die() {
    echo "FAIL: $*" >&2
    exit 1
}
expect_eq() {
    [[ $2 == "$3" ]] || die "$1: got $(printf %q "$2"), want $(printf %q "$3")"
    pass "$1"
}
c() { timeout -k 10 60 "$cli" -H "$DAEMON_HOST" "$@"; }
run_rc() {
    local out=$1 err=$2 rc=0
    shift 2
    timeout -k 10 60 "$cli" -H "$DAEMON_HOST" "$@" >"$out" 2>"$err" || rc=$?
    echo "$rc"
}
