#!/usr/bin/python3
"""berth-runtimed pulls through registry authentication and TLS, end to end
through the Images.Pull gRPC API (PullImageRequest.auth).

Debian's docker-registry on 127.0.0.1 (tests/fixtures/registry.sh), five of
them, each serving the offline busybox image pushed through its own auth/TLS:
  token     token auth (tests/fixtures/token_server.py), plain HTTP
  basic     basic auth (htpasswd), plain HTTP
  tls       anonymous, HTTPS with a throw-away CA
  tls_token token auth over HTTPS (the token server too)
  mtls      anonymous, HTTPS, a client certificate required
Each test runs a private berth-runtimed (socket, root and state in a temp dir)
with --registry-certs-dir and --insecure-registry as it needs, and checks the
status code and message of what fails and that a refused pull stores nothing.

Usage: runtimed_registry_auth_test.py BERTH_RUNTIMED PROTO_DIR [unittest args]
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import grpc

import runtimed_harness as harness

RUNTIMED = None
WORK = None
pb = None  # the generated images_pb2 module

# name -> start options; the users are the fixture's, the passwords made up.
REGISTRIES = {
    "token": ["--token", "alice:wonderland"],
    "basic": ["--htpasswd", "bob:builder"],
    "tls": ["--tls"],
    "tls_token": ["--tls", "--token", "carol:s3cret"],
    "mtls": ["--mtls"],
}
ADDR = {}  # name -> "127.0.0.1:PORT"
STARTED = []  # every berth-runtimed started, killed at exit if a test could not
PULL_TIMEOUT = 60  # seconds, per pull


def state_dir(name):
    return harness.registry_dir(WORK, name)


def certs_dir(name):
    """The registry's CA (and client certificate) in docker's certs.d layout."""
    return os.path.join(state_dir(name), "certs.d")


class Runtimed(harness.Runtimed):
    """The harness's berth-runtimed with extra flags."""

    def __init__(self, root, flags):
        super().__init__(RUNTIMED, root)
        self.flags = list(flags)

    def start(self):
        with open(os.path.join(self.root, "runtimed.log"), "a") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--address", self.sock, "--root", os.path.join(self.root, "root"),
                 "--state", os.path.join(self.root, "state"), "--log-level", "debug"] +
                self.flags, stdout=subprocess.DEVNULL, stderr=log)
        STARTED.append(self.proc)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("berth-runtimed did not start: " + self.log())
            time.sleep(0.05)
        self.channel = grpc.insecure_channel("unix:" + self.sock)
        grpc.channel_ready_future(self.channel).result(timeout=10)

    def pull(self, reference, username="", password=""):
        request = pb.PullImageRequest(reference=reference)
        if username:
            request.auth.username = username
            request.auth.password = password
        return self.stream("Images", "Pull", request, pb.PullImageEvent, timeout=PULL_TIMEOUT)

    def images(self):
        return list(self.call("Images", "List", pb.ListImagesRequest(),
                              pb.ListImagesResponse).images)


class PullTest(unittest.TestCase):
    def runtimed(self, *flags, certs=None):
        """A started berth-runtimed; certs: its --registry-certs-dir (default: an
        empty one, so that the host's /etc/docker/certs.d plays no part)."""
        root = tempfile.mkdtemp(prefix="runtimed-", dir=WORK)
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        if certs is None:
            certs = os.path.join(root, "no-certs.d")
            os.mkdir(certs)
        rt = Runtimed(root, ["--registry-certs-dir", certs] + list(flags))
        self.addCleanup(rt.stop, signal.SIGKILL)
        rt.start()
        return rt

    def assertPulled(self, rt, reference, *creds):
        events = rt.pull(reference, *creds)
        self.assertTrue(events[-1].HasField("image"), events[-1])
        self.assertEqual(events[-1].image.name, reference + ":latest")
        self.assertEqual([i.name for i in rt.images()], [reference + ":latest"])
        blobs = os.path.join(rt.root, "root", "content", "blobs", "sha256")
        self.assertGreaterEqual(len(os.listdir(blobs)), 3)  # manifest, config, layer
        return events[-1].image

    def assertRefused(self, code, rt, reference, *creds):
        """The pull fails with code; nothing is named or stored. Returns the message."""
        with self.assertRaises(grpc.RpcError) as cm:
            rt.pull(reference, *creds)
        details = cm.exception.details()
        self.assertEqual(cm.exception.code(), code, details)
        self.assertNotIn("\n", details)
        self.assertEqual(rt.images(), [])
        blobs = os.path.join(rt.root, "root", "content", "blobs", "sha256")
        self.assertEqual(os.listdir(blobs) if os.path.isdir(blobs) else [], [])
        return details


