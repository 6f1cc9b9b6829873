#!/usr/bin/env bash
# Usage: tests/e2e/cli_walkthrough.sh TARGET      (TARGET: dockerd or berthd)
#
# Walks a docker CLI user's first session through $CLI (default
# build/cli/berth; CLI=/usr/bin/docker proves the script itself) against an
# Engine API daemon started on a private socket (tests/e2e/lib_cli_daemon.sh):
# version, pull from a local registry, images, run -d, ps, inspect (-f and
# JSON), stop (a SIGTERM-ignoring init with -t 2, a trapping one in < 1 s),
# rm, run --rm, exit codes (3, 125 for a missing image, 125 for an unknown
# flag), ps --format/-q, images -q, and the unreachable daemon's message.
#
# Offline: busybox is built from busybox-static (tests/fixtures/busybox-image.sh)
# and pushed to a throw-away docker-registry on 127.0.0.1 (insecure by
# default). Cleans up on every exit path: containers, the daemon and its
# containerd and shims, mounts, the registry, the temp dir, the cgroup
# parent. Prints "SKIP: <reason>" and exits 77 when the daemon or a tool it
# needs is not available. Needs root.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib_cli_test.sh
source "$here/lib_cli_test.sh"
cli_test_begin "CLI walkthrough" "$@"
command -v bc >/dev/null || { echo "SKIP: bc is not installed"; exit 77; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
lt() { [[ $(echo "$1 < $2" | bc) == 1 ]]; }

# --- setup ------------------------------------------------------------------------
cli_test_setup

# --- version ------------------------------------------------------------------------
out=$(c version)
[[ $out == *"Client:"* && $out == *"Server:"* && $out == *"API version:"* ]] ||
    die "version lacks the Client and Server blocks: $out"
pass "version prints the Client and Server blocks"
[[ -n $(c version --format '{{.Server.Version}}') ]] || die "version --format '{{.Server.Version}}' is empty"
pass "version --format"

# --- pull, images -------------------------------------------------------------------
out=$(timeout -k 10 120 "$cli" -H "$DAEMON_HOST" pull "$img")
printf '%s\n' "$out" | sed 's/^/  | /'
expect_eq "pull: first line" "$(head -n 1 <<<"$out")" "Using default tag: latest"
expect_eq "pull: last line is the reference" "$(tail -n 1 <<<"$out")" "$img:latest"
grep -qE '^[0-9a-f]{12}: Pull complete$' <<<"$out" || die "pull: no '<id>: Pull complete' line"
grep -qE '^Digest: sha256:[0-9a-f]{64}$' <<<"$out" || die "pull: no Digest line"
grep -qx "Status: Downloaded newer image for $img:latest" <<<"$out" || die "pull: no Status line"
pass "pull prints docker's progress lines"

out=$(c images)
printf '%s\n' "$out" | sed 's/^/  | /'
head -n 1 <<<"$out" | grep -qE '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$' || die "images: header"
grep -qE "^$img +latest +[0-9a-f]{12} +.+ ago +[0-9.]+[kMG]?B$" <<<"$out" || die "images: no row for $img"
pass "images lists $img:latest"
image_id=$(c images -q)
[[ $image_id =~ ^[0-9a-f]{12}$ ]] || die "images -q: $(printf %q "$image_id")"
pass "images -q: $image_id"

# --- run -d, ps, inspect --------------------------------------------------------------
id=$(c run -d --name web --network none "$img" sleep 1000)
[[ $id =~ ^[0-9a-f]{64}$ ]] || die "run -d printed $(printf %q "$id"), want a 64-hex id"
pass "run -d prints the id"
out=$(c ps)
printf '%s\n' "$out" | sed 's/^/  | /'
head -n 1 <<<"$out" |
    grep -qE '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$' || die "ps: header"
grep -qE "^${id:0:12} +$img +\"sleep 1000\" +.+ ago +Up .+ +web$" <<<"$out" || die "ps: no Up row for web"
pass "ps shows web Up"
expect_eq "inspect -f '{{.State.Status}}' web" "$(c inspect -f '{{.State.Status}}' web)" running
expect_eq "inspect -f '{{.Id}}' web" "$(c inspect -f '{{.Id}}' web)" "$id"
expect_eq "inspect -f with json and join" "$(c inspect -f '{{json .Config.Cmd}} {{join .Args ","}}' web)" \
    '["sleep","1000"] 1000'
c inspect web >"$tmp/inspect.json"
jq -e --arg id "$id" 'length == 1 and .[0].Id == $id and .[0].Name == "/web"' "$tmp/inspect.json" >/dev/null ||
    die "inspect web is not a JSON array of web: $(head -c 300 "$tmp/inspect.json")"
expect_eq "inspect: indented like docker" "$(sed -n 2,3p "$tmp/inspect.json")" $'    {\n        "Id": "'"$id"'",'
pass "inspect web is valid JSON"

out=$(c ps --format '{{.ID}}\t{{.Names}}')
expect_eq "ps --format '{{.ID}}\\t{{.Names}}'" "$out" "${id:0:12}"$'\t'"web"
expect_eq "ps -q" "$(c ps -q)" "${id:0:12}"
expect_eq "ps --no-trunc -q" "$(c ps --no-trunc -q)" "$id"
out=$(c ps --format 'table {{.Names}}\t{{.State}}')
expect_eq "ps --format 'table …'" "$out" $'NAMES     STATE\nweb       running'

# --- stop -----------------------------------------------------------------------------
# busybox sleep as pid 1 ignores SIGTERM: stop waits -t 2 seconds, then kills.
t0=$(now)
expect_eq "stop -t 2 web prints the name" "$(c stop -t 2 web)" web
took=$(elapsed "$t0")
lt 1.9 "$took" || die "stop -t 2 of a SIGTERM-ignoring init took $took s, want >= 2 s"
lt "$took" 9 || die "stop -t 2 took $took s"
pass "stop -t 2 waited the timeout ($took s)"
expect_eq "stop: exit code" "$(c inspect -f '{{.State.ExitCode}}' web)" 137
grep -qE "Exited \(137\) .+ +web$" <<<"$(c ps -a)" || die "ps -a lacks 'Exited (137)' for web: $(c ps -a)"
pass "ps -a shows web Exited (137)"

c run -d --name trap --network none "$img" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
t0=$(now)
expect_eq "stop trap" "$(c stop trap)" trap
took=$(elapsed "$t0")
lt "$took" 1 || die "stop of an init that exits on SIGTERM took $took s, want < 1 s"
pass "stop of an init that exits on SIGTERM took $took s"
expect_eq "stop trap: exit code" "$(c inspect -f '{{.State.ExitCode}}' trap)" 0

# --- rm ---------------------------------------------------------------------------------
expect_eq "rm web trap" "$(c rm web trap)" $'web\ntrap'
expect_eq "ps -a has no rows" "$(c ps -a)" \
    "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES"
expect_eq "ps -aq is empty" "$(c ps -aq)" ""

# --- run: output and exit codes ----------------------------------------------------------
expect_eq "run --rm echo hi" "$(c run --rm "$img" echo hi)" hi
expect_eq "run --rm -e and stderr" "$(c run --rm -e A=1 "$img" sh -c 'echo $A; echo err >&2' 2>/dev/null)" 1
expect_eq "run -i feeds stdin" "$(echo piped | c run --rm -i "$img" cat)" piped
rc=$(run_rc "$tmp/out" "$tmp/err" run --name three "$img" sh -c 'exit 3')
expect_eq "run sh -c 'exit 3' exits 3" "$rc" 3
expect_eq "wait three" "$(c wait three)" 3
c rm three >/dev/null
expect_eq "no container left after run --rm" "$(c ps -aq)" ""

rc=$(run_rc "$tmp/out" "$tmp/err" run "$registry/nonexistent")
expect_eq "run of a missing image exits 125" "$rc" 125
grep -q "Unable to find image '$registry/nonexistent:latest' locally" "$tmp/err" ||
    die "run of a missing image: no 'Unable to find image' line: $(cat "$tmp/err")"
grep -qE '^[a-z]+: Error response from daemon: .*not found' "$tmp/err" ||
    die "run of a missing image: no error line: $(cat "$tmp/err")"
pass "run of a missing image: $(grep 'Error response' "$tmp/err")"

rc=$(run_rc "$tmp/out" "$tmp/err" run --rm "$img" no-such-command)
expect_eq "run of a command not on PATH exits 127" "$rc" 127

rc=$(run_rc "$tmp/out" "$tmp/err" run --bogus-flag "$img")
expect_eq "run with an unknown flag exits 125" "$rc" 125
grep -q '^unknown flag: --bogus-flag$' "$tmp/err" || die "unknown flag: stderr $(cat "$tmp/err")"
grep -qE "^(See|Run) '[a-z/]+ run --help'( for more information|.)$" "$tmp/err" || die "unknown flag: no See line: $(cat "$tmp/err")"
pass "unknown flag: $(head -n 1 "$tmp/err")"
rc=$(run_rc "$tmp/out" "$tmp/err" ps --bogus-flag)
expect_eq "ps with an unknown flag exits 125" "$rc" 125

rc=$(run_rc "$tmp/out" "$tmp/err" stop no-such-container)
expect_eq "stop of a missing container exits 1" "$rc" 1
grep -q '^Error response from daemon: No such container: no-such-container$' "$tmp/err" ||
    die "stop of a missing container: $(cat "$tmp/err")"
pass "stop of a missing container: $(cat "$tmp/err")"

rc=0
timeout -k 10 30 "$cli" -H "unix://$tmp/nothing.sock" ps >"$tmp/out" 2>"$tmp/err" || rc=$?
expect_eq "unreachable daemon exits 1" "$rc" 1
grep -q "Cannot connect to the .* daemon at unix://$tmp/nothing.sock" "$tmp/err" ||
    die "unreachable daemon: $(cat "$tmp/err")"
pass "unreachable daemon: $(cat "$tmp/err")"


# --- logs ---------------------------------------------------------------------------------
events_since=$(date +%s)
c run -d --name logger --network none "$img" \
    sh -c 'i=1; while [ $i -le 10000 ]; do echo line$i; i=$((i+1)); done; sleep 1; echo to-stderr >&2; sleep 1000' >/dev/null
for _ in $(seq 200); do
    grep -qx to-stderr <<<"$(c logs logger 2>&1)" && break
    sleep 0.1
done
seq -f 'line%g' 1 10000 >"$tmp/want-logs"
c logs logger >"$tmp/logs" 2>"$tmp/logs-err"
cmp -s "$tmp/logs" "$tmp/want-logs" || die "logs: not the 10000 lines in order ($(wc -l <"$tmp/logs") lines)"
expect_eq "logs: stderr on stderr" "$(cat "$tmp/logs-err")" to-stderr
pass "logs: 10000 lines in order"
expect_eq "logs --tail 6 (the last line on stderr)" "$(c logs --tail 6 logger 2>/dev/null)" "$(seq -f 'line%g' 9996 10000)"
expect_eq "logs -n 2 (stderr too)" "$(c logs -n 2 logger 2>&1)" $'line10000\nto-stderr'
expect_eq "logs --tail all" "$(c logs --tail all logger 2>/dev/null | wc -l)" 10000
line=$(c logs -t --tail 1 logger 2>&1)
[[ $line =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+Z\ to-stderr$ ]] ||
    die "logs -t: $(printf %q "$line")"
pass "logs -t: $line"
expect_eq "logs --since 1h" "$(c logs --since 1h logger 2>/dev/null | wc -l)" 10000
expect_eq "logs --until 1h (an hour ago)" "$(c logs --until 1h logger 2>&1)" ""
expect_eq "logs --since RFC 3339 in the future" \
    "$(c logs --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" logger 2>&1)" ""
