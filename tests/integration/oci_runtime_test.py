#!/usr/bin/python3
"""Integration tests of an OCI runtime's lifecycle and isolation (issue: berth-oci).

Runs real containers from the busybox fixture bundle and checks, from inside
the container and from the host, what a runc-compatible runtime must provide.
The runtime is a parameter so the same tests run against berth-oci, runc and
crun:   oci_runtime_test.py RUNTIME_BINARY [unittest args]

Every test uses its own --root, bundle and cgroup under a unique temp root and
checks at the end that no state dir, cgroup, mount or process is left behind.
"""
import datetime
import ctypes
import json
import os
import random
import select
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
RUNTIME = None  # set from argv
CGROUP_V1 = "/sys/fs/cgroup"
WORK = None     # shared temp root with the rootfs


def read(path):
    with open(path) as f:
        return f.read()


def runtime_name():
    return os.path.basename(RUNTIME)


def is_runc():
    return runtime_name() == "runc"


def is_berth():
    return runtime_name() == "berth-oci"


def is_crun():
    return runtime_name().startswith("crun")


def pid_alive(pid):
    """True while pid exists and is not a zombie (berth-oci's init is its caller's child,
    and nothing in this test reaps it)."""
    try:
        stat = read("/proc/%d/stat" % pid)
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_until(predicate, timeout=10, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


HOOK_ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]


def sh_hook(script, **extra):
    """A hook running `sh -c SCRIPT`; /bin/sh exists on the host and in the busybox rootfs."""
    hook = {"path": "/bin/sh", "args": ["sh", "-c", script], "env": HOOK_ENV}
    hook.update(extra)
    return hook


def cgroup_dirs(cgpath):
    """Every directory a cgroup path may occupy on this host's hierarchies."""
    dirs = []
    for entry in os.listdir(CGROUP_V1):
        d = os.path.join(CGROUP_V1, entry) + cgpath
        if os.path.isdir(d):
            dirs.append(d)
    return dirs


class Container:
    def __init__(self, test, args=("sh",), mutate=None, cid=None):
        self.test = test
        self.root = tempfile.mkdtemp(prefix="state-", dir=WORK)
        self.bundle = tempfile.mkdtemp(prefix="bundle-", dir=WORK)
        self.id = cid or "c%06d" % random.randrange(10**6)
        self.cgpath = "/berth-test-%d-%s" % (os.getpid(), self.id)
        self.out_path = os.path.join(self.bundle, "out")
        self.err_path = os.path.join(self.bundle, "err")
        with open(os.path.join(WORK, "base-config.json")) as f:
            config = json.load(f)
        config["root"]["path"] = os.path.join(WORK, "rootfs")
        config["process"]["args"] = list(args)
        config["linux"]["cgroupsPath"] = self.cgpath
        # A writable /tmp on the read-only rootfs.
        config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["nosuid", "nodev", "mode=1777"]})
        if mutate:
            mutate(config)
        self.config = config
        self.write_config()

    def write_config(self):
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(self.config, f)

    def rt(self, *args, check=True, stdout=None, stderr=None, timeout=30):
        cmd = [RUNTIME, "--root", self.root] + list(args)
        res = subprocess.run(cmd, stdout=stdout or subprocess.PIPE,
                             stderr=stderr or subprocess.PIPE, timeout=timeout, text=True)
        if check and res.returncode != 0:
            err = res.stderr if stderr is None else self.errors()
            self.test.fail("%s failed (%d): %s" % (" ".join(args), res.returncode, err.strip()))
        return res

    def create(self, check=True, extra=()):
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            return self.rt("create", "--bundle", self.bundle, *extra, self.id, check=check,
                           stdout=out, stderr=err)

    def state(self):
        return json.loads(self.rt("state", self.id).stdout)

    def wait_stopped(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.state()
            if st["status"] == "stopped":
                return st
            time.sleep(0.01)
        self.test.fail("container did not stop: %s" % self.state())

    def run_to_end(self):
        """create, start, wait for exit; returns stdout text."""
        self.create()
        self.rt("start", self.id)
        self.wait_stopped()
        return self.output()

    def output(self):
        with open(self.out_path) as f:
            return f.read()

    def errors(self):
        with open(self.err_path) as f:
            return f.read()

    def run(self):
        """`run` in the foreground; returns (exit code, stdout, stderr)."""
        res = self.rt("run", "--bundle", self.bundle, self.id, check=False)
        return res.returncode, res.stdout, res.stderr

    def cleanup(self):
        self.rt("delete", "--force", self.id, check=False)
        leaks = []
        if os.path.exists(os.path.join(self.root, self.id)):
            leaks.append("state dir %s" % os.path.join(self.root, self.id))
        for d in cgroup_dirs(self.cgpath):
            leaks.append("cgroup %s" % d)
            try:
                os.rmdir(d)
            except OSError:
                pass
        parent = self.cgpath
        for d in cgroup_dirs(os.path.dirname(parent)):
            try:
                os.rmdir(d)  # our per-test parent, if the runtime made it
            except OSError:
                pass
        with open("/proc/self/mountinfo") as f:
            for line in f:
                if self.bundle in line or os.path.join(WORK, "rootfs") in line.split()[4]:
                    leaks.append("mount %s" % line.split()[4])
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.bundle, ignore_errors=True)
        return leaks