class TokenAuthTest(PullTest):
    def test_right_credentials_pull(self):
        rt = self.runtimed()
        self.assertPulled(rt, ADDR["token"] + "/busybox", "alice", "wonderland")
        # HTTPS first, then plain HTTP: this registry is on 127.0.0.1 without TLS.
        self.assertIn("trying plain HTTP", rt.log())

    def test_wrong_password_is_refused_naming_the_registry_and_user(self):
        details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED, self.runtimed(),
                                     ADDR["token"] + "/busybox", "alice", "not-the-password")
        self.assertIn(ADDR["token"], details)
        self.assertIn('refused the credentials of user "alice"', details)
        self.assertIn("incorrect username or password", details)  # the token server's words

    def test_unknown_user_is_refused(self):
        details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED, self.runtimed(),
                                     ADDR["token"] + "/busybox", "mallory", "wonderland")
        self.assertIn('user "mallory"', details)

    def test_no_credentials_get_an_anonymous_token_that_is_not_enough(self):
        details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED, self.runtimed(),
                                     ADDR["token"] + "/busybox")
        self.assertIn(ADDR["token"], details)
        self.assertIn("pull access to busybox requires authentication", details)
        self.assertIn("no credentials were given", details)


class BasicAuthTest(PullTest):
    def test_right_credentials_pull(self):
        self.assertPulled(self.runtimed(), ADDR["basic"] + "/busybox", "bob", "builder")

    def test_wrong_password_is_refused_naming_the_registry_and_user(self):
        details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED, self.runtimed(),
                                     ADDR["basic"] + "/busybox", "bob", "wrong")
        self.assertIn(ADDR["basic"] + ' refused the credentials of user "bob" (basic auth)',
                      details)

    def test_no_credentials(self):
        details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED, self.runtimed(),
                                     ADDR["basic"] + "/busybox")
        self.assertIn(ADDR["basic"] + " requires authentication (basic auth)", details)
        self.assertIn("no credentials were given", details)


