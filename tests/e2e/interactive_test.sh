#!/usr/bin/env bash
# Usage: tests/e2e/interactive_test.sh TARGET      (TARGET: dockerd or berthd)
#
# The interactive session of tests/e2e/interactive_pty.py (run -it through a
# pty: ps, hostname, resize, exec -it, ctrl-p ctrl-q, attach, start -ai, the
# terminal's mode restored) with $CLI (default build/cli/berth; CLI=/usr/bin/docker
# proves the test) against TARGET on a private socket (lib_cli_daemon.sh).
# Cleans up on every exit path; "SKIP: …" and 77 when the daemon cannot run. Needs root.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    echo "usage: $0 dockerd|berthd" >&2
    exit 2
fi
target=$1
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/../.." && pwd)
fixtures=$root/tests/fixtures
cli=${CLI:-$root/build/cli/berth}
cli=$(command -v -- "$cli") || { echo "SKIP: CLI not installed: ${CLI:-$root/build/cli/berth}"; exit 77; }
if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: needs root (starts $target)"
    exit 77
fi
for tool in curl jq skopeo umoci docker-registry busybox /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-cli-pty.XXXXXX")
start=$SECONDS
# shellcheck source=tests/e2e/lib_cli_daemon.sh
source "$here/lib_cli_daemon.sh"

cleanup() {
    local rc=$?
    trap - EXIT ERR
    set +e
    if [[ $rc -ne 0 && $rc -ne 77 && -f $daemon_log ]]; then
        echo "--- $target log (tail) ---" >&2
        grep -v 'module=grpc' "$daemon_log" | tail -n 30 >&2
    fi
    stop_daemon
    [[ ${daemon_leaked:-0} == 1 ]] && { echo "FAIL: $target left things behind" >&2; rc=1; }
    "$fixtures/registry.sh" stop "$tmp/registry" >/dev/null 2>&1
    rm -rf -- "$tmp"
    if [[ $rc -eq 0 ]]; then
        echo "PASS: interactive session with $cli against $target ($((SECONDS - start)) s)"
    elif [[ $rc -ne 77 ]]; then
        echo "FAIL: interactive session with $cli against $target (exit $rc)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

start_daemon "$target"
"$fixtures/busybox-image.sh" "$tmp/image" >/dev/null
registry=$("$fixtures/registry.sh" start "$tmp/registry")
"$fixtures/registry.sh" push "$tmp/registry" "$tmp/image/oci" busybox:latest
timeout -k 10 120 "$cli" -H "$DAEMON_HOST" pull -q "$registry/busybox" >/dev/null
timeout -k 10 180 /usr/bin/python3 "$here/interactive_pty.py" "$cli" "$DAEMON_HOST" "$registry/busybox"
