#!/usr/bin/env bash
# Usage: tests/e2e/logs_test.sh TARGET      (TARGET: dockerd or berthd)
#
# `logs` and the json-file log driver with $CLI (default build/cli/berth)
# against TARGET: 10 000 lines in order, --tail, -f, --since/--until,
# --details with the labels/env options, max-size/max-file rotation (at most
# max-file files, the newest lines kept and in order, -f followed through
# rotations), the "none" driver, and bad log options (one clear error, exit
# 125, nothing created). Against berthd also its default max-size/max-file.
# Cleans up on every exit path; 77 when the daemon cannot run here.
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib_cli_test.sh
source "$here/lib_cli_test.sh"
cli_test_begin "logs" "$@"
cli_test_setup
timeout -k 10 120 "$cli" -H "$DAEMON_HOST" pull -q "$img" >/dev/null

# wait_exited NAME: until the container has exited (30 s at most).
wait_exited() {
    local i
    for i in $(seq 300); do
        [[ $(c inspect -f '{{.State.Status}}' "$1") == exited ]] && return 0
        sleep 0.1
    done
    die "$1 did not exit"
}

# --- 10 000 lines, --tail, --since/--until ------------------------------------------
c run -d --name many --network none "$img" seq 1 10000 >/dev/null
wait_exited many
c logs many >"$tmp/many.out"
seq 1 10000 | cmp -s - "$tmp/many.out" || die "logs: not the 10 000 lines in order ($(wc -l <"$tmp/many.out") lines)"
pass "logs: 10 000 lines, all of them, in order"
expect_eq "logs --tail 5" "$(c logs --tail 5 many | tr '\n' ' ')" "9996 9997 9998 9999 10000 "
expect_eq "logs --tail 0" "$(c logs --tail 0 many | wc -l)" 0
expect_eq "logs --until in the past" "$(c logs --until 2000-01-01T00:00:00Z many | wc -l)" 0
expect_eq "logs --since in the future" "$(c logs --since 2100-01-01T00:00:00Z many | wc -l)" 0
c logs -t many >"$tmp/many.out"
first=$(head -n 1 "$tmp/many.out")
[[ $first =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ 1$ ]] || die "logs -t: first line $(printf %q "$first")"
pass "logs -t: an RFC 3339 timestamp before each line"
c rm many >/dev/null

# --- -f: lines written after the client came --------------------------------------------
c run -d --name ticker --network none "$img" sh -c 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo tick-$i; sleep 0.05; done' >/dev/null
c logs -f ticker >"$tmp/ticker.out"
expect_eq "logs -f: follows to the container's exit" "$(tail -n 1 "$tmp/ticker.out")" tick-40
expect_eq "logs -f: every line once" "$(sort -u "$tmp/ticker.out" | wc -l) $(wc -l <"$tmp/ticker.out")" "40 40"
c rm ticker >/dev/null

# --- --details: the labels and env options ------------------------------------------------
c run -d --name detailed --network none --label app=web --label other=x -e 'MODE=a b' \
    --log-opt labels=app --log-opt env=MODE "$img" echo hello >/dev/null
wait_exited detailed
expect_eq "logs --details: the attrs before the line" "$(c logs --details detailed)" "MODE=a+b,app=web hello"
expect_eq "logs without --details" "$(c logs detailed)" hello
c rm detailed >/dev/null

# --- rotation: max-size and max-file ---------------------------------------------------------
# 3000 lines of ~70 bytes of JSON each against 20 kB files: many rotations.
c run -d --name rotated --network none --log-opt max-size=20k --log-opt max-file=3 "$img" \
    sh -c 'seq 1 3000; sleep 0.5' >/dev/null
wait_exited rotated
log_path=$(c inspect -f '{{.LogPath}}' rotated)
files=$(find "$(dirname "$log_path")" -maxdepth 1 -name "$(basename "$log_path")*" | wc -l)
expect_eq "rotation: max-file=3 keeps 3 files" "$files" 3
for f in "$log_path" "$log_path.1" "$log_path.2"; do
    size=$(stat -c %s "$f")
    ((size < 21000)) || die "rotation: $f is $size bytes, want about 20 kB at most"