class TlsTest(PullTest):
    def test_the_ca_in_the_certs_dir_is_trusted(self):
        rt = self.runtimed(certs=certs_dir("tls"))
        self.assertPulled(rt, ADDR["tls"] + "/busybox")
        self.assertNotIn("trying plain HTTP", rt.log())

    def test_an_unknown_ca_fails_verification_with_a_clear_message(self):
        rt = self.runtimed()
        details = self.assertRefused(grpc.StatusCode.UNAVAILABLE, rt, ADDR["tls"] + "/busybox")
        self.assertIn("https://" + ADDR["tls"], details)
        self.assertIn("cannot verify the registry's TLS certificate", details)
        self.assertIn(os.path.join(rt.root, "no-certs.d", ADDR["tls"], "ca.crt"), details)
        self.assertIn("insecure registry", details)

    def test_a_wrong_ca_fails_verification(self):
        # Another registry's CA, in the right place.
        certs = tempfile.mkdtemp(prefix="certs-", dir=WORK)
        os.mkdir(os.path.join(certs, ADDR["tls"]))
        shutil.copy(os.path.join(state_dir("tls_token"), "ca.crt"),
                    os.path.join(certs, ADDR["tls"], "ca.crt"))
        details = self.assertRefused(grpc.StatusCode.UNAVAILABLE, self.runtimed(certs=certs),
                                     ADDR["tls"] + "/busybox")
        self.assertIn("cannot verify the registry's TLS certificate", details)

    def test_an_insecure_registry_is_not_verified(self):
        # docker's insecure registry: HTTPS without verification (then HTTP).
        rt = self.runtimed("--insecure-registry", ADDR["tls"])
        self.assertPulled(rt, ADDR["tls"] + "/busybox")

    def test_a_client_certificate_from_the_certs_dir(self):
        # certs.d/HOST:PORT holds ca.crt, client.cert and client.key.
        self.assertPulled(self.runtimed(certs=certs_dir("mtls")), ADDR["mtls"] + "/busybox")

    def test_without_a_client_certificate_the_handshake_error_is_reported(self):
        certs = tempfile.mkdtemp(prefix="certs-", dir=WORK)
        os.mkdir(os.path.join(certs, ADDR["mtls"]))
        shutil.copy(os.path.join(state_dir("mtls"), "ca.crt"),
                    os.path.join(certs, ADDR["mtls"], "ca.crt"))
        details = self.assertRefused(grpc.StatusCode.UNAVAILABLE, self.runtimed(certs=certs),
                                     ADDR["mtls"] + "/busybox")
        # The TLS error, not the plain-HTTP fallback's "400 Bad Request".
        self.assertIn("https://" + ADDR["mtls"] + "/v2/busybox/manifests/latest", details)
        self.assertNotIn("HTTP 400", details)
        self.assertIn("the registry speaks TLS but the connection failed", details)
        self.assertIn("put client.cert and client.key in " + os.path.join(certs, ADDR["mtls"]),
                      details)

    def test_a_client_certificate_without_its_key_is_a_clear_error(self):
        certs = tempfile.mkdtemp(prefix="certs-", dir=WORK)
        os.mkdir(os.path.join(certs, ADDR["mtls"]))
        for f in ("ca.crt", "client.cert"):
            shutil.copy(os.path.join(certs_dir("mtls"), ADDR["mtls"], f),
                        os.path.join(certs, ADDR["mtls"], f))
        details = self.assertRefused(grpc.StatusCode.FAILED_PRECONDITION,
                                     self.runtimed(certs=certs), ADDR["mtls"] + "/busybox")
        self.assertIn("missing key " + os.path.join(certs, ADDR["mtls"], "client.key"), details)

    def test_token_auth_over_tls_right_and_wrong_credentials(self):
        # The token server is HTTPS too, verified with the registry's CA.
        rt = self.runtimed(certs=certs_dir("tls_token"))
        details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED, rt,
                                     ADDR["tls_token"] + "/busybox", "carol", "guess")
        self.assertIn('refused the credentials of user "carol"', details)
        self.assertPulled(rt, ADDR["tls_token"] + "/busybox", "carol", "s3cret")

    def test_token_auth_over_tls_with_an_unknown_ca(self):
        details = self.assertRefused(grpc.StatusCode.UNAVAILABLE, self.runtimed(),
                                     ADDR["tls_token"] + "/busybox", "carol", "s3cret")
        self.assertIn("cannot verify the registry's TLS certificate", details)


def main():
    def setup(fixture):
        global RUNTIMED, WORK, pb
        RUNTIMED, WORK, pb = fixture.args[0], fixture.work, fixture.pb["images"]
        ADDR.update(fixture.registries)
    harness.main(__doc__, "berth-registry-auth-test-", ["images"], "busybox-image.sh",
                 "busybox:latest", setup, layout="oci", registries=REGISTRIES,
                 cleanup=kill_started, exit_on_sigterm=True)


def kill_started():
    """Kills every berth-runtimed still running (harness.main then stops the
    registries and removes WORK)."""
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
