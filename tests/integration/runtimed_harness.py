"""What the berth-runtimed API tests share: a private berth-runtimed (socket,
root and state under one directory) and a grpcio client calling its methods by
full name with protoc-generated message classes, scoped by "berth-namespace".
"""
import importlib
import os
import signal
import subprocess
import sys
import time

import grpc


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
