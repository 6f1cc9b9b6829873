#!/usr/bin/python3
"""Integration tests of an OCI runtime's lifecycle and isolation (issue: berth-oci).

Runs real containers from the busybox fixture bundle and checks, from inside
the container and from the host, what a runc-compatible runtime must provide.
The runtime is a parameter so the same tests run against berth-oci, runc and
crun:   oci_runtime_test.py RUNTIME_BINARY [unittest args]

Every test uses its own --root, bundle and cgroup under a unique temp root and
checks at the end that no state dir, cgroup, mount or process is left behind.
"""
import json
import os
import random
import shutil
import signal
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


def prepare():
    global WORK
    WORK = tempfile.mkdtemp(prefix="berth-oci-test-")
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
