#!/usr/bin/python3
"""Usage: run_in_pty.py SECONDS COMMAND [ARG...]

Runs COMMAND as the session leader and foreground process group of a fresh
pseudo-terminal (stdin, stdout and stderr are the pty's slave), copies what it
writes to our stdout, and exits with its exit status. The clients under test
(`ctr run -t`, `docker exec -it`) need a terminal on their side; script(1)
plus timeout(1) gave them one with timeout's process group in the background,
and left no trace when they hung.

RUN_IN_PTY_SIZE=ROWSxCOLS in the environment sets the terminal's window size.

If COMMAND has not exited within SECONDS, the processes of its session are
listed on stderr (pid, state, kernel wait channel, command line), the whole
session is killed, and the exit status is 124, as timeout(1) answers.
"""

import errno
import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time


def session_processes(sid):
    """(pid, state, wchan, cmdline) of every process in session SID."""
    procs = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            # fields[0] is the state, fields[3] the session id.
            if int(fields[3]) != sid:
                continue
            with open(f"/proc/{entry}/wchan") as f:
                wchan = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            procs.append((int(entry), fields[0], wchan, cmd))
        except (OSError, ValueError):
            continue
    return procs


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    deadline = time.monotonic() + float(sys.argv[1])
    argv = sys.argv[2:]

    master, slave = os.openpty()
    size = os.environ.get("RUN_IN_PTY_SIZE")  # "ROWSxCOLS": the terminal's window size
    if size:
        rows, cols = (int(n) for n in size.split("x"))
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            if slave > 2:
                os.close(slave)
            os.execvp(argv[0], argv)
        except OSError as e:
            os.write(2, f"run_in_pty: {argv[0]}: {e.strerror}\n".encode())
        os._exit(127)
    os.close(slave)

    status = None
    out = sys.stdout.buffer
    slave_open = True
    while status is None or slave_open:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if slave_open and select.select([master], [], [], min(left, 0.1))[0]:
            try:
                data = os.read(master, 65536)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""
            if data:
                out.write(data)
                out.flush()
            else:
                slave_open = False  # EIO: no process holds the slave any more
        elif not slave_open:
            time.sleep(0.05)
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        if status is not None and slave_open and not select.select([master], [], [], 0.1)[0]:
            break  # exited; what it wrote has been read

    if status is None:
        print(f"run_in_pty: {' '.join(argv)}: no exit after {sys.argv[1]} s; its session:",
              file=sys.stderr)
        for p, state, wchan, cmd in session_processes(pid):
            print(f"  {p} {state} {wchan or '-'} {cmd}", file=sys.stderr)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return 124
    os.close(master)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
