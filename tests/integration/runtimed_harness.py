"""What the berth-runtimed API tests share: a private berth-runtimed (socket,
root and state under one directory) and a grpcio client calling its methods by
full name with protoc-generated message classes, scoped by "berth-namespace";
and their main(): a temp dir, the generated protos, a fixture image served by
Debian's docker-registry on 127.0.0.1 (tests/fixtures/registry.sh), unittest.
"""
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import unittest

import grpc

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
REGISTRY_SH = os.path.join(FIXTURES, "registry.sh")
REGISTRY_TIMEOUT = 60  # seconds, per registry.sh start or push


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def generate_protos(out_dir, proto_dir, names):
    """protoc --python_out for berth/runtime/v1/NAME.proto; returns {NAME: module}."""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(["protoc", "-I", proto_dir, "--python_out", out_dir] +
                   ["berth/runtime/v1/%s.proto" % n for n in names], check=True)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    return {n: importlib.import_module("berth.runtime.v1.%s_pb2" % n) for n in names}


class Runtimed:
    def __init__(self, binary, root, path_dirs=()):
        self.binary = binary
        self.root = root
        self.path_dirs = list(path_dirs)  # put first on its PATH (shims, OCI runtimes)
        self.sock = os.path.join(root, "runtimed.sock")
        self.proc = None
        self.channel = None

    def log(self):
        with open(os.path.join(self.root, "runtimed.log")) as f:
            return f.read()[-3000:]

    def start(self):
        env = dict(os.environ)
        if self.path_dirs:
            env["PATH"] = ":".join(self.path_dirs +
                                   [env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")])
        with open(os.path.join(self.root, "runtimed.log"), "a") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--address", self.sock, "--root", os.path.join(self.root, "root"),
                 "--state", os.path.join(self.root, "state"), "--log-level", "debug"],
                stdout=subprocess.DEVNULL, stderr=log, env=env)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("berth-runtimed did not start: " + self.log())
            time.sleep(0.05)
        self.channel = grpc.insecure_channel("unix:" + self.sock)
        grpc.channel_ready_future(self.channel).result(timeout=10)

    def stop(self, sig=signal.SIGTERM):
        if self.channel:
            self.channel.close()
            self.channel = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def call(self, service, method, request, response_class, ns="berth", timeout=60):
        fn = self.channel.unary_unary("/berth.runtime.v1.%s/%s" % (service, method),
                                      request_serializer=lambda m: m.SerializeToString(),
                                      response_deserializer=response_class.FromString)
        return fn(request, metadata=(("berth-namespace", ns),), timeout=timeout)

    def stream(self, service, method, request, response_class, ns="berth", timeout=120):
        fn = self.channel.unary_stream("/berth.runtime.v1.%s/%s" % (service, method),
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=response_class.FromString)
        return list(fn(request, metadata=(("berth-namespace", ns),), timeout=timeout))


def registry_dir(work, name):
    """The STATEDIR main() gives registry.sh for registry NAME."""
    return os.path.join(work, "registries", name)


def main(doc, prefix, protos, image, push, setup, layout=None, registries=None, mode=None,
         cleanup=None, exit_on_sigterm=False):
    """The main() of a berth-runtimed API test run as `TEST ARG1 ARG2 [unittest args]`.

    doc: the test's usage (its __doc__), printed when an argument is missing
    (exit status 2). prefix: the temp dir WORK's prefix; mode: its mode, if
    not mkdtemp's 0700. protos: the berth/runtime/v1 proto names generated into
    WORK/gen. image: the fixture script (tests/fixtures) building the image
    into WORK/image; layout: its OCI layout below WORK/image, if not that dir
    itself. registries: {name: registry.sh start options}, each started in
    registry_dir(WORK, name) and pushed the image as `push` (REPO:TAG); one
    plain anonymous registry by default.

    setup(fixture) then sets the test module's globals, with fixture.args (the
    two arguments as absolute paths), .work, .pb ({proto name: generated
    module}), .registries ({name: "127.0.0.1:PORT"}) and .registry (the first
    one's address). The tests run; the exit status is 0 if they all passed,
    else 1. A fixture command that fails is printed with its stderr (exit 1).
    Whatever happens, cleanup() (if given) runs, the registries are stopped
    and WORK is removed. exit_on_sigterm: SIGTERM (a timeout) does that
    cleanup and exits 1 at once: an exception raised in the middle of a grpc
    call need not make it out.
    """
    if registries is None:
        registries = {"registry": []}
    if len(sys.argv) < 3:
        print(doc)
        sys.exit(2)
    args = [os.path.abspath(sys.argv.pop(1)), os.path.abspath(sys.argv.pop(1))]
    work = None

    def clean():
        if cleanup:
            cleanup()
        if work is None:
            return
        for name in registries:
            if os.path.isdir(registry_dir(work, name)):
                try:
                    subprocess.run([REGISTRY_SH, "stop", registry_dir(work, name)],
                                   capture_output=True, timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        shutil.rmtree(work, ignore_errors=True)

    if exit_on_sigterm:
        def terminated(*_):
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once (timeout(1) signals the group too)
            print("FAIL: terminated", file=sys.stderr)
            clean()
            os._exit(1)
        signal.signal(signal.SIGTERM, terminated)
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        if mode is not None:
            os.chmod(work, mode)
        pb = generate_protos(os.path.join(work, "gen"), args[1], protos)
        run(os.path.join(FIXTURES, image), os.path.join(work, "image"))
        oci = os.path.join(work, "image", layout) if layout else os.path.join(work, "image")
        addresses = {}
        for name, options in registries.items():
            state = registry_dir(work, name)
            addresses[name] = subprocess.run([REGISTRY_SH, "start", state] + options, check=True,
                                             capture_output=True, text=True,
                                             timeout=REGISTRY_TIMEOUT).stdout.strip()
            # registry.sh pushes through the same auth and TLS (skopeo --dest-creds,
            # --dest-cert-dir).
            subprocess.run([REGISTRY_SH, "push", state, oci, push], check=True,
                           capture_output=True, text=True, timeout=REGISTRY_TIMEOUT)
        setup(types.SimpleNamespace(args=args, work=work, pb=pb, registries=addresses,
                                    registry=next(iter(addresses.values()), None)))
        result = unittest.main(module="__main__", verbosity=2, exit=False).result
        sys.exit(0 if result.wasSuccessful() else 1)
    except subprocess.CalledProcessError as e:
        print("FAIL: %s: %s" % (" ".join(e.cmd), (e.stderr or "").rstrip()), file=sys.stderr)
        sys.exit(1)
    finally:
        if exit_on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        clean()