done
pass "rotation: every file about max-size at most"
c logs rotated >"$tmp/rotated.out"
n=$(wc -l <"$tmp/rotated.out")
((n > 200 && n < 3000)) || die "rotation: logs shows $n lines, want the newest few hundred"
seq $((3001 - n)) 3000 | cmp -s - "$tmp/rotated.out" || die "rotation: the kept lines are not the newest, in order"
pass "rotation: logs shows the newest $n lines, in order, across the 3 files"
c rm rotated >/dev/null

c run -d --name single --network none --log-opt max-size=10k --log-opt max-file=1 "$img" seq 1 3000 >/dev/null
wait_exited single
log_path=$(c inspect -f '{{.LogPath}}' single)
size=$(stat -c %s "$log_path")
((size < 11000)) || die "max-file=1: the log is $size bytes"
# dockerd 20.10 keeps a .1 file beside it all the same; berthd keeps one file.
if [[ $target == berthd ]]; then
    [[ ! -e $log_path.1 ]] || die "max-file=1: a rotated file was kept"
fi
expect_eq "max-file=1: the log is cut, its last line kept" "$(c logs --tail 1 single)" 3000
c rm single >/dev/null

# -f through rotations: every line, once, in order.
c run -d --name follow --network none --log-opt max-size=4k --log-opt max-file=10 "$img" \
    sh -c 'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo line-$i; usleep 2000; done' >/dev/null
c logs -f follow >"$tmp/follow.out"
seq 1 600 | sed 's/^/line-/' >"$tmp/follow.want"
if [[ $target == dockerd ]]; then
    # dockerd 20.10 sends some lines twice when the file rotates under a
    # follower: only that every line came, in order, is asked of it.
    uniq "$tmp/follow.out" | awk '!seen[$0]++' >"$tmp/follow.got"
else
    cp "$tmp/follow.out" "$tmp/follow.got"
fi
cmp -s "$tmp/follow.want" "$tmp/follow.got" ||
    die "logs -f through rotations: not every line once in order ($(wc -l <"$tmp/follow.out") lines)"
pass "logs -f follows the log through its rotations"
c rm follow >/dev/null

# --- the none driver; bad options ------------------------------------------------------------
c run -d --name silent --network none --log-driver none "$img" echo quiet >/dev/null
wait_exited silent
rc=$(run_rc "$tmp/out" "$tmp/err" logs silent)
expect_eq "log-driver none: logs fails" "$rc" 1
grep -q 'configured logging driver does not support reading' "$tmp/err" ||
    die "log-driver none: $(cat "$tmp/err")"
pass "log-driver none: docker's error"
c rm silent >/dev/null

before=$(c ps -aq | wc -l)
check_bad() {  # WHAT ERROR-PATTERN RUN-ARGS...
    local what=$1 pattern=$2 rc
    shift 2
    rc=$(run_rc "$tmp/out" "$tmp/err" run --network none "$@" "$img" true)
    expect_eq "$what: exit code" "$rc" 125
    grep -q -- "$pattern" "$tmp/err" || die "$what: $(cat "$tmp/err")"
    pass "$what: $(head -n 1 "$tmp/err")"
}
check_bad "unknown log opt" "unknown log opt 'colour' for json-file log driver" --log-opt colour=red
check_bad "bad max-size" "failed to initialize logging driver: invalid size: 'lots'" --log-opt max-size=lots
check_bad "max-file 0" "failed to initialize logging driver: max-file cannot be less than 1" --log-opt max-file=0
check_bad "unknown driver" 'plugin "carrier-pigeon" not found' --log-driver carrier-pigeon
# dockerd creates the container and finds a bad value at its start; berthd
# refuses it at create.
if [[ $target == berthd ]]; then
    expect_eq "bad log options create nothing" "$(c ps -aq | wc -l)" "$before"
fi

if [[ $target == berthd ]]; then
    c create --name defaults --network none "$img" true >/dev/null
    expect_eq "berthd's default log options" \
        "$(c inspect -f '{{index .HostConfig.LogConfig.Config "max-size"}} {{index .HostConfig.LogConfig.Config "max-file"}}' defaults)" "20m 5"
    c rm defaults >/dev/null
fi
pass "logs"