expect_eq "logs --since a unix timestamp" "$(c logs --since "$events_since" logger 2>/dev/null | wc -l)" 10000
rc=$(run_rc "$tmp/out" "$tmp/err" logs --since yesterday logger)
expect_eq "logs --since yesterday exits 1" "$rc" 1
grep -q 'failed to parse value as time or duration: "yesterday"' "$tmp/err" || die "logs --since yesterday: $(cat "$tmp/err")"
rc=$(run_rc "$tmp/out" "$tmp/err" logs no-such-container)
expect_eq "logs of a missing container exits 1" "$rc" 1
grep -q 'No such container: no-such-container' "$tmp/err" || die "logs of a missing container: $(cat "$tmp/err")"

c run -d --name ticker --network none "$img" sh -c 'i=0; while :; do echo tick$i; i=$((i+1)); sleep 0.2; done' >/dev/null
sleep 0.5
before=$(c logs ticker | tail -n 1)
timeout -k 5 2 "$cli" -H "$DAEMON_HOST" logs -f ticker >"$tmp/follow" 2>&1 || true
last=$(tail -n 1 "$tmp/follow")
[[ ${last#tick} -gt ${before#tick} ]] || die "logs -f: last line $last, not after $before"
grep -qx tick0 "$tmp/follow" || die "logs -f does not start with the past lines"
pass "logs -f follows: $before -> $last"
tty_id=$(c run -d -t --name ttylog --network none "$img" sh -c 'echo on-a-tty; echo err-on-tty >&2; sleep 1000')
for _ in $(seq 50); do [[ -n $(c logs ttylog) ]] && break; sleep 0.1; done
expect_eq "logs of a tty container: raw, one stream" "$(c logs ttylog 2>/dev/null | tr -d '\r')" $'on-a-tty\nerr-on-tty'

# --- exec -----------------------------------------------------------------------------------
c run -d --name box --network none "$img" sleep 1000 >/dev/null
expect_eq "exec echo" "$(c exec box echo hi)" hi
rc=$(run_rc "$tmp/out" "$tmp/err" exec box sh -c 'exit 7')
expect_eq "exec exits with the command's code" "$rc" 7
expect_eq "exec -e" "$(c exec -e FOO=bar -e BAZ=qux box sh -c 'echo $FOO-$BAZ')" bar-qux
printf 'FROMFILE=yes\n# comment\n' >"$tmp/env-file"
expect_eq "exec --env-file" "$(c exec --env-file "$tmp/env-file" box sh -c 'echo $FROMFILE')" yes
expect_eq "exec -u 1000:1001" "$(c exec -u 1000:1001 box sh -c 'echo $(id -u):$(id -g)')" 1000:1001
expect_eq "exec -w /tmp" "$(c exec -w /tmp box pwd)" /tmp
expect_eq "exec: stderr apart" "$(c exec box sh -c 'echo out; echo err >&2' 2>/dev/null)" out
expect_eq "exec -i feeds stdin" "$(echo piped | c exec -i box cat)" piped
expect_eq "exec without -i: no stdin" "$(echo piped | c exec box cat)" ""
expect_eq "exec -d prints nothing" "$(c exec -d box sh -c 'echo done >/tmp/detached')" ""
for _ in $(seq 50); do c exec box test -e /tmp/detached && break; sleep 0.1; done
expect_eq "exec -d ran" "$(c exec box cat /tmp/detached)" done
expect_eq "exec -t: a tty" "$(c exec -t box sh -c 'test -t 1 && echo tty' | tr -d '\r')" tty
# dockerd 20.10 answers 126 (newer ones 127) and the OCI error on the stream.
rc=$(run_rc "$tmp/out" "$tmp/err" exec box no-such-binary)
[[ $rc == 126 || $rc == 127 ]] || die "exec of a command not on PATH exits $rc, want 126 or 127"
grep -q 'no-such-binary' "$tmp/out" "$tmp/err" || die "exec of a command not on PATH: no error message"
pass "exec of a command not on PATH exits $rc: $(cat "$tmp/out" "$tmp/err" | head -n 1)"
rc=$(run_rc "$tmp/out" "$tmp/err" exec box /etc)
expect_eq "exec of a directory exits 126" "$rc" 126
rc=$(run_rc "$tmp/out" "$tmp/err" exec no-such-container ls)
expect_eq "exec in a missing container exits 1" "$rc" 1
# docker 20.10 (and berth) say "Error: No such container", docker 28 "Error response from daemon: …".
grep -qE '^Error( response from daemon)?: No such container: no-such-container$' "$tmp/err" || die "exec in a missing container: $(cat "$tmp/err")"
rc=$(run_rc "$tmp/out" "$tmp/err" exec box)
expect_eq "exec without a command exits 1" "$rc" 1
grep -q 'requires at least 2 arguments' "$tmp/err" || die "exec without a command: $(cat "$tmp/err")"
pass "exec: exit codes, -e, --env-file, -u, -w, -i, -d, -t"

# --- top ------------------------------------------------------------------------------------
out=$(c top box)
printf '%s\n' "$out" | sed 's/^/  | /'
head -n 1 <<<"$out" | grep -qE '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$' || die "top: header"
grep -qE '^root +[0-9]+ +[0-9]+ .* sleep 1000$' <<<"$out" || die "top: no sleep 1000 row"
pass "top lists sleep 1000"
out=$(c top box -o pid,comm)
head -n 1 <<<"$out" | grep -qE '^PID +COMMAND$' || die "top box -o pid,comm: $(head -n 1 <<<"$out")"
pass "top with ps options"

# --- pause, unpause ------------------------------------------------------------------------
expect_eq "pause box" "$(c pause box)" box
expect_eq "paused" "$(c inspect -f '{{.State.Status}}' box)" paused
grep -qE 'Up .+ \(Paused\) +box$' <<<"$(c ps)" || die "ps does not show box (Paused): $(c ps)"
rc=$(run_rc "$tmp/out" "$tmp/err" exec box true)
expect_eq "exec in a paused container exits 1" "$rc" 1
grep -qi 'paused' "$tmp/err" || die "exec in a paused container: $(cat "$tmp/err")"
rc=$(run_rc "$tmp/out" "$tmp/err" pause box)
expect_eq "pause of a paused container exits 1" "$rc" 1
expect_eq "unpause box" "$(c unpause box)" box
expect_eq "running again" "$(c inspect -f '{{.State.Status}}' box)" running
rc=$(run_rc "$tmp/out" "$tmp/err" unpause no-such-container)
expect_eq "unpause of a missing container exits 1" "$rc" 1

# --- rename ---------------------------------------------------------------------------------
expect_eq "rename box box2 prints nothing" "$(c rename box box2)" ""
expect_eq "renamed" "$(c inspect -f '{{.Name}}' box2)" /box2
rc=$(run_rc "$tmp/out" "$tmp/err" rename box2 logger)
expect_eq "rename to a name in use exits 1" "$rc" 1
grep -q 'Error response from daemon: .*logger.*' "$tmp/err" || die "rename to a name in use: $(cat "$tmp/err")"
rc=$(run_rc "$tmp/out" "$tmp/err" rename box2)
expect_eq "rename with one argument exits 1" "$rc" 1

# --- stats ---------------------------------------------------------------------------------
out=$(c stats --no-stream box2)
printf '%s\n' "$out" | sed 's/^/  | /'
head -n 1 <<<"$out" |
    grep -qE '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$' || die "stats: header"
grep -qE '^[0-9a-f]{12} +box2 +[0-9.]+% +[0-9.]+[KMGT]?i?B / [0-9.]+[KMGT]?i?B +[0-9.]+% +.+ / .+ +.+ / .+ +1$' <<<"$out" ||
    die "stats: no row for box2"
pass "stats --no-stream"
expect_eq "stats --format" "$(c stats --no-stream --format '{{.Name}} {{.PIDs}}' box2)" "box2 1"

# --- sig-proxy: a signal to the attached client reaches the container ------------------------
"$cli" -H "$DAEMON_HOST" run --name trapper --network none "$img" \
    sh -c 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.1; done' >"$tmp/trap.out" 2>&1 &
client=$!
for _ in $(seq 200); do
    grep -q ready "$tmp/trap.out" && break
    sleep 0.1
done
grep -q ready "$tmp/trap.out" || { kill -9 "$client"; die "sig-proxy: the container never said ready"; }
kill -USR1 "$client"
rc=0
wait "$client" || rc=$?
expect_eq "sig-proxy: SIGUSR1 to the client runs the container's trap" "$(grep -c got-usr1 "$tmp/trap.out")" 1
expect_eq "sig-proxy: the client exits with the container's code" "$rc" 7
c rm trapper >/dev/null

# --- attach ---------------------------------------------------------------------------------
c run -d -i --name reader --network none "$img" sh -c 'read x; echo got $x; exit 4' >/dev/null
rc=0
# stdin stays open until the output is in: dockerd drops what the container
# writes after the attached stdin is closed if it exits right away.
out=$({ echo hello; sleep 2; } | timeout -k 10 60 "$cli" -H "$DAEMON_HOST" attach reader) || rc=$?
expect_eq "attach: stdin in, output out" "$out" "got hello"
expect_eq "attach: the container's exit code" "$rc" 4
rc=$(run_rc "$tmp/out" "$tmp/err" attach reader)
expect_eq "attach to a stopped container exits 1" "$rc" 1
grep -qi 'cannot attach to a stopped container, start it first' "$tmp/err" || die "attach to a stopped container: $(cat "$tmp/err")"
c run -d --name talker --network none "$img" sh -c 'sleep 1; echo talking; echo err-talk >&2; exit 2' >/dev/null
rc=0
out=$(timeout -k 10 60 "$cli" -H "$DAEMON_HOST" attach --no-stdin talker 2>"$tmp/err") || rc=$?
expect_eq "attach --no-stdin: output" "$out" talking
expect_eq "attach --no-stdin: stderr" "$(cat "$tmp/err")" err-talk
expect_eq "attach --no-stdin: exit code" "$rc" 2

# --- events --------------------------------------------------------------------------------
events_until=$(date +%s)
out=$(c events --since "$events_since" --until "$events_until" --filter container=logger)
printf '%s\n' "$out" | head -n 3 | sed 's/^/  | /'
logger_id=$(c inspect -f '{{.Id}}' logger)
grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2}) container create $logger_id \(image=$img, name=logger\)$" <<<"$out" ||
    die "events: no create line for logger"
grep -qE " container start $logger_id \(image=$img, name=logger\)$" <<<"$out" || die "events: no start line for logger"
pass "events --since/--until/--filter"
expect_eq "events --format" \
    "$(c events --since "$events_since" --until "$events_until" --filter container=logger --filter event=start --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}')" \
    "container start logger"

for n in logger ticker ttylog box2 reader talker; do c rm -f "$n" >/dev/null; done
expect_eq "no container left" "$(c ps -aq)" ""
