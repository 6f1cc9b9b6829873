#!/usr/bin/env bash
# Usage: tests/e2e/interactive_test.sh TARGET      (TARGET: dockerd or berthd)
#
# The interactive session of tests/e2e/interactive_pty.py (run -it through a
# pty: ps, hostname, resize, exec -it and its detach, ctrl-p ctrl-q, attach,
# start -ai, the terminal's mode restored) with $CLI (default build/cli/berth;
# CLI=/usr/bin/docker proves the test) against TARGET on a private socket.
# Cleans up on every exit path; "SKIP: …" and 77 when the daemon cannot run. Needs root.
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib_cli_test.sh
source "$here/lib_cli_test.sh"
cli_test_begin "interactive session" "$@"
cli_test_setup
timeout -k 10 120 "$cli" -H "$DAEMON_HOST" pull -q "$img" >/dev/null
timeout -k 10 180 /usr/bin/python3 "$here/interactive_pty.py" "$cli" "$DAEMON_HOST" "$img" "$target"
