#!/usr/bin/python3
"""berthd serves the Docker Engine API: Debian's python3-docker SDK, raw HTTP
with bad requests, and a berthd killed with SIGKILL while containers run.

A private stack (berth-runtimed + berthd, tests/e2e/lib_berth_stack.sh) pulls
the busybox fixture from Debian's docker-registry on 127.0.0.1.

Usage: engine_api_test.py BUILD_DIR [unittest args]
"""
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

import docker

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
LIB = os.path.join(HERE, "lib_berth_stack.sh")
BUILD = None
WORK = None
REGISTRY = None
IMAGE = None


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300).stdout


def stack(function, directory):
    env = dict(os.environ, BUILD_DIR=BUILD, BERTH_CGROUP_PARENT="/berth-e2e-%d" % os.getpid())
    return subprocess.run(["bash", "-c", 'source "$1" && %s "$2"' % function, "_", LIB, directory],
                          env=env, capture_output=True, text=True, timeout=120)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Stack:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="stack-", dir=WORK)
        self.sock = os.path.join(self.dir, "berthd.sock")

    def start(self):
        r = stack("berth_stack_start", self.dir)
        if r.returncode != 0:
            raise RuntimeError("stack did not start: " + r.stdout + r.stderr)

    def start_berthd(self):
        r = stack("berth_stack_start_berthd", self.dir)
        if r.returncode != 0:
            raise RuntimeError("berthd did not start: " + r.stdout + r.stderr)

    def berthd_pid(self):
        with open(os.path.join(self.dir, "berthd.pid")) as f:
            return int(f.read())

    def stop(self):
        """Stops everything; the leaks it had to clean up, as text ("" when none)."""
        r = stack("berth_stack_stop", self.dir)
        return r.stderr if r.returncode != 0 else ""

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = UnixHTTPConnection(self.sock, timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, data
        finally:
            conn.close()

    def client(self, version="1.41"):
        return docker.DockerClient(base_url="unix://" + self.sock, version=version, timeout=60)


class EngineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()
        cls.stack.start()
        cls.docker = cls.stack.client()
        cls.docker.images.pull(IMAGE)

    @classmethod
    def tearDownClass(cls):
        cls.docker.close()
        leaks = cls.stack.stop()
        if leaks:
            raise AssertionError("the stack leaked: " + leaks)

    def tearDown(self):
        for c in self.docker.containers.list(all=True):
            c.remove(force=True)

    def test_sdk_version_and_info(self):
        v = self.docker.version()
        self.assertEqual(v["ApiVersion"], "1.47")
        self.assertEqual(v["MinAPIVersion"], "1.41")
        names = [c["Name"] for c in v["Components"]]
        for name in ("Engine", "berth-runtimed", "containerd-shim-berth-v2", "berth-oci"):
            self.assertIn(name, names)
        for c in v["Components"][1:]:
            if c["Name"] != "docker-init":
                self.assertTrue(c["Details"]["GitCommit"], c)
        info = self.docker.info()
        self.assertEqual(info["Images"], 1)
        self.assertEqual(info["LoggingDriver"], "json-file")

    def test_sdk_run_output_and_exit_codes(self):
        out = self.docker.containers.run(IMAGE, ["echo", "hi"], remove=True, network_mode="none")
        self.assertEqual(out, b"hi\n")
        with self.assertRaises(docker.errors.ContainerError) as e:
            self.docker.containers.run(IMAGE, ["sh", "-c", "exit 3"], remove=True)
        self.assertEqual(e.exception.exit_status, 3)
        # A start that fails records docker's exit codes: 127 not found, 126 not executable.
        for command, code in ((["no-such-command"], 127), (["/etc/passwd"], 126)):
            c = self.docker.containers.create(IMAGE, command)
            with self.assertRaises(docker.errors.APIError) as e:
                c.start()
            self.assertEqual(e.exception.status_code, 400, e.exception)
            c.reload()
            self.assertEqual(c.attrs["State"]["ExitCode"], code, c.attrs["State"])
            self.assertTrue(c.attrs["State"]["Error"])
            c.remove()
        self.assertEqual(self.docker.containers.list(all=True), [])

    def test_sdk_image_config_semantics(self):
        # Cmd replaces the image's; --entrypoint replaces it and clears Cmd.
        out = self.docker.containers.run(IMAGE, entrypoint=["echo", "from-entrypoint"],
                                         remove=True)
        self.assertEqual(out, b"from-entrypoint\n")
        out = self.docker.containers.run(IMAGE, ["sh", "-c", "echo $A $B; pwd; id -u"],
                                         environment={"A": "1", "B": "two"}, working_dir="/tmp",
                                         user="65534", remove=True)
        self.assertEqual(out.decode().split("\n")[:3], ["1 two", "/tmp", "65534"])

    def test_default_hardening(self):
        out = self.docker.containers.run(IMAGE, ["sh", "-c",
                                                 "grep CapEff /proc/self/status; id; hostname"],
                                         remove=True).decode()
        self.assertIn("00000000a80425fb", out)  # Docker's 14 default capabilities
        self.assertIn("uid=0(root) gid=0(root) groups=0(root)\n", out)
        # The fixture's /etc/group lists berth in "extra": a supplementary group, as Docker does.
        # Twice: the second create takes the user berthd resolved for this image
        # the first time (no snapshot lookup); GroupAdd is part of what it knows.
        for _ in range(2):
            out = self.docker.containers.run(IMAGE, ["id"], user="berth", remove=True).decode()
            self.assertEqual(out,
                             "uid=1000(berth) gid=1000(berth) groups=1000(berth),2000(extra)\n")
        for _ in range(2):
            out = self.docker.containers.run(IMAGE, ["id", "-G"], user="berth",
                                             group_add=["65534"], remove=True).decode()
            self.assertEqual(out, "1000 2000 65534\n")
        with self.assertRaises(docker.errors.APIError) as e:
            self.docker.containers.run(IMAGE, ["id"], user="nosuchuser", remove=True)
        self.assertIn("unable to find user nosuchuser", str(e.exception))
        c = self.docker.containers.run(IMAGE, ["sleep", "30"], detach=True)
        self.assertEqual(c.attrs["Config"]["Hostname"], c.id[:12])
        c.reload()
        self.assertEqual(c.status, "running")
        c.remove(force=True)

    def test_sdk_lifecycle_inspect_stop_remove(self):
        c = self.docker.containers.run(IMAGE, ["sh", "-c", "trap 'exit 0' TERM; "
                                               "while :; do sleep 0.1; done"],
                                       detach=True, name="web", labels={"tier": "front"})
        c.reload()
        self.assertEqual(c.name, "web")
        self.assertTrue(c.attrs["State"]["Running"])
        self.assertGreater(c.attrs["State"]["Pid"], 0)
        self.assertEqual(c.attrs["Config"]["Labels"], {"tier": "front"})
        self.assertEqual(c.attrs["HostConfig"]["NetworkMode"], "none")
        self.assertEqual([x.name for x in self.docker.containers.list(filters={"label": "tier=front"})],
                         ["web"])
        self.assertEqual(self.docker.containers.list(filters={"label": "tier=back"}), [])
        start = time.monotonic()
        c.stop(timeout=10)
        self.assertLess(time.monotonic() - start, 2.0)
        c.reload()
        self.assertEqual(c.attrs["State"]["Status"], "exited")
        self.assertEqual(c.attrs["State"]["ExitCode"], 0)
        # One that ignores SIGTERM is killed after the timeout.
        c2 = self.docker.containers.run(IMAGE, ["sh", "-c", "trap '' TERM; sleep 1000"],
                                        detach=True)
        start = time.monotonic()
        c2.stop(timeout=1)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)
        c2.reload()
        self.assertEqual(c2.attrs["State"]["ExitCode"], 137)
        c.remove()
        c2.remove()
        self.assertEqual(self.docker.containers.list(all=True), [])

    def test_names_and_prefixes(self):
        c = self.docker.containers.create(IMAGE, ["true"], name="named")
        with self.assertRaises(docker.errors.APIError) as e:
            self.docker.containers.create(IMAGE, ["true"], name="named")
        self.assertEqual(e.exception.status_code, 409)
        self.assertIn('The container name "/named" is already in use', str(e.exception))
        with self.assertRaises(docker.errors.APIError) as e:
            self.docker.containers.create(IMAGE, ["true"], name="bad name!")
        self.assertEqual(e.exception.status_code, 400)
        self.assertEqual(self.docker.containers.get(c.id[:10]).id, c.id)
        self.assertEqual(self.docker.containers.get("named").id, c.id)
        with self.assertRaises(docker.errors.NotFound):
            self.docker.containers.get("no-such-container")
        with self.assertRaises(docker.errors.ImageNotFound):
            self.docker.containers.create(REGISTRY + "/nonexistent", ["true"])
        # 17 ids: two share a first hex digit, and that digit is ambiguous.
        ids = [c.id] + [self.docker.containers.create(IMAGE, ["true"]).id for _ in range(16)]
        firsts = [i[0] for i in ids]
        shared = next(x for x in firsts if firsts.count(x) > 1)
        status, body = self.stack.request("GET", "/v1.41/containers/%s/json" % shared)
        self.assertEqual(status, 400, body)
        self.assertIn("multiple IDs found with provided prefix: " + shared,
                      json.loads(body)["message"])

    def test_bad_requests(self):
        s = self.stack
        status, body = s.request("POST", "/v1.41/containers/create", body=b"{not json",
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn("message", json.loads(body))
        status, body = s.request("POST", "/v1.41/containers/create",
                                 body=json.dumps({"Image": IMAGE, "Cmd": 5}).encode(),
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        # Unknown fields are ignored, as dockerd's Go decoder does (newer clients send more).
        status, body = s.request("POST", "/v1.41/containers/create?name=extra",
                                 body=json.dumps({"Image": IMAGE, "Cmd": ["true"],
                                                  "NoSuchField": {"x": 1}}).encode(),
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, body)
        status, body = s.request("GET", "/v1.41/containers/nope/json")
        self.assertEqual((status, json.loads(body)), (404, {"message": "No such container: nope"}))
        status, body = s.request("GET", "/v1.99/_ping")
        self.assertEqual(status, 400)
        self.assertIn("too new", json.loads(body)["message"])
        status, _ = s.request("POST", "/v1.41/containers/extra/stop")
        self.assertEqual(status, 304)
        status, body = s.request("POST", "/v1.41/containers/extra/kill")
        self.assertEqual(status, 409, body)
        status, body = s.request("POST", "/v1.41/containers/extra/wait?condition=bogus")
        self.assertEqual(status, 400, body)
        status, body = s.request("GET", "/v1.41/containers/json?filters=" +
                                 "%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D")
        self.assertEqual(status, 400, body)
        # A huge body: refused, and the daemon keeps serving.
        try:
            status, _ = s.request("POST", "/v1.41/containers/create",
                                  body=b"[" + b" " * (80 << 20) + b"]",
                                  headers={"Content-Type": "application/json"})
            self.assertEqual(status, 413)
        except (BrokenPipeError, ConnectionResetError):
            pass
        # A client that goes away in the middle of a wait.
        c = self.docker.containers.run(IMAGE, ["sleep", "30"], detach=True)
        raw = socket.socket(socket.AF_UNIX)
        raw.connect(s.sock)
        raw.sendall(b"POST /v1.41/containers/%s/wait HTTP/1.1\r\nHost: d\r\n"
                    b"Content-Length: 0\r\n\r\n" % c.id.encode())
        self.assertIn(b"200 OK", raw.recv(4096))
        raw.close()
        self.assertEqual(s.request("GET", "/_ping"), (200, b"OK"))
        c.remove(force=True)
        # Every container record is intact after all of that.
        self.assertEqual([x.name for x in self.docker.containers.list(all=True)], ["extra"])

    def test_attach_stdin(self):
        c = self.docker.containers.create(IMAGE, ["sh", "-c", "read line; echo got $line"],
                                          stdin_open=True)
        sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
        c.start()
        sock._sock.sendall(b"hello\n")
        data = b""
        deadline = time.monotonic() + 10
        while b"got hello" not in data and time.monotonic() < deadline:
            chunk = sock._sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        self.assertIn(b"got hello\n", data)
        self.assertEqual(c.wait(timeout=10)["StatusCode"], 0)

    def test_exec_stdin_without_tty_is_data(self):
        # Without a tty the detach keys are not watched for (dockerd's attach):
        # bytes 0x10 0x11 and NUL reach the process, whose stdin is closed at
        # the client's EOF; a process that stops reading does not hang berthd.
        api = self.docker.api
        c = self.docker.containers.run(IMAGE, ["sleep", "60"], detach=True)
        payload = bytes(range(256)) * 512 + b"\x10\x11 and after the keys\n"
        eid = api.exec_create(c.id, ["sh", "-c", "cat > /tmp/got; wc -c < /tmp/got; md5sum /tmp/got"],
                              stdin=True)["Id"]
        sock = api.exec_start(eid, socket=True)
        sock._sock.sendall(payload)
        sock._sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = sock._sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
        self.assertIn(str(len(payload)).encode(), data)
        self.assertIn(hashlib.md5(payload).hexdigest().encode(), data)
        self.assertTrue(self.wait_for(lambda: api.exec_inspect(eid)["Running"] is False))
        self.assertEqual(api.exec_inspect(eid)["ExitCode"], 0)
        # `yes | exec -i head -n1`: head leaves, the client keeps writing.
        eid = api.exec_create(c.id, ["head", "-n1"], stdin=True)["Id"]
        sock = api.exec_start(eid, socket=True)
        sock._sock.settimeout(20)
        sent = 0
        try:
            while sent < (8 << 20):
                sock._sock.sendall(b"y\n" * 8192)
                sent += 16384
        except OSError:
            pass  # berthd ended the exec's stream
        self.assertTrue(self.wait_for(lambda: api.exec_inspect(eid)["Running"] is False, 20))
        sock.close()
        self.assertEqual(c.exec_run(["true"]).exit_code, 0)  # berthd still answers
        c.remove(force=True)

    def wait_for(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def test_exec_output_exit_codes_and_options(self):
        c = self.docker.containers.run(IMAGE, ["sleep", "300"], detach=True)
        r = c.exec_run(["echo", "hello"])
        self.assertEqual((r.exit_code, r.output), (0, b"hello\n"))
        self.assertEqual(c.exec_run(["sh", "-c", "exit 7"]).exit_code, 7)
        r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
        self.assertEqual(r.output, (b"out\n", b"err\n"))
        r = c.exec_run(["sh", "-c", "id -u; echo $FOO; pwd; echo $PATH"], user="65534",
                       environment={"FOO": "bar"}, workdir="/tmp")
        self.assertEqual(r.output.decode().split("\n")[:3], ["65534", "bar", "/tmp"])
        self.assertIn("/bin", r.output.decode())  # the container's PATH
        r = c.exec_run(["id"], user="berth")
        self.assertEqual(r.output, b"uid=1000(berth) gid=1000(berth) groups=1000(berth),2000(extra)\n")
        # pid 1 is the container's command; the exec runs beside it.
        r = c.exec_run(["ps", "-o", "pid,args"])
        rows = [line.split(None, 1) for line in r.output.decode().splitlines()[1:]]
        self.assertIn(["1", "sleep 300"], rows)
        self.assertIn("ps -o pid,args", [x[1] for x in rows])
        # A command that cannot run: dockerd's 126, and its error as the output.
        r = c.exec_run(["no-such-binary"])
        self.assertEqual(r.exit_code, 126, r)
        self.assertIn(b"executable file not found", r.output)
        # A tty: one raw stream with TERM set.
        r = c.exec_run(["sh", "-c", "echo $TERM; echo err >&2"], tty=True)
        self.assertEqual(r.output, b"xterm\r\nerr\r\n")
        # stdin through the hijacked connection.
        eid = self.docker.api.exec_create(c.id, ["sh", "-c", "read x; echo got $x"],
                                          stdin=True)["Id"]
        sock = self.docker.api.exec_start(eid, socket=True)
        sock._sock.sendall(b"line\n")
        data = b""
        while True:
            chunk = sock._sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        self.assertEqual(data, b"\x01\x00\x00\x00\x00\x00\x00\x09got line\n")
        self.assertEqual(self.docker.api.exec_inspect(eid)["ExitCode"], 0)
        c.remove(force=True)

    def test_exec_detached_inspect_and_errors(self):
        c = self.docker.containers.run(IMAGE, ["sleep", "300"], detach=True)
        api = self.docker.api
        eid = api.exec_create(c.id, ["sh", "-c", "sleep 1; exit 3"], user="65534",
                              privileged=True)["Id"]
        self.assertRegex(eid, "^[0-9a-f]{64}$")
        info = api.exec_inspect(eid)
        self.assertEqual((info["ID"], info["Running"], info["ExitCode"], info["ContainerID"]),
                         (eid, False, None, c.id))
        self.assertEqual(info["ProcessConfig"], {"tty": False, "entrypoint": "sh",
                                                 "arguments": ["-c", "sleep 1; exit 3"],
                                                 "privileged": True, "user": "65534"})
        self.assertEqual((info["OpenStdin"], info["OpenStdout"], info["OpenStderr"]),
                         (False, True, True))
        self.assertFalse(api.exec_start(eid, detach=True))
        info = api.exec_inspect(eid)
        self.assertTrue(info["Running"])
        self.assertGreater(info["Pid"], 0)
        c.reload()
        self.assertEqual(c.attrs["ExecIDs"], [eid])
        # A second start is refused.
        with self.assertRaises(docker.errors.APIError) as e:
            api.exec_start(eid, detach=True)
        self.assertEqual(e.exception.status_code, 409)
        self.assertTrue(self.wait_for(lambda: not api.exec_inspect(eid)["Running"]))
        info = api.exec_inspect(eid)
        self.assertEqual(info["ExitCode"], 3)
        self.assertTrue(info["CanRemove"])
        c.reload()
        self.assertIsNone(c.attrs["ExecIDs"])
        # exec -d from the SDK.
        r = c.exec_run(["sh", "-c", "echo x > /tmp/detached"], detach=True)
        self.assertFalse(r.output)
        self.assertTrue(self.wait_for(lambda: c.exec_run(["cat", "/tmp/detached"]).output == b"x\n"))
        with self.assertRaises(docker.errors.NotFound) as e:
            api.exec_inspect("nope")
        self.assertIn("No such exec instance: nope", str(e.exception))
        with self.assertRaises(docker.errors.APIError) as e:
            api.exec_create(c.id, [])
        self.assertEqual(e.exception.status_code, 400)
        with self.assertRaises(docker.errors.NotFound):
            api.exec_create("no-such-container", ["true"])
        c.stop(timeout=0)
        with self.assertRaises(docker.errors.APIError) as e:
            c.exec_run(["true"])
        self.assertEqual(e.exception.status_code, 409)
        self.assertIn("Container %s is not running" % c.id, str(e.exception))
        c.remove()
        # Its execs go with it.
        with self.assertRaises(docker.errors.NotFound):
            api.exec_inspect(eid)

    def test_pause_unpause(self):
        c = self.docker.containers.run(IMAGE, ["sleep", "300"], detach=True)
        c.pause()
        c.reload()
        self.assertEqual((c.status, c.attrs["State"]["Paused"], c.attrs["State"]["Running"]),
                         ("paused", True, True))
        self.assertEqual(self.docker.info()["ContainersPaused"], 1)
        for attempt in (lambda: c.exec_run(["true"]), c.pause,
                        lambda: c.attach_socket(params={"stdout": 1, "stream": 1})):
            with self.assertRaises(docker.errors.APIError) as e:
                attempt()
            self.assertEqual(e.exception.status_code, 409, e.exception)
        with self.assertRaises(docker.errors.APIError) as e:
            c.pause()
        self.assertIn("Container %s is already paused" % c.id, str(e.exception))
        with self.assertRaises(docker.errors.APIError) as e:
            c.exec_run(["true"])
        self.assertIn("is paused, unpause the container before exec", str(e.exception))
        c.unpause()
        c.reload()
        self.assertEqual((c.status, c.attrs["State"]["Paused"]), ("running", False))
        self.assertEqual(c.exec_run(["true"]).exit_code, 0)
        with self.assertRaises(docker.errors.APIError) as e:
            c.unpause()
        self.assertEqual(e.exception.status_code, 409)
        self.assertIn("Container %s is not paused" % c.id, str(e.exception))
        # kill and stop of a paused container work (dockerd unpauses it after the signal).
        c.pause()
        c.kill()
        self.assertEqual(c.wait(timeout=10)["StatusCode"], 137)
        c.reload()
        self.assertEqual((c.status, c.attrs["State"]["Paused"]), ("exited", False))
        for attempt in (c.pause, c.unpause):
            with self.assertRaises(docker.errors.APIError) as e:
                attempt()
            self.assertEqual(e.exception.status_code, 409)
        c2 = self.docker.containers.run(IMAGE, ["sh", "-c", "trap 'exit 0' TERM; "
                                                "while :; do sleep 0.1; done"], detach=True)
        c2.pause()
        c2.stop(timeout=5)
        c2.reload()
        self.assertEqual((c2.status, c2.attrs["State"]["ExitCode"]), ("exited", 0))
        c.remove()
        c2.remove()

    def test_top(self):
        c = self.docker.containers.run(IMAGE, ["sleep", "300"], detach=True)
        c.reload()
        top = c.top()
        self.assertEqual(list(top), ["Processes", "Titles"])
        self.assertIn("PID", top["Titles"])
        self.assertIn("CMD", top["Titles"])
        pid = top["Titles"].index("PID")
        cmd = top["Titles"].index("CMD")
        self.assertEqual([(p[pid], p[cmd]) for p in top["Processes"]],
                         [(str(c.attrs["State"]["Pid"]), "sleep 300")])
        top = c.top(ps_args="-o pid,comm")
        self.assertEqual(top["Titles"], ["PID", "COMMAND"])
        self.assertEqual(top["Processes"], [[str(c.attrs["State"]["Pid"]), "sleep"]])
        c.stop(timeout=0)
        with self.assertRaises(docker.errors.APIError) as e:
            c.top()
        self.assertEqual(e.exception.status_code, 409)
        c.remove()

    def test_rename(self):
        c = self.docker.containers.create(IMAGE, ["true"], name="before")
        self.docker.containers.create(IMAGE, ["true"], name="taken")
        c.rename("after")
        with self.assertRaises(docker.errors.NotFound):
            self.docker.containers.get("before")
        self.assertEqual(self.docker.containers.get("after").id, c.id)
        self.assertEqual(self.docker.containers.get("after").attrs["Name"], "/after")
        with self.assertRaises(docker.errors.APIError) as e:
            c.rename("taken")
        self.assertEqual(e.exception.status_code, 409)
        self.assertIn('The container name "/taken" is already in use', str(e.exception))
        for bad in ("bad name!", "after"):
            with self.assertRaises(docker.errors.APIError) as e:
                c.rename(bad)
            self.assertEqual(e.exception.status_code, 400, bad)
        # The old name is free again.
        self.docker.containers.create(IMAGE, ["true"], name="before")

    def test_resize(self):
        c = self.docker.containers.run(IMAGE, ["sleep", "300"], tty=True, detach=True)
        c.resize(height=33, width=101)
        r = c.exec_run(["sh", "-c", "stty size < /proc/1/fd/0"])
        self.assertEqual(r.output, b"33 101\n")
        # An exec's own pty.
        api = self.docker.api
        eid = api.exec_create(c.id, ["sh", "-c", "sleep 1; stty size"], tty=True)["Id"]
        sock = api.exec_start(eid, tty=True, socket=True)
        api.exec_resize(eid, height=12, width=34)
        data = b""
        while True:
            chunk = sock._sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        self.assertEqual(data, b"12 34\r\n")
        status, body = self.stack.request("POST", "/v1.41/containers/%s/resize?h=x&w=1" % c.id)
        self.assertEqual(status, 400, body)
        c.stop(timeout=0)
        with self.assertRaises(docker.errors.APIError) as e:
            c.resize(height=10, width=10)
        self.assertEqual(e.exception.status_code, 409)
        c.remove()

    # --- /events ---------------------------------------------------------------------------

    def events(self, **params):
        """GET /events with params; (status, [event objects] or the error body)."""
        status, body = self.stack.request("GET", "/v1.41/events?" + urllib.parse.urlencode(params))
        if status != 200:
            return status, json.loads(body)
        return status, [json.loads(line) for line in body.decode().splitlines() if line.strip()]

    def berthd_threads(self):
        return len(os.listdir("/proc/%d/task" % self.stack.berthd_pid()))

    def test_events_replay_in_order(self):
        since = "%.9f" % time.time()
        c = self.docker.containers.run(IMAGE, ["sh", "-c", "exit 3"], detach=True,
                                       name="evented", labels={"evt": "yes"})
        self.assertEqual(c.wait(timeout=10)["StatusCode"], 3)
        c.remove()
        other = self.docker.containers.create(IMAGE, ["true"], name="other")
        time.sleep(0.01)
        until = "%.9f" % time.time()
        other.remove()  # after until: not replayed
        status, events = self.events(since=since, until=until)
        self.assertEqual(status, 200, events)
        self.assertEqual([(e["Actor"]["ID"], e["Action"]) for e in events],
                         [(c.id, "create"), (c.id, "start"), (c.id, "die"), (c.id, "destroy"),
                          (other.id, "create")])
        nanos = [e["timeNano"] for e in events]
        self.assertEqual(nanos, sorted(nanos))
        die = events[2]
        self.assertEqual(list(die), ["status", "id", "from", "Type", "Action", "Actor", "scope",
                                     "time", "timeNano"])
        self.assertEqual((die["status"], die["id"], die["from"], die["Type"], die["scope"]),
                         ("die", c.id, IMAGE, "container", "local"))
        attrs = die["Actor"]["Attributes"]
        self.assertEqual((attrs["exitCode"], attrs["name"], attrs["image"], attrs["evt"]),
                         ("3", "evented", IMAGE, "yes"))
        self.assertEqual(die["time"], die["timeNano"] // 10**9)
        self.assertGreaterEqual(die["time"], int(float(since)))
        # The SDK's events() with the same window.
        sdk = list(self.docker.events(since=int(float(since)), until=int(float(until)) + 1,
                                      filters={"container": c.id}, decode=True))
        self.assertEqual([e["Action"] for e in sdk], ["create", "start", "die", "destroy"])
        # An until in the future: the replay, then what happens until then, then the end.
        start = time.monotonic()
        result = {}
        reader = threading.Thread(target=lambda: result.update(
            r=self.events(since=since, until="%.3f" % (time.time() + 2))))
        reader.start()
        time.sleep(0.5)
        late = self.docker.containers.create(IMAGE, ["true"], name="late")
        reader.join(10)
        self.assertGreaterEqual(time.monotonic() - start, 1.7)
        self.assertLess(time.monotonic() - start, 6)
        status, events = result["r"]
        self.assertEqual(status, 200)
        self.assertEqual([(e["Actor"]["ID"], e["Action"]) for e in events][-3:],
                         [(other.id, "create"), (other.id, "destroy"), (late.id, "create")])
        late.remove()

    def test_events_filters(self):
        since = "%.9f" % time.time()
        a = self.docker.containers.run(IMAGE, ["true"], detach=True, name="ev-a",
                                       labels={"tier": "front"})
        b = self.docker.containers.run(IMAGE, ["true"], detach=True, name="ev-b",
                                       labels={"tier": "back"})
        a.wait(timeout=10)
        b.wait(timeout=10)
        e = self.docker.containers.run(IMAGE, ["sleep", "30"], detach=True, name="ev-exec")
        e.exec_run(["true"])
        e.remove(force=True)
        until = "%.9f" % time.time()

        def actions(filters):
            status, events = self.events(since=since, until=until, filters=json.dumps(filters))
            self.assertEqual(status, 200, events)
            return [(x["Actor"]["Attributes"].get("name"), x["Action"]) for x in events]

        self.assertEqual(actions({"container": {"ev-a": True}}),
                         [("ev-a", "create"), ("ev-a", "start"), ("ev-a", "die")])
        self.assertEqual(actions({"container": {b.id[:12]: True}, "event": {"die": True}}),
                         [("ev-b", "die")])
        self.assertEqual(actions({"event": {"start": True}}),
                         [("ev-a", "start"), ("ev-b", "start"), ("ev-exec", "start")])
        self.assertEqual(actions({"label": {"tier=back": True}}),
                         [("ev-b", "create"), ("ev-b", "start"), ("ev-b", "die")])
        self.assertEqual(actions({"label": {"tier": True}, "event": {"create": True}}),
                         [("ev-a", "create"), ("ev-b", "create")])
        self.assertEqual(actions({"type": {"image": True}}), [])
        self.assertEqual(actions({"type": {"container": True}, "container": {"ev-exec": True}}),
                         [("ev-exec", "create"), ("ev-exec", "start"),
                          ("ev-exec", "exec_create: true "), ("ev-exec", "exec_start: true "),
                          ("ev-exec", "exec_die"), ("ev-exec", "kill"), ("ev-exec", "die"),
                          ("ev-exec", "destroy")])
        # exec_start names the actions that begin with it, as dockerd's filter.
        self.assertEqual(actions({"event": {"exec_start": True}}), [("ev-exec", "exec_start: true ")])
        # The old list form of filters.
        self.assertEqual(actions({"container": ["ev-a"], "event": ["die"]}), [("ev-a", "die")])
        a.remove()
        b.remove()

    def test_events_bad_requests(self):
        for filters in ("{not json", '{"bogus":{"x":true}}', '{"type":{"car":true}}'):
            status, body = self.events(filters=filters)
            self.assertEqual(status, 400, body)
            self.assertEqual(list(body), ["message"])
            self.assertTrue(body["message"])
            self.assertNotIn("\n", body["message"])
        status, body = self.events(since="yesterday")
        self.assertEqual(status, 400, body)
        status, body = self.events(since="200", until="100")
        self.assertEqual(status, 400, body)
        self.assertIn("cannot be after", body["message"])

    def test_events_stream_sees_start_then_die(self):
        stream = self.docker.events(decode=True, filters={"container": "streamer"})
        seen = []
        done = threading.Event()

        def read():
            for e in stream:
                seen.append(e["Action"])
                if e["Action"] == "die":
                    break
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(0.3)  # subscribed
        c = self.docker.containers.run(IMAGE, ["sh", "-c", "sleep 0.5; exit 0"], detach=True,
                                       name="streamer")
        self.assertTrue(done.wait(15), seen)
        stream.close()
        self.assertEqual(seen, ["create", "start", "die"])
        c.remove()

    def test_events_client_gone_releases_subscriber(self):
        before = self.berthd_threads()
        socks = []
        for _ in range(5):
            raw = socket.socket(socket.AF_UNIX)
            raw.connect(self.stack.sock)
            raw.sendall(b"GET /v1.41/events HTTP/1.1\r\nHost: d\r\n\r\n")
            self.assertIn(b"200 OK", raw.recv(4096))
            socks.append(raw)
        self.assertGreaterEqual(self.berthd_threads(), before + 5)
        for raw in socks:
            raw.close()
        self.assertTrue(self.wait_for(lambda: self.berthd_threads() <= before, timeout=5),
                        (before, self.berthd_threads()))
        # Events go on being served.
        since = "%.9f" % time.time()
        c = self.docker.containers.create(IMAGE, ["true"], name="after-gone")
        status, events = self.events(since=since, until="%.9f" % time.time())
        self.assertEqual([e["Action"] for e in events], ["create"])
        c.remove()

    # --- /containers/{id}/stats -------------------------------------------------------------

    def test_stats_shape_and_numbers(self):
        c = self.docker.containers.run(IMAGE, ["sh", "-c", "while :; do :; done"], detach=True,
                                       name="busy", mem_limit="64m")
        s = c.stats(stream=False)
        self.assertEqual(list(s)[:11], ["read", "preread", "pids_stats", "blkio_stats",
                                        "num_procs", "storage_stats", "cpu_stats",
                                        "precpu_stats", "memory_stats", "name", "id"])
        self.assertEqual((s["name"], s["id"]), ("/busy", c.id))
        self.assertGreater(s["memory_stats"]["usage"], 0)
        self.assertEqual(s["memory_stats"]["limit"], 64 << 20)
        self.assertIsInstance(s["memory_stats"]["stats"], dict)
        self.assertGreaterEqual(s["pids_stats"]["current"], 1)
        cpu, pre = s["cpu_stats"], s["precpu_stats"]
        self.assertGreater(cpu["cpu_usage"]["total_usage"], pre["cpu_usage"]["total_usage"])
        self.assertGreater(pre["cpu_usage"]["total_usage"], 0)
        self.assertGreater(cpu["system_cpu_usage"], pre["system_cpu_usage"])
        self.assertGreaterEqual(cpu["online_cpus"], 1)
        self.assertIn("throttling_data", cpu)
        self.assertNotEqual(s["preread"], "0001-01-01T00:00:00Z")
        self.assertGreater(s["read"], s["preread"])
        # one-shot: one sample, no precpu.
        status, body = self.stack.request(
            "GET", "/v1.41/containers/busy/stats?stream=false&one-shot=true")
        self.assertEqual(status, 200, body)
        one = json.loads(body)
        self.assertEqual(one["preread"], "0001-01-01T00:00:00Z")
        self.assertEqual(one["precpu_stats"]["cpu_usage"]["total_usage"], 0)
        self.assertGreater(one["cpu_stats"]["cpu_usage"]["total_usage"], 0)
        # No memory limit: the host's memory.
        free = self.docker.containers.run(IMAGE, ["sleep", "30"], detach=True)
        with open("/proc/meminfo") as f:
            total = int(f.readline().split()[1]) * 1024
        self.assertEqual(free.stats(stream=False)["memory_stats"]["limit"], total)
        free.remove(force=True)
        # A stream: an object a second, each with the one before as precpu, until it stops.
        stream = c.stats(decode=True)
        first = next(stream)
        second = next(stream)
        self.assertEqual(second["precpu_stats"]["cpu_usage"]["total_usage"],
                         first["cpu_stats"]["cpu_usage"]["total_usage"])
        self.assertEqual(second["preread"], first["read"])
        c.kill()
        # As dockerd: zeroed objects while it does not run, until it is removed.
        for s in stream:
            if s["read"] == "0001-01-01T00:00:00Z":
                self.assertEqual(s["memory_stats"], {})
                break
        else:
            self.fail("the stream ended when the container stopped, not when it was removed")
        c.remove()
        rest = list(stream)  # ends
        self.assertLessEqual(len(rest), 2)

    def test_stats_of_a_stopped_container(self):
        c = self.docker.containers.create(IMAGE, ["true"], name="idle")
        s = c.stats(stream=False)
        self.assertEqual((s["name"], s["id"], s["read"]), ("/idle", c.id, "0001-01-01T00:00:00Z"))
        self.assertEqual((s["memory_stats"], s["pids_stats"]), ({}, {}))
        self.assertEqual(s["cpu_stats"]["cpu_usage"]["total_usage"], 0)
        status, body = self.stack.request("GET", "/v1.41/containers/nope/stats?stream=false")
        self.assertEqual(status, 404, body)
        c.remove()


class RestartTest(unittest.TestCase):
    """kill -9 of berthd loses no container and no output."""

    def test_berthd_killed_and_restarted(self):
        s = Stack()
        s.start()
        try:
            client = s.client()
            client.images.pull(IMAGE)
            c = client.containers.run(IMAGE, ["sh", "-c", "i=0; while :; do echo line$i; "
                                              "i=$((i+1)); sleep 0.2; done"],
                                      detach=True, name="survivor")
            c.reload()
            pid = c.attrs["State"]["Pid"]
            self.assertGreater(pid, 0)
            time.sleep(1)
            os.kill(s.berthd_pid(), signal.SIGKILL)
            time.sleep(1.5)  # it writes on while berthd is gone
            os.kill(pid, 0)  # the container still runs
            s.start_berthd()
            client.close()
            client = s.client()
            c = client.containers.get("survivor")
            self.assertTrue(c.attrs["State"]["Running"])
            self.assertEqual(c.attrs["State"]["Pid"], pid)
            time.sleep(0.5)
            c.stop(timeout=0)
            c.reload()
            self.assertEqual(c.attrs["State"]["Status"], "exited")
            with open(c.attrs["LogPath"]) as f:
                lines = [json.loads(line)["log"] for line in f]
            numbers = [int(x.strip()[4:]) for x in lines]
            self.assertEqual(numbers, list(range(len(numbers))), "lines lost or reordered")
            self.assertGreater(len(numbers), 12)
            c.remove()
            client.close()
        finally:
            leaks = s.stop()
        self.assertEqual(leaks, "")


class OrphanTest(unittest.TestCase):
    """A berthd that died between dropping a container and releasing what
    berth-runtimed holds for it collects that at its next start."""

    def test_orphans_collected_at_start(self):
        import sqlite3
        s = Stack()
        s.start()
        try:
            client = s.client()
            client.images.pull(IMAGE)
            kept = client.containers.create(IMAGE, ["true"], name="kept")
            orphan = client.containers.run(IMAGE, ["sleep", "100"], detach=True, name="orphan")
            client.close()
            os.kill(s.berthd_pid(), signal.SIGKILL)
            db = sqlite3.connect(os.path.join(s.dir, "berthd", "data", "berthd.db"))
            db.execute("DELETE FROM containers WHERE id = ?", (orphan.id,))
            db.commit()
            db.close()
            s.start_berthd()
            runtimed_db = os.path.join(s.dir, "runtimed", "root", "metadata.db")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                db = sqlite3.connect(runtimed_db)
                ids = [r[0] for r in db.execute("SELECT id FROM containers WHERE namespace = 'berth'")]
                db.close()
                if orphan.id not in ids:
                    break
                time.sleep(0.2)
            self.assertEqual(ids, [kept.id])
            for root in ("data", "exec"):
                self.assertFalse(os.path.exists(os.path.join(s.dir, "berthd", root, "containers",
                                                             orphan.id)))
            client = s.client()
            self.assertEqual([c.name for c in client.containers.list(all=True)], ["kept"])
            client.close()
        finally:
            leaks = s.stop()
        self.assertEqual(leaks, "")


def main():
    global BUILD, WORK, REGISTRY, IMAGE
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    BUILD = os.path.abspath(sys.argv.pop(1))
    WORK = tempfile.mkdtemp(prefix="berth-engine-api-")
    os.chmod(WORK, 0o755)
    try:
        run(os.path.join(FIXTURES, "busybox-image.sh"), os.path.join(WORK, "image"))
        REGISTRY = run(os.path.join(FIXTURES, "registry.sh"), "start",
                       os.path.join(WORK, "registry")).strip()
        run(os.path.join(FIXTURES, "registry.sh"), "push", os.path.join(WORK, "registry"),
            os.path.join(WORK, "image", "oci"), "busybox:latest")
        IMAGE = REGISTRY + "/busybox:latest"
        result = unittest.main(verbosity=2, exit=False).result
        sys.exit(0 if result.wasSuccessful() else 1)
    finally:
        subprocess.run([os.path.join(FIXTURES, "registry.sh"), "stop",
                        os.path.join(WORK, "registry")], capture_output=True)
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