class RuntimeTest(unittest.TestCase):
    def container(self, *args, **kw):
        c = Container(self, *args, **kw)
        self.addCleanup(self.check_clean, c)
        return c

    def check_clean(self, c):
        leaks = c.cleanup()
        self.assertEqual(leaks, [], "left behind")

    # --- lifecycle -------------------------------------------------------

    def test_state_transitions_created_running_stopped(self):
        c = self.container(args=("sh", "-c", "read x < /dev/zero; sleep 100"))
        c.container = c.create()
        st = c.state()
        self.assertEqual(st["status"], "created")
        self.assertEqual(st["id"], c.id)
        self.assertEqual(st["bundle"], c.bundle)
        self.assertGreater(st["pid"], 0)
        for key in ("ociVersion", "rootfs", "created"):
            self.assertIn(key, st)
        pid = st["pid"]
        c.rt("start", c.id)
        self.assertEqual(c.state()["status"], "running")
        second = c.rt("start", c.id, check=False)
        self.assertNotEqual(second.returncode, 0, "a second start must fail")
        res = c.rt("delete", c.id, check=False)
        self.assertNotEqual(res.returncode, 0, "delete of a running container must fail")
        self.assertEqual(c.state()["status"], "running")
        c.rt("kill", c.id, "KILL")
        c.wait_stopped()
        c.rt("delete", c.id)
        self.assertFalse(os.path.exists("/proc/%d/status" % pid) and
                         "zombie" not in read("/proc/%d/status" % pid))
        res = c.rt("state", c.id, check=False)
        self.assertNotEqual(res.returncode, 0)

    def test_run_container_starts_with_no_blocked_or_ignored_signals(self):
        # `run` blocks the signals it forwards, and callers often ignore SIGPIPE:
        # neither may reach the container's process.
        c = self.container(args=("grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"))
        res = subprocess.run([RUNTIME, "--root", c.root, "run", "--bundle", c.bundle, c.id],
                             capture_output=True, text=True, timeout=30,
                             preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
        self.assertEqual(res.returncode, 0, res.stderr)
        masks = dict(line.split(":\t") for line in res.stdout.strip().splitlines())
        self.assertEqual(masks, {"SigBlk": "0" * 16, "SigIgn": "0" * 16})

    def test_run_propagates_exit_code_and_output(self):
        c = self.container(args=("sh", "-c", "echo hello; exit 7"))
        code, out, _ = c.run()
        self.assertEqual(code, 7)
        self.assertEqual(out, "hello\n")

    def test_unknown_id_is_an_error(self):
        c = self.container()
        for args in (("state", "nope"), ("start", "nope"), ("kill", "nope"), ("delete", "nope")):
            res = c.rt(*args, check=False)
            self.assertNotEqual(res.returncode, 0, args)
            self.assertTrue(res.stderr.strip(), args)

    def test_an_invalid_id_is_refused_and_leaves_nothing(self):
        for bad in ("a/b", "../x"):
            c = self.container(cid=bad)
            res = c.create(check=False)
            self.assertNotEqual(res.returncode, 0, bad)
            errors = c.errors().strip()
            self.assertTrue(errors, bad)
            if is_berth():  # one logrus line, as runc writes it
                self.assertEqual(len(errors.splitlines()), 1, errors)
                self.assertIn("level=error msg=\"invalid container id \\\"%s\\\": want 1 to "
                              "1024 letters, digits, '_', '+', '-' or '.', not starting with "
                              "'.' or '-'\"" % bad, errors)
            self.assertEqual(os.listdir(c.root), [], bad)

    def test_duplicate_id_is_refused_and_the_first_container_survives(self):
        c = self.container(args=("sleep", "100"))
        c.create()
        res = c.create(check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("exist", c.errors())
        self.assertEqual(c.state()["status"], "created")

    def test_kill_by_name_and_number(self):
        c = self.container(args=("sh", "-c", "trap 'echo got-usr1' USR1; "
                                             "while true; do sleep 0.05; done"))
        c.create()
        c.rt("start", c.id)
        time.sleep(0.2)
        c.rt("kill", c.id, "USR1")
        time.sleep(0.3)
        c.rt("kill", c.id, "SIGUSR1")
        time.sleep(0.3)
        c.rt("kill", c.id, "9")
        c.wait_stopped()
        self.assertEqual(c.output().count("got-usr1"), 2)

    def test_list_shows_containers(self):
        c = self.container(args=("sleep", "100"))
        c.create()
        self.assertEqual(c.rt("list", "-q").stdout.split(), [c.id])
        listed = json.loads(c.rt("list", "--format", "json").stdout)
        self.assertEqual([x["id"] for x in listed], [c.id])
        self.assertEqual(listed[0]["status"], "created")

    def test_spec_writes_a_valid_default(self):
        c = self.container()
        d = tempfile.mkdtemp(dir=WORK)
        res = subprocess.run([RUNTIME, "spec", "--bundle", d], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        spec = json.loads(read(os.path.join(d, "config.json")))
        self.assertEqual(spec["process"]["args"], ["sh"])
        self.assertEqual(spec["root"]["path"], "rootfs")
        types = {n["type"] for n in spec["linux"]["namespaces"]}
        self.assertTrue({"pid", "mount", "ipc", "uts", "network"} <= types)
        again = subprocess.run([RUNTIME, "spec", "--bundle", d], capture_output=True, text=True)
        self.assertNotEqual(again.returncode, 0, "spec must not overwrite config.json")
        shutil.rmtree(d)

    # --- what the container sees -----------------------------------------

    def test_pid_hostname_env_cwd(self):
        def mutate(cfg):
            cfg["hostname"] = "box-under-test"
            cfg["process"]["env"].append("GREETING=hi there")
            cfg["process"]["cwd"] = "/etc"
        c = self.container(args=("sh", "-c", 'echo "$$|$(hostname)|$GREETING|$(pwd)"'),
                           mutate=mutate)
        self.assertEqual(c.run_to_end(), "1|box-under-test|hi there|/etc\n")

    def test_user_and_groups(self):
        def mutate(cfg):
            cfg["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [2000]}
        c = self.container(args=("id",), mutate=mutate)
        out = c.run_to_end()
        self.assertIn("uid=1000(berth)", out)
        self.assertIn("gid=1000(berth)", out)
        self.assertIn("2000(extra)", out)

    def test_capabilities_in_proc_status(self):
        c = self.container(args=("grep", "-E", "^Cap(Eff|Bnd|Prm)", "/proc/self/status"))
        out = c.run_to_end()
        # CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29)
        want = "%016x" % ((1 << 5) | (1 << 10) | (1 << 29))
        caps = dict(line.split(":\t") for line in out.strip().splitlines())
        self.assertEqual(caps, {"CapEff": want, "CapBnd": want, "CapPrm": want})

    def test_seccomp_denies_with_configured_errno(self):
        def mutate(cfg):
            cfg["linux"]["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                              "errnoRet": 38}]}
        c = self.container(args=("sh", "-c", "mkdir /tmp/x; echo rc=$?; touch /tmp/y && echo ok"),
                           mutate=mutate)
        out = c.run_to_end()
        self.assertIn("rc=1", out)
        self.assertIn("ok", out)
        self.assertIn("Function not implemented", c.errors())

    def test_rlimits(self):
        def mutate(cfg):
            cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256}]
        c = self.container(args=("sh", "-c", "ulimit -n; ulimit -Hn"), mutate=mutate)
        self.assertEqual(c.run_to_end(), "256\n512\n")

    def test_masked_and_readonly_paths(self):
        c = self.container(args=("sh", "-c",
                                 "wc -c < /proc/kcore; "
                                 "echo 1 > /proc/sys/kernel/domainname && echo WROTE; "
                                 "ls /sys/firmware | wc -l"))
        out = c.run_to_end().split()
        self.assertEqual(out[0], "0")
        self.assertNotIn("WROTE", out)
        self.assertEqual(out[-1], "0")
        self.assertIn("Read-only file system", c.errors())

    def test_readonly_rootfs(self):
        c = self.container(args=("sh", "-c", "touch /etc/x || echo RO"))
        self.assertEqual(c.run_to_end(), "RO\n")

    def test_memory_and_pids_limits_in_cgroup_files(self):
        def mutate(cfg):
            cfg["linux"]["resources"]["memory"] = {"limit": 64 * 1024 * 1024}
            cfg["linux"]["resources"]["pids"] = {"limit": 42}
        c = self.container(args=("sleep", "100"), mutate=mutate)
        c.create()
        mem = [d for d in cgroup_dirs(c.cgpath) if "/memory/" in d]
        pids = [d for d in cgroup_dirs(c.cgpath) if "/pids/" in d]
        self.assertEqual(len(mem), 1)
        self.assertEqual(read(mem[0] + "/memory.limit_in_bytes").strip(), str(64 * 1024 * 1024))
        self.assertEqual(read(pids[0] + "/pids.max").strip(), "42")
        init = c.state()["pid"]
        self.assertIn(str(init), read(mem[0] + "/cgroup.procs").split())

    def test_signal_reaches_the_init(self):
        c = self.container(args=("sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.05; done"))
        c.create()
        c.rt("start", c.id)
        time.sleep(0.2)
        c.rt("kill", c.id, "TERM")
        c.wait_stopped()

    def test_no_runtime_fd_leaks_into_the_container(self):
        c = self.container(args=("sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"))
        # 0 1 2, and 3 for ls' own directory handle.
        self.assertEqual(c.run_to_end().split(), ["0", "1", "2", "3"])

    def test_preserve_fds(self):
        c = self.container(args=("sh", "-c", "cat <&3"))
        r, w = os.pipe()
        os.write(w, b"through-fd-3\n")
        os.close(w)
        # stdout and stderr are files: the container keeps them open.
        with open(c.out_path, "w") as out, open(c.err_path, "w") as err:
            res = subprocess.run([RUNTIME, "--root", c.root, "create", "--bundle", c.bundle,
                                  "--preserve-fds", "1", c.id], stdout=out, stderr=err,
                                 pass_fds=(3,), preexec_fn=lambda: os.dup2(r, 3), timeout=30)
        os.close(r)
        self.assertEqual(res.returncode, 0, c.errors())
        c.rt("start", c.id)
        c.wait_stopped()
        self.assertEqual(c.output(), "through-fd-3\n")

    # --- hooks -------------------------------------------------------------

    def hook_dir(self):
        d = tempfile.mkdtemp(prefix="hooks-", dir=WORK)
        os.chmod(d, 0o755)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def test_host_hooks_get_the_state_on_stdin(self):
        out = self.hook_dir()
        phases = ("prestart", "createRuntime", "poststart", "poststop")

        def mutate(cfg):
            cfg["hooks"] = {p: [sh_hook("cat > %s/%s.json" % (out, p))] for p in phases}
        c = self.container(args=("sleep", "100"), mutate=mutate)

        def hook_state(phase):
            path = os.path.join(out, phase + ".json")
            return json.loads(read(path)) if os.path.exists(path) else None

        c.create()
        pid = c.state()["pid"]
        self.assertIsNotNone(hook_state("prestart"), "prestart did not run during create")
        self.assertIsNotNone(hook_state("createRuntime"), "createRuntime did not run during create")
        if not is_runc():
            # runc 1.1 runs poststart hooks at the end of `create` (fixed in runc 1.2).
            self.assertIsNone(hook_state("poststart"), "poststart ran before start")
        c.rt("start", c.id)
        # poststart runs before `start` returns (runc and crun both wait for it).
        self.assertIsNotNone(hook_state("poststart"), "poststart did not run during start")
        c.rt("kill", c.id, "KILL")
        c.wait_stopped()
        self.assertIsNone(hook_state("poststop"), "poststop ran before delete")
        c.rt("delete", c.id)
        self.assertIsNotNone(hook_state("poststop"), "poststop did not run during delete")

        want_status = {"prestart": {"creating"}, "createRuntime": {"creating"},
                       "poststart": {"running"}, "poststop": {"stopped"}}
        if is_runc():  # runc 1.1: poststart at the end of create, status "created"
            want_status["poststart"].add("created")
        if is_crun():  # crun 1.8 reports "created" to prestart and createRuntime
            want_status["prestart"].add("created")
            want_status["createRuntime"].add("created")
        for phase in phases:
            with self.subTest(phase=phase):
                st = hook_state(phase)
                self.assertEqual(st["id"], c.id)
                self.assertEqual(st["bundle"], c.bundle)
                self.assertIn(st["status"], want_status[phase])
                self.assertIsInstance(st["ociVersion"], str)
                if phase != "poststop":  # pid is optional once stopped
                    self.assertEqual(st["pid"], pid)

    def test_container_hooks_run_in_the_container_mount_namespace(self):
        out = self.hook_dir()
        with open(os.path.join(out, ".here"), "w"):
            pass
        rootfs = os.path.join(WORK, "rootfs")
        # createContainer runs before pivot_root (the container's mounts sit under the
        # rootfs path), startContainer after it: the hook looks for the bind mount of
        # `out` at both places. Either exists only in the container's mount namespace;
        # on the host, /hookout does not exist and ROOTFS/hookout is an empty directory.
        def hook(phase):
            return sh_hook('for d in /hookout %s/hookout; do '
                           '  if [ -e $d/.here ]; then '
                           '    readlink /proc/self/ns/mnt > $d/%s.mnt; exec cat > $d/%s.json; '
                           '  fi; '
                           'done; echo "no /hookout: not in the container mount namespace"; '
                           'exit 1' % (rootfs, phase, phase))

        def mutate(cfg):
            cfg["mounts"].append({"destination": "/hookout", "type": "bind", "source": out,
                                  "options": ["rbind", "rw"]})
            cfg["hooks"] = {"createContainer": [hook("createContainer")],
                            "startContainer": [hook("startContainer")]}
        c = self.container(args=("sleep", "100"), mutate=mutate)
        c.create()
        pid = c.state()["pid"]
        container_mnt = os.readlink("/proc/%d/ns/mnt" % pid)
        self.assertNotEqual(container_mnt, os.readlink("/proc/self/ns/mnt"))
        self.assertFalse(os.path.exists(os.path.join(out, "startContainer.json")),
                         "startContainer ran before start")
        c.rt("start", c.id)
        # startContainer runs in the init after `start` released it: poll.
        # `cat > file` creates the file before it writes: wait for whole JSON.
        def written():
            try:
                json.loads(read(os.path.join(out, "startContainer.json")))
                return True
            except (OSError, ValueError):
                return False
        wait_until(written, timeout=5)
        for phase in ("createContainer", "startContainer"):
            with self.subTest(phase=phase):
                self.assertEqual(read(os.path.join(out, phase + ".mnt")).strip(), container_mnt)
                st = json.loads(read(os.path.join(out, phase + ".json")))
                self.assertEqual(st["id"], c.id)
                if not (is_crun() and phase == "startContainer"):
                    # crun 1.8 passes "bundle": "/" to startContainer hooks.
                    self.assertEqual(st["bundle"], c.bundle)
                # runc gives these hooks the pid inside the container's pid namespace
                # and status creating/created, crun "starting" to startContainer; only
                # the type is common ground.
                self.assertIsInstance(st["pid"], int)
                self.assertIn(st["status"], ("creating", "created", "running", "starting"))
        self.assertEqual(c.state()["status"], "running")

    def test_failing_hook_fails_create_and_leaves_nothing(self):
        for phase in ("prestart", "createRuntime", "createContainer"):
            with self.subTest(phase=phase):
                out = self.hook_dir()
                pidfile = os.path.join(out, "state.json")
                if phase == "createContainer":  # runs in the container: no host path
                    hook = sh_hook("echo hook-says-no; exit 3")
                else:
                    hook = sh_hook("cat > %s; echo hook-says-no; exit 3" % pidfile)
                c = self.container(args=("sleep", "100"),
                                   mutate=lambda cfg: cfg.update(hooks={phase: [hook]}))
                self.assert_refused(c, c.create(check=False))
                if phase != "createContainer":
                    pid = json.loads(read(pidfile))["pid"]
                    self.assertTrue(wait_until(lambda: not pid_alive(pid), timeout=3),
                                    "container init %d survived the failed create" % pid)

    def test_hook_timeout_kills_the_hook_and_fails_create(self):
        out = self.hook_dir()
        pidfile = os.path.join(out, "hook.pid")
        hook = sh_hook("echo $$ > %s; exec sleep 30" % pidfile, timeout=1)
        c = self.container(args=("sleep", "100"),
                           mutate=lambda cfg: cfg.update(hooks={"prestart": [hook]}))
        began = time.time()
        res = c.create(check=False)
        elapsed = time.time() - began
        self.assert_refused(c, res)
        self.assertLess(elapsed, 10, "create took %.1fs with a 1s hook timeout" % elapsed)
        hook_pid = int(read(pidfile))
        self.assertTrue(wait_until(lambda: not pid_alive(hook_pid), timeout=3),
                        "the timed-out hook %d is still running" % hook_pid)

    # --- terminal ------------------------------------------------------------

    def test_terminal_over_console_socket(self):
        def mutate(cfg):
            cfg["process"]["terminal"] = True
            cfg["process"]["consoleSize"] = {"height": 24, "width": 80}
        c = self.container(args=("sh", "-c", "tty; stty size"), mutate=mutate)
        path = os.path.join(c.bundle, "console.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(server.close)
        server.bind(path)
        server.listen(1)
        server.settimeout(10)
        c.create(extra=("--console-socket", path))
        conn, _ = server.accept()
        self.addCleanup(conn.close)
        conn.settimeout(10)
        _, fds, _, _ = socket.recv_fds(conn, 4096, 4)
        for fd in fds:
            self.addCleanup(os.close, fd)
        self.assertEqual(len(fds), 1, "exactly one fd, the pty master, is expected")
        master = fds[0]
        c.rt("start", c.id)
        data = b""
        deadline = time.time() + 10
        while b"24 80" not in data and time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave end is closed
                break
            if not chunk:
                break
            data += chunk
        c.wait_stopped()
        lines = data.decode(errors="replace").replace("\r", "").splitlines()
        self.assertEqual(lines[:2], ["/dev/pts/0", "24 80"], data)

    def test_terminal_without_console_socket_is_refused(self):
        c = self.container(mutate=lambda cfg: cfg["process"].update(terminal=True))
        self.assert_refused(c, c.create(check=False))

    # --- create options and namespaces ---------------------------------------

    def test_no_pivot(self):
        c = self.container(args=("sh", "-c", 'echo "$$|$(hostname)|$(grep -c ^berth: /etc/passwd)"'),
                           mutate=lambda cfg: cfg.update(hostname="no-pivot-box"))
        c.create(extra=("--no-pivot",))
        c.rt("start", c.id)
        c.wait_stopped()
        self.assertEqual(c.output(), "1|no-pivot-box|1\n", c.errors())

    def test_user_namespace_maps_root(self):
        def mutate(cfg):
            cfg["linux"]["namespaces"].append({"type": "user"})
            cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
            cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c = self.container(args=("sh", "-c", "id -u; cat /proc/self/uid_map; exec sleep 100"),
                           mutate=mutate)
        c.create()
        c.rt("start", c.id)
        self.assertTrue(wait_until(lambda: len(c.output().splitlines()) >= 2, timeout=5),
                        "no output: %s" % c.errors())
        lines = c.output().splitlines()
        self.assertEqual(lines[0], "0")
        self.assertEqual(lines[1].split(), ["0", "100000", "65536"])
        pid = c.state()["pid"]
        uid_line = [line for line in read("/proc/%d/status" % pid).splitlines()
                    if line.startswith("Uid:")][0]
        self.assertEqual(uid_line.split()[1:], ["100000"] * 4)
        c.rt("kill", c.id, "KILL")
        c.wait_stopped()

    def test_join_network_namespace_by_path(self):
        ns = "berth-test-%d-%06d" % (os.getpid(), random.randrange(10**6))
        subprocess.run(["ip", "netns", "add", ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", ns])
        # This kernel has no dummy driver: a veth pair with both ends in the namespace.
        subprocess.run(["ip", "-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d0p"],
                       check=True)
        path = "/run/netns/" + ns

        def mutate(cfg):
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                          if n["type"] != "network"]
            cfg["linux"]["namespaces"].append({"type": "network", "path": path})
        c = self.container(args=("sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net"),
                           mutate=mutate)
        out = c.run_to_end().split()
        self.assertEqual(out[0], "net:[%d]" % os.stat(path).st_ino, c.errors())
        self.assertIn("d0", out[1:])
        self.assertIn("d0p", out[1:])

    # --- kill, run --detach, delete -------------------------------------------

    def cgroup_procs(self, c):
        pids_dir = [d for d in cgroup_dirs(c.cgpath) if "/pids/" in d][0]
        return [int(p) for p in read(pids_dir + "/cgroup.procs").split()]

    def test_kill_all_kill(self):
        c = self.container(args=("sh", "-c", "sleep 100 & sleep 100 & wait"))
        c.create()
        c.rt("start", c.id)
        pids = wait_until(lambda: len(self.cgroup_procs(c)) == 3 and self.cgroup_procs(c))
        self.assertTrue(pids, "expected sh and two sleeps in the cgroup")
        c.rt("kill", "--all", c.id, "KILL")
        c.wait_stopped()
        wait_until(lambda: not any(pid_alive(p) for p in pids), timeout=3)
        self.assertEqual([p for p in pids if pid_alive(p)], [], "still alive")

    def test_kill_all_reaches_processes_besides_the_init(self):
        # The init of a pid namespace never gets a signal it has no handler for (SIGKILL
        # aside), so TERM to the init alone changes nothing: only with --all do the
        # sleeps die, `wait` returns and the shell exits on its own.
        c = self.container(args=("sh", "-c", "sleep 100 & sleep 100 & wait; echo children-gone"))
        c.create()
        c.rt("start", c.id)
        self.assertTrue(wait_until(lambda: len(self.cgroup_procs(c)) == 3))
        c.rt("kill", "--all", c.id, "TERM")
        c.wait_stopped()
        self.assertEqual(c.output(), "children-gone\n")

    def test_run_detach(self):
        c = self.container(args=("sleep", "100"))
        with open(c.out_path, "w") as out, open(c.err_path, "w") as err:
            # Files, not pipes: the detached container keeps its stdio open.
            res = c.rt("run", "--detach", "--bundle", c.bundle, c.id, check=False,
                       stdout=out, stderr=err)
        self.assertEqual(res.returncode, 0, c.errors())
        st = c.state()
        self.assertEqual(st["status"], "running")
        self.assertTrue(pid_alive(st["pid"]))
        time.sleep(0.2)
        self.assertEqual(c.state()["status"], "running")
        c.rt("kill", c.id, "KILL")
        c.wait_stopped()
        c.rt("delete", c.id)
        self.assertFalse(os.path.exists(os.path.join(c.root, c.id)))

    def test_delete_removes_cgroups_state_and_mounts(self):
        c = self.container(args=("sleep", "100"))
        c.create()
        c.rt("start", c.id)
        pid = c.state()["pid"]
        dirs = cgroup_dirs(c.cgpath)
        hierarchies = {os.path.relpath(d, CGROUP_V1).split("/")[0] for d in dirs}
        want = {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"}
        self.assertTrue(want <= hierarchies, "missing: %s" % (want - hierarchies))
        for d in dirs:
            self.assertIn(str(pid), read(os.path.join(d, "cgroup.procs")).split(), d)
        c.rt("kill", c.id, "KILL")
        c.wait_stopped()
        c.rt("delete", c.id)
        self.assertEqual([d for d in dirs if os.path.exists(d)], [], "cgroups left")
        self.assertFalse(os.path.exists(os.path.join(c.root, c.id)), "state dir left")
        self.assertFalse(pid_alive(pid))
        mounts = [line.split()[4] for line in read("/proc/self/mountinfo").splitlines()
                  if c.bundle in line or os.path.join(WORK, "rootfs") in line.split()[4]]
        self.assertEqual(mounts, [], "mounts left")
        self.assertNotEqual(c.rt("state", c.id, check=False).returncode, 0)

    # --- state output ----------------------------------------------------------

    # What `runc state` prints (runc 1.1; "annotations" only when the config has some).
    RUNC_STATE_KEYS = {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created",
                       "owner"}
    RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")

    def check_state_types(self, c, st, status):
        self.assertIsInstance(st["ociVersion"], str)
        self.assertEqual(st["id"], c.id)
        self.assertEqual(st["status"], status)
        self.assertIs(type(st["pid"]), int)
        self.assertEqual(st["bundle"], c.bundle)
        self.assertIsInstance(st["created"], str)
        m = self.RFC3339.match(st["created"])
        self.assertTrue(m, st["created"])
        created = datetime.datetime.fromisoformat(
            re.sub(r"\.(\d{1,6})\d*", r".\1", st["created"]).replace("Z", "+00:00"))
        age = datetime.datetime.now(datetime.timezone.utc) - created
        self.assertLess(abs(age.total_seconds()), 60, st["created"])

    def test_state_fields_match_runc(self):
        c = self.container(args=("sleep", "100"))
        c.create()
        states = [("created", c.state())]
        c.rt("start", c.id)
        states.append(("running", c.state()))
        c.rt("kill", c.id, "KILL")
        states.append(("stopped", c.wait_stopped()))
        for status, st in states:
            with self.subTest(status=status):
                self.check_state_types(c, st, status)
                if status == "stopped":
                    self.assertEqual(st["pid"], 0)
                else:
                    self.assertGreater(st["pid"], 0)
        if is_crun():
            # crun prints "rootfs" as written in config.json and adds "systemd-scope":
            # only runc's format is the reference.
            self.skipTest("crun's state has its own extra keys and a config-relative rootfs")
        for status, st in states:
            with self.subTest(status=status):
                self.assertEqual(set(st), self.RUNC_STATE_KEYS)
                self.assertEqual(st["rootfs"], os.path.join(WORK, "rootfs"))
                self.assertIsInstance(st["owner"], str)

    def test_domainname(self):
        if is_runc():
            self.skipTest("runc 1.1 predates the domainname field (runc 1.2 added it)")
        c = self.container(args=("cat", "/proc/sys/kernel/domainname"),
                           mutate=lambda cfg: cfg.update(domainname="example.test"))
        self.assertEqual(c.run_to_end(), "example.test\n")

    def test_sysctl_oom_score_umask_no_new_privs(self):
        def mutate(cfg):
            cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096"}
            cfg["process"]["oomScoreAdj"] = 500
            cfg["process"]["user"]["umask"] = 0o077
            cfg["process"]["noNewPrivileges"] = True
        c = self.container(args=("sh", "-c",
                                 "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax; "
                                 "cat /proc/self/oom_score_adj; "
                                 "umask; grep NoNewPrivs /proc/self/status | tr -d '\t'"),
                           mutate=mutate)
        self.assertEqual(c.run_to_end().split(),
                         ["1", "4096", "500", "0077", "NoNewPrivs:1"])

    def test_device_nodes_from_the_spec_and_defaults(self):
        def mutate(cfg):
            cfg["linux"]["devices"] = [{"type": "c", "path": "/dev/berth-null", "major": 1,
                                        "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0}]
        c = self.container(args=("sh", "-c",
                                 "echo x > /dev/berth-null && echo null-ok; "
                                 "head -c 4 /dev/urandom | wc -c; ls -l /dev/berth-null; "
                                 "readlink /dev/ptmx; readlink /dev/fd"),
                           mutate=mutate)
        out = c.run_to_end()
        self.assertIn("null-ok", out)
        self.assertIn("\n4\n", out)
        self.assertRegex(out, r"crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* /dev/berth-null")
        self.assertIn("pts/ptmx", out)
        self.assertIn("/proc/self/fd", out)

    def test_time_namespace(self):
        host = os.readlink("/proc/self/ns/time")
        def mutate(cfg):
            cfg["linux"]["namespaces"].append({"type": "time"})
        c = self.container(args=("readlink", "/proc/self/ns/time"), mutate=mutate)
        res = c.create(check=False)
        if res.returncode != 0 and not runtime_name().startswith("berth"):
            self.skipTest("%s does not support time namespaces: %s"
                          % (runtime_name(), c.errors().strip()))
        self.assertEqual(res.returncode, 0, c.errors())
        c.rt("start", c.id)
        c.wait_stopped()
        inside = c.output().strip()
        self.assertTrue(inside.startswith("time:["), inside)
        self.assertNotEqual(inside, host)

    # --- exec, ps, pause/resume, update, features ------------------------

    def running(self, args=("sleep", "100"), mutate=None):
        c = self.container(args=args, mutate=mutate)
        c.create()
        c.rt("start", c.id)
        return c

    def test_exec_sees_the_container(self):
        def mutate(cfg):
            cfg["hostname"] = "exec-box"
            cfg["mounts"].append({"destination": "/marker", "type": "tmpfs", "source": "tmpfs",
                                  "options": ["size=1m"]})
        c = self.running(mutate=mutate)
        res = c.rt("exec", c.id, "sh", "-c",
                   "echo $$; hostname; grep -c ' /marker ' /proc/self/mountinfo; "
                   "cat /proc/1/cmdline | tr '\\0' ' '")
        lines = res.stdout.split("\n")
        self.assertNotEqual(lines[0], "1")        # a new process in the container's pid ns
        self.assertLess(int(lines[0]), 100)
        self.assertEqual(lines[1], "exec-box")
        self.assertEqual(lines[2], "1")
        self.assertEqual(lines[3].strip(), "sleep 100")

    def test_exec_exit_code_env_cwd_user(self):
        c = self.running()
        res = c.rt("exec", "--env", "FOO=bar", "--cwd", "/etc", "--user", "1000:1000",
                   c.id, "/bin/sh", "-c", "echo $FOO $(pwd) $(id -u):$(id -g); exit 9",
                   check=False)
        self.assertEqual(res.returncode, 9, res.stderr)
        self.assertEqual(res.stdout, "bar /etc 1000:1000\n")

    def test_exec_detach_and_pid_file(self):
        c = self.running()
        pidfile = os.path.join(c.bundle, "exec.pid")
        # The detached process keeps its stdio: no pipe we would wait on.
        c.rt("exec", "--detach", "--pid-file", pidfile, c.id, "sleep", "50",
             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid = int(read(pidfile))
        self.assertTrue(pid_alive(pid))
        pids = json.loads(c.rt("ps", "--format", "json", c.id).stdout)
        self.assertIn(pid, pids)

    def test_exec_into_a_stopped_container_fails(self):
        c = self.container(args=("true",))
        c.run_to_end()
        res = c.rt("exec", c.id, "true", check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertTrue(res.stderr.strip())

    def test_exec_of_a_missing_binary_fails(self):
        c = self.running()
        res = c.rt("exec", c.id, "/no/such/binary", check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertEqual(c.state()["status"], "running")

    def test_exec_with_process_json(self):
        c = self.running()
        proc = {"args": ["sh", "-c", "echo from-json $X"], "env": ["X=1", "PATH=/bin"],
                "cwd": "/", "user": {"uid": 0, "gid": 0}}
        path = os.path.join(c.bundle, "process.json")
        with open(path, "w") as f:
            json.dump(proc, f)
        self.assertEqual(c.rt("exec", "--process", path, c.id).stdout, "from-json 1\n")

    def test_ps_lists_the_container_processes(self):
        c = self.running()
        init = c.state()["pid"]
        self.assertEqual(json.loads(c.rt("ps", "--format", "json", c.id).stdout), [init])
        table = c.rt("ps", c.id).stdout.splitlines()
        self.assertIn("PID", table[0])
        self.assertEqual(len(table), 2)
        self.assertIn(str(init), table[1])

    def test_pause_freezes_and_resume_thaws(self):
        c = self.running(args=("sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; "
                                           "done"))
        def counter():
            return int(c.rt("exec", c.id, "cat", "/tmp/n").stdout or 0)
        wait_until(lambda: counter() > 0)
        c.rt("pause", c.id)
        self.assertEqual(c.state()["status"], "paused")
        frozen = read("/proc/%d/stat" % c.state()["pid"]).rsplit(")", 1)[1].split()[11:13]
        time.sleep(0.3)
        later = read("/proc/%d/stat" % c.state()["pid"]).rsplit(")", 1)[1].split()[11:13]
        self.assertEqual(frozen, later, "CPU time advanced while paused")
        if not is_crun():  # crun 1.8 pauses a paused container again without complaint
            self.assertNotEqual(c.rt("pause", c.id, check=False).returncode, 0)
        c.rt("resume", c.id)
        self.assertEqual(c.state()["status"], "running")
        before = counter()
        wait_until(lambda: counter() > before)
        if not is_crun():  # crun 1.8 also resumes a running container without complaint
            self.assertNotEqual(c.rt("resume", c.id, check=False).returncode, 0)

    def test_update_changes_the_cgroup_files(self):
        c = self.running()
        # runc's and crun's flag is --cpu-share (berth-oci takes --cpu-shares too).
        c.rt("update", "--memory", str(96 * 1024 * 1024), "--pids-limit", "77",
             "--cpu-share", "512", c.id)
        dirs = cgroup_dirs(c.cgpath)
        mem = [d for d in dirs if "/memory/" in d][0]
        pids = [d for d in dirs if "/pids/" in d][0]
        cpu = [d for d in dirs if d.split("/")[4] in ("cpu", "cpu,cpuacct")][0]
        self.assertEqual(read(mem + "/memory.limit_in_bytes").strip(), str(96 * 1024 * 1024))
        self.assertEqual(read(pids + "/pids.max").strip(), "77")
        self.assertEqual(read(cpu + "/cpu.shares").strip(), "512")
        res = subprocess.run([RUNTIME, "--root", c.root, "update", "-r", "-", c.id],
                             input='{"pids": {"limit": 55}}', capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(read(pids + "/pids.max").strip(), "55")

    def test_events_stats(self):
        if is_crun():
            self.skipTest("crun 1.8 has no events command")
        c = self.running(mutate=lambda cfg: cfg["linux"]["resources"].update(
            pids={"limit": 64}))
        event = json.loads(c.rt("events", "--stats", c.id).stdout)
        self.assertEqual(event["type"], "stats")
        self.assertEqual(event["id"], c.id)
        data = event["data"]
        self.assertGreaterEqual(data["pids"]["current"], 1)
        self.assertEqual(data["pids"]["limit"], 64)
        self.assertGreater(data["memory"]["usage"]["usage"], 0)
        self.assertGreater(data["cpu"]["usage"]["total"], 0)

    def test_events_reports_an_oom_kill(self):
        if is_crun():
            self.skipTest("crun 1.8 has no events command")
        limit = 16 * 1024 * 1024
        c = self.running(args=("sh", "-c", "sleep 1; x=$(head -c 200000000 /dev/zero | tr '\\0' a)"),
                         mutate=lambda cfg: cfg["linux"]["resources"].update(
                             memory={"limit": limit, "swap": limit}))
        events = subprocess.Popen([RUNTIME, "--root", c.root, "events", "--interval", "1s", c.id],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        types = []
        deadline = time.time() + 30
        try:
            # Read until the OOM event (runc keeps running after the container stops).
            while "oom" not in types and time.time() < deadline:
                ready, _, _ = select.select([events.stdout], [], [], 0.5)
                if ready:
                    line = events.stdout.readline()
                    if not line:
                        break
                    types.append(json.loads(line)["type"])
        finally:
            events.kill()
            events.communicate()
        self.assertIn("oom", types)

    def test_features(self):
        if is_crun():
            self.skipTest("crun 1.8 has no features command")
        res = subprocess.run([RUNTIME, "features"], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        f = json.loads(res.stdout)
        self.assertIn("ociVersionMax", f)
        self.assertIn("createRuntime", f["hooks"])
        self.assertIn("rbind", f["mountOptions"])
        self.assertIn("CAP_SYS_ADMIN", f["linux"]["capabilities"])
        self.assertTrue(f["linux"]["seccomp"]["enabled"])
        self.assertIn("SCMP_ACT_ERRNO", f["linux"]["seccomp"]["actions"])
        self.assertTrue({"pid", "mount", "network"} <= set(f["linux"]["namespaces"]))

    # --- security and parentage -------------------------------------------

    def test_mount_destination_symlink_cannot_escape_the_rootfs(self):
        # The image has /escape -> /tmp/<host dir> (absolute): a runtime that follows
        # it from the host would mount on the host. It must resolve inside the rootfs.
        host_dir = tempfile.mkdtemp(prefix="escape-target-", dir=WORK)
        rootfs = tempfile.mkdtemp(prefix="rootfs-copy-", dir=WORK)
        self.addCleanup(shutil.rmtree, rootfs, True)
        subprocess.run(["cp", "-a", os.path.join(WORK, "rootfs", "."), rootfs], check=True)
        os.symlink(host_dir, os.path.join(rootfs, "escape"))
        def mutate(cfg):
            cfg["root"] = {"path": rootfs, "readonly": False}
            cfg["mounts"].append({"destination": "/escape/x", "type": "tmpfs", "source": "tmpfs",
                                  "options": ["size=1m"]})
        c = self.container(args=("stat", "-f", "-c", "%T", "/escape/x"), mutate=mutate)
        res = c.create(check=False)
        self.assertEqual(os.listdir(host_dir), [], "the mount target was created on the host")
        if res.returncode != 0 and is_crun():
            return  # crun 1.8 refuses a dangling symlink on the way: safe, just stricter
        self.assertEqual(res.returncode, 0, c.errors())
        c.rt("start", c.id)
        c.wait_stopped()
        self.assertEqual(c.output().strip(), "tmpfs")


    def test_runtime_binary_cannot_be_overwritten_from_the_container(self):
        # CVE-2019-5736: a process that can see the init while it still runs the
        # runtime's code (created state) holds on to /proc/PID/exe and, once the
        # init is gone, reopens it for writing to replace the runtime on the host.
        # The reopen must fail: the init must run from a sealed copy.
        c = self.container(args=("true",))
        c.create()
        pid = c.state()["pid"]
        handle = os.open("/proc/%d/exe" % pid, os.O_PATH)
        try:
            c.rt("delete", "--force", c.id)
            wait_until(lambda: not pid_alive(pid))
            path = "/proc/self/fd/%d" % handle
            with open(path, "rb") as f:
                first = f.read(1)
            self.assertEqual(first, b"\x7f")  # an ELF binary
            written = 0
            try:
                fd = os.open(path, os.O_WRONLY)
                try:
                    # The byte that is already there: harmless even where it lands.
                    written = os.pwrite(fd, first, 0)
                finally:
                    os.close(fd)
            except OSError:
                pass
            self.assertEqual(written, 0, "the runtime binary was writable through /proc/PID/exe")
        finally:
            os.close(handle)

    def test_init_is_the_callers_child_after_create(self):
        # The caller (a shim) is a subreaper: once create returns, the container's
        # init must be its child, so it can reap it and report the exit.
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        self.assertEqual(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0)
        self.addCleanup(libc.prctl, PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        c = self.container(args=("sh", "-c", "exit 3"))
        c.create()
        pid = c.state()["pid"]
        ppid = int(read("/proc/%d/stat" % pid).rsplit(")", 1)[1].split()[1])
        self.assertEqual(ppid, os.getpid())
        c.rt("start", c.id)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 3)
        self.assertEqual(c.state()["status"], "stopped")

    def test_cgroup_mount_without_a_cgroup_namespace_shows_the_container_cgroup(self):
        def mutate(cfg):
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                          if n["type"] != "cgroup"]
            cfg["linux"]["resources"]["memory"] = {"limit": 48 * 1024 * 1024}
        c = self.container(args=("cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                           mutate=mutate)
        self.assertEqual(c.run_to_end().strip(), str(48 * 1024 * 1024))

    def test_cgroup_mount_with_a_cgroup_namespace_shows_the_container_cgroup(self):
        def mutate(cfg):
            cfg["linux"]["resources"]["pids"] = {"limit": 33}
        c = self.container(args=("sh", "-c", "cat /sys/fs/cgroup/pids/pids.max; "
                                             "cat /proc/self/cgroup | grep pids"),
                           mutate=mutate)
        out = c.run_to_end().split()
        self.assertEqual(out[0], "33")
        self.assertTrue(out[1].endswith(":pids:/"), out)

    def test_json_log_format_for_errors(self):
        c = self.container()
        log = os.path.join(c.bundle, "runtime.log")
        res = subprocess.run([RUNTIME, "--root", c.root, "--log", log, "--log-format", "json",
                              "state", "no-such-container"], capture_output=True, text=True)
        self.assertNotEqual(res.returncode, 0)
        entries = [json.loads(line) for line in read(log).splitlines() if line.strip()]
        errors = [e for e in entries if e.get("level") == "error"]
        self.assertTrue(errors, entries)
        self.assertIn("msg", errors[-1])
        self.assertIn("time", errors[-1])

    # --- bad input ---------------------------------------------------------

    def assert_refused(self, c, res, *needles):
        self.assertNotEqual(res.returncode, 0)
        err = (res.stderr or c.errors()).strip()
        self.assertTrue(err, "an error message is expected")
        for n in needles:
            self.assertIn(n, err)
        self.assertFalse(os.path.exists(os.path.join(c.root, c.id)), "state dir left")
        self.assertEqual(cgroup_dirs(c.cgpath), [], "cgroup left")

    def test_missing_config(self):
        c = self.container()
        os.unlink(os.path.join(c.bundle, "config.json"))
        self.assert_refused(c, c.create(check=False), "config.json")

    def test_malformed_config(self):
        c = self.container()
        with open(os.path.join(c.bundle, "config.json"), "w") as f:
            f.write('{"ociVersion": "1.0.2", "process": ')
        self.assert_refused(c, c.create(check=False))

    def test_missing_bundle(self):
        c = self.container()
        res = c.rt("create", "--bundle", c.bundle + "-nope", c.id, check=False)
        self.assert_refused(c, res)

    def test_unknown_namespace_type(self):
        c = self.container(mutate=lambda cfg: cfg["linux"]["namespaces"].append(
            {"type": "bogus"}))
        self.assert_refused(c, c.create(check=False))

    def test_missing_executable(self):
        c = self.container(args=("/bin/not-there",))
        res = c.create(check=False)
        if res.returncode == 0:  # some runtimes fail only at start
            c.rt("start", c.id, check=False)
            c.wait_stopped()
            return
        self.assert_refused(c, res, "not-there")

    def assert_refused_at_create_or_start(self, c, *needles):
        """Runtimes differ in which command checks some fields: either create fails, or
        create succeeds and start fails; in both cases nothing may be left."""
        res = c.create(check=False)
        if res.returncode == 0:
            res = c.rt("start", c.id, check=False)
            self.assertNotEqual(res.returncode, 0, "create and start both succeeded")
            c.rt("delete", "--force", c.id, check=False)
        self.assert_refused(c, res, *needles)

    def test_relative_mount_destination_is_refused(self):
        c = self.container(mutate=lambda cfg: cfg["mounts"].append(
            {"destination": "tmp", "type": "tmpfs", "source": "tmpfs"}))
        if is_runc() or is_crun():
            # runtime-spec 1.0 says destinations MUST be absolute, but runc 1.1 and crun 1.8
            # take a relative one as relative to / (for old configs); berth-oci refuses it.
            self.skipTest("%s accepts relative mount destinations" % runtime_name())
        self.assert_refused_at_create_or_start(c)

    def test_unknown_rlimit_type_is_refused(self):
        c = self.container(mutate=lambda cfg: cfg["process"]["rlimits"].append(
            {"type": "RLIMIT_BOGUS", "hard": 10, "soft": 10}))
        self.assert_refused_at_create_or_start(c, "RLIMIT_BOGUS")

    def test_unknown_seccomp_syscall_is_refused(self):
        def mutate(cfg):
            cfg["linux"]["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["no_such_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]}
        c = self.container(args=("true",), mutate=mutate)
        if is_runc() or is_crun():
            # runc and crun skip syscall names libseccomp does not know (so one profile
            # serves older kernels and libseccomp versions); berth-oci refuses them, so
            # that a typo in a deny rule is not silently a no-op.
            self.skipTest("%s ignores unknown syscall names by design" % runtime_name())
        self.assert_refused(c, c.create(check=False), "no_such_syscall_xyz")


NOBODY = 65534


def nobody_processes():
    """Pids of the live (not zombie) processes of user nobody."""
    pids = set()
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.stat("/proc/" + p).st_uid == NOBODY and pid_alive(int(p)):
                    pids.add(int(p))
            except OSError:
                pass
    return pids


class RootlessTest(unittest.TestCase):
    """The runtime run by an unprivileged user (nobody), in the user namespace of
    `spec --rootless`, with cgroups it may not write: it runs without a cgroup
    unless the spec asks for limits."""

    def setUp(self):
        if is_crun() and os.path.ismount("/sys/fs/cgroup/unified") and \
                not self._testMethodName.startswith("test_spec"):
            # crun 1.8 refuses the hybrid layout ("drop all controllers from cgroupv2"),
            # and as nobody its wrapper cannot unmount the cgroup2 part.
            self.skipTest("crun does not run rootless on a hybrid cgroup layout")
        self.home = tempfile.mkdtemp(prefix="rootless-", dir=WORK)
        self.xdg = os.path.join(self.home, "run")
        self.bundle = os.path.join(self.home, "bundle")
        for d in (self.xdg, self.bundle):
            os.mkdir(d, 0o700)
        for d in (self.home, self.xdg, self.bundle):
            os.chown(d, NOBODY, NOBODY)
        self.id = "rl%06d" % random.randrange(10**6)
        self.nobody_before = nobody_processes()
        self.addCleanup(self.check_clean)

    def rt(self, *args, check=True, timeout=30):
        """RUNTIME ARGS as nobody, in the bundle, with XDG_RUNTIME_DIR set and no --root.
        Output goes through files: a created container's init keeps them open."""
        env = {"PATH": os.environ["PATH"], "HOME": self.home, "XDG_RUNTIME_DIR": self.xdg}
        cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
               "--inh-caps=-all", RUNTIME] + list(args)
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            res = subprocess.run(cmd, cwd=self.bundle, env=env, stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err, text=True, timeout=timeout)
            out.seek(0)
            err.seek(0)
            res.stdout, res.stderr = out.read(), err.read()
        if check and res.returncode != 0:
            self.fail("%s as nobody failed (%d): %s" % (" ".join(args), res.returncode,
                                                         res.stderr.strip()))
        return res

    def write_spec(self, args, mutate=None):
        """`spec --rootless` as nobody, then the shared rootfs and ARGS."""
        self.rt("spec", "--rootless")
        path = os.path.join(self.bundle, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["root"]["path"] = os.path.join(WORK, "rootfs")
        cfg["process"]["args"] = list(args)
        cfg["process"]["terminal"] = False
        if mutate:
            mutate(cfg)
        with open(path, "w") as f:
            json.dump(cfg, f)
        return cfg

    def state_root(self):
        name = "crun" if is_crun() else runtime_name()
        return os.path.join(self.xdg, name)

    def check_clean(self):
        self.rt("delete", "--force", self.id, check=False)
        leaks = []
        if os.path.exists(os.path.join(self.state_root(), self.id)):
            leaks.append("state dir %s" % os.path.join(self.state_root(), self.id))
        # An init made with CLONE_PARENT is this process's child: reap it.
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        leaks += ["process %d: %s" % (p, read("/proc/%d/cmdline" % p))
                  for p in nobody_processes() - self.nobody_before]
        with open("/proc/self/mountinfo") as f:
            leaks += ["mount " + line.split()[4] for line in f if self.home in line]
        shutil.rmtree(self.home, ignore_errors=True)
        self.assertEqual(leaks, [], "left behind")

    def test_spec_rootless_maps_the_callers_ids_to_root(self):
        cfg = self.write_spec(["true"])
        ns = [n["type"] for n in cfg["linux"]["namespaces"]]
        self.assertIn("user", ns)
        if is_crun():
            return  # crun's rootless spec has a network namespace and leaves the mappings to run time
        self.assertNotIn("network", ns)  # runc's, and so ours, shares the host's network
        self.assertEqual(cfg["linux"]["uidMappings"],
                         [{"containerID": 0, "hostID": NOBODY, "size": 1}])
        self.assertEqual(cfg["linux"]["gidMappings"],
                         [{"containerID": 0, "hostID": NOBODY, "size": 1}])
        self.assertNotIn("resources", cfg["linux"])

    def test_run_as_an_unprivileged_user(self):
        cfg = self.write_spec(["sh", "-c", "id -u; cat /proc/self/uid_map; hostname; echo x > /tmp/f; "
                         "cat /tmp/f; ls /dev/null"],
                        mutate=lambda cfg: cfg["mounts"].append(
                            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                             "options": ["nosuid", "nodev", "mode=1777"]}))
        res = self.rt("run", self.id)
        lines = res.stdout.splitlines()
        self.assertEqual(len(lines), 5, "stdout %r stderr %r" % (res.stdout, res.stderr))
        self.assertEqual(lines[0], "0")
        self.assertEqual(lines[1].split(), ["0", str(NOBODY), "1"])
        self.assertEqual(lines[2], cfg["hostname"])
        self.assertEqual(lines[3:], ["x", "/dev/null"])
        # The state lived under $XDG_RUNTIME_DIR, and `run` removed it.
        self.assertTrue(os.path.isdir(self.state_root()), os.listdir(self.xdg))
        self.assertEqual(self.rt("list", "-q").stdout.strip(), "")

    def test_create_start_kill_delete_without_cgroup_access(self):
        self.write_spec(["sleep", "100"])
        res = self.rt("create", self.id)
        if is_berth():
            self.assertIn("no cgroup for container %s" % self.id, res.stderr)
        state = json.loads(self.rt("state", self.id).stdout)
        self.assertEqual(state["status"], "created")
        pid = state["pid"]
        self.assertEqual(os.stat("/proc/%d" % pid).st_uid, NOBODY)
        self.rt("start", self.id)
        self.assertTrue(wait_until(lambda: json.loads(
            self.rt("state", self.id).stdout)["status"] == "running"))
        self.assertEqual(read("/proc/%d/cmdline" % pid), "sleep\x00100\x00")
        self.rt("kill", self.id, "KILL")
        self.assertTrue(wait_until(lambda: json.loads(
            self.rt("state", self.id).stdout)["status"] == "stopped"))
        self.rt("delete", self.id)
        self.assertFalse(os.path.exists(os.path.join(self.state_root(), self.id)))
        self.assertFalse(pid_alive(pid))

    def test_resource_limits_without_cgroup_access_are_refused(self):
        if not is_berth():
            self.skipTest("%s's answer to limits it cannot apply differs" % runtime_name())
        self.write_spec(["true"], mutate=lambda cfg: cfg["linux"].update(
            {"resources": {"pids": {"limit": 10}}}))
        res = self.rt("create", self.id, check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("cgroup", res.stderr)
        self.assertIn("resource limits", res.stderr)
        self.assertEqual(self.rt("list", "-q").stdout.strip(), "")


def prepare():
    global WORK
    WORK = tempfile.mkdtemp(prefix="berth-oci-test-")
    # Searchable by everyone: in a user namespace the container's root is an unmapped
    # host uid, which must still reach the rootfs below WORK.
    os.chmod(WORK, 0o711)
    subprocess.run([os.path.join(FIXTURES, "busybox-bundle.sh"), os.path.join(WORK, "b")],
                   check=True, stdout=subprocess.DEVNULL)
    os.rename(os.path.join(WORK, "b", "rootfs"), os.path.join(WORK, "rootfs"))
    os.rename(os.path.join(WORK, "b", "config.json"), os.path.join(WORK, "base-config.json"))
    os.rmdir(os.path.join(WORK, "b"))


def main():
    global RUNTIME
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    RUNTIME = sys.argv.pop(1)
    if os.sep in RUNTIME:
        RUNTIME = os.path.abspath(RUNTIME)  # the rootless tests run it from the bundle
    if os.geteuid() != 0:
        print("these tests create real containers and need root")
        sys.exit(1)
    prepare()
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
