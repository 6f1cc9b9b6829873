#!/usr/bin/python3
"""berthd pulls from a registry that wants credentials, with the ones the
client sends in X-Registry-Auth (as `docker pull` after `docker login`, and
the python3-docker SDK's auth_config, send them).

Usage: engine_registry_auth_test.py BUILD_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

import docker

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
LIB = os.path.join(HERE, "lib_berth_stack.sh")


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300).stdout


def stack(build, function, directory):
    env = dict(os.environ, BUILD_DIR=build, BERTH_CGROUP_PARENT="/berth-e2e-auth-%d" % os.getpid())
    return subprocess.run(["bash", "-c", 'source "$1" && %s "$2"' % function, "_", LIB, directory],
                          env=env, capture_output=True, text=True, timeout=120)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    build = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="berth-engine-auth-")
    os.chmod(work, 0o755)
    failures = []
    stack_dir = os.path.join(work, "stack")
    try:
        run(os.path.join(FIXTURES, "busybox-image.sh"), os.path.join(work, "image"))
        registry = run(os.path.join(FIXTURES, "registry.sh"), "start", os.path.join(work, "registry"),
                       "--htpasswd", "berth:s3cret").strip()
        run(os.path.join(FIXTURES, "registry.sh"), "push", os.path.join(work, "registry"),
            os.path.join(work, "image", "oci"), "private/busybox:latest")
        image = registry + "/private/busybox:latest"
        r = stack(build, "berth_stack_start", stack_dir)
        if r.returncode != 0:
            raise RuntimeError("stack did not start: " + r.stdout + r.stderr)
        client = docker.DockerClient(base_url="unix://" + os.path.join(stack_dir, "berthd.sock"),
                                     version="1.41", timeout=120)

        def expect_refused(auth, what):
            try:
                client.images.pull(image, auth_config=auth)
                failures.append("%s: the pull was allowed" % what)
            except docker.errors.APIError as e:
                if registry not in str(e):
                    failures.append("%s: the error does not name the registry: %s" % (what, e))
                print("ok: %s refused: %s" % (what, e.explanation))

        expect_refused(None, "no credentials")
        expect_refused({"username": "berth", "password": "wrong"}, "a wrong password")
        if client.images.list():
            failures.append("a refused pull left an image: %s" % client.images.list())
        pulled = client.images.pull(image, auth_config={"username": "berth", "password": "s3cret"})
        print("ok: pulled %s with credentials" % pulled.tags)
        out = client.containers.run(image, ["echo", "private"], remove=True)
        if out != b"private\n":
            failures.append("run of the private image printed %r" % out)
        client.close()
    finally:
        r = stack(build, "berth_stack_stop", stack_dir)
        if r.returncode != 0:
            failures.append("the stack leaked: " + r.stderr)
        subprocess.run([os.path.join(FIXTURES, "registry.sh"), "stop",
                        os.path.join(work, "registry")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f)
    print("PASS" if not failures else "FAIL")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
