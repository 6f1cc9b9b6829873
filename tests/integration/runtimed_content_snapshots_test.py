#!/usr/bin/python3
"""berth-runtimed's Content and Snapshots APIs driven by a gRPC client that is not berthd.

Python's grpcio with message classes protoc generates from our .proto at test
time; methods are called by their full names. A private berth-runtimed (socket,
root and state in one temp dir) pulls from Debian's docker-registry on
127.0.0.1 (tests/fixtures/registry.sh) serving the offline two-layer image of
tests/fixtures/layered-image.sh (busybox, then a layer with whiteouts), so the
snapshots of a pull are a chain of two. Snapshots are mounted with mount(8):
run as root.

Usage: runtimed_content_snapshots_test.py BERTH_RUNTIMED PROTO_DIR [unittest args]
"""
import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import grpc

import runtimed_harness as harness
from runtimed_harness import run

RUNTIMED = None
WORK = None
REGISTRY = None  # "127.0.0.1:PORT"
IMAGE = None  # REGISTRY + "/layered:latest"
images_pb = None  # the generated images_pb2 module
content_pb = None  # content_pb2
snapshots_pb = None  # snapshots_pb2

MiB = 1 << 20
NS = "berth"


def read_text(path):
    with open(path) as f:
        return f.read()


def chain_ids(diff_ids):
    """The OCI chain IDs of layers with these diff IDs, bottom first."""
    chain = []
    for diff_id in diff_ids:
        if not chain:
            chain.append(diff_id)
        else:
            joined = (chain[-1] + " " + diff_id).encode()
            chain.append("sha256:" + hashlib.sha256(joined).hexdigest())
    return chain


class Runtimed(harness.Runtimed):
    def __init__(self, root):
        super().__init__(RUNTIMED, root)

    def pull(self, reference, ns=NS):
        return self.stream("Images", "Pull", images_pb.PullImageRequest(reference=reference),
                           images_pb.PullImageEvent, ns)

    # Content.
    def info(self, digest, ns=NS):
        return self.call("Content", "Info", content_pb.InfoContentRequest(digest=digest),
                         content_pb.ContentInfo, ns)

    def content_list(self, ns=NS):
        return self.call("Content", "List", content_pb.ListContentRequest(),
                         content_pb.ListContentResponse, ns).info

    def content_delete(self, digest):
        return self.call("Content", "Delete", content_pb.DeleteContentRequest(digest=digest),
                         content_pb.DeleteContentResponse)

    def read_chunks(self, digest, offset=0, size=0):
        return self.stream("Content", "Read",
                           content_pb.ReadContentRequest(digest=digest, offset=offset, size=size),
                           content_pb.ReadContentResponse)

    def read(self, digest, offset=0, size=0):
        return b"".join(c.data for c in self.read_chunks(digest, offset, size))

    # Snapshots.
    def prepare(self, key, parent, ns=NS):
        return list(self.call("Snapshots", "Prepare",
                              snapshots_pb.PrepareSnapshotRequest(key=key, parent=parent),
                              snapshots_pb.PrepareSnapshotResponse, ns).mounts)

    def view(self, key, parent, ns=NS):
        return list(self.call("Snapshots", "View",
                              snapshots_pb.ViewSnapshotRequest(key=key, parent=parent),
                              snapshots_pb.ViewSnapshotResponse, ns).mounts)

    def mounts(self, key, ns=NS):
        return list(self.call("Snapshots", "Mounts", snapshots_pb.MountsRequest(key=key),
                              snapshots_pb.MountsResponse, ns).mounts)

    def commit(self, name, key, ns=NS):
        return self.call("Snapshots", "Commit",
                         snapshots_pb.CommitSnapshotRequest(name=name, key=key),
                         snapshots_pb.CommitSnapshotResponse, ns)

    def remove(self, key, ns=NS):
        return self.call("Snapshots", "Remove", snapshots_pb.RemoveSnapshotRequest(key=key),
                         snapshots_pb.RemoveSnapshotResponse, ns)

    def stat(self, key, ns=NS):
        return self.call("Snapshots", "Stat", snapshots_pb.StatSnapshotRequest(key=key),
                         snapshots_pb.SnapshotInfo, ns)

    def snapshots(self, ns=NS):
        return list(self.call("Snapshots", "List", snapshots_pb.ListSnapshotsRequest(),
                              snapshots_pb.ListSnapshotsResponse, ns).info)

    def usage(self, key, ns=NS):
        return self.call("Snapshots", "Usage", snapshots_pb.UsageRequest(key=key),
                         snapshots_pb.UsageResponse, ns)


class RuntimedTest(unittest.TestCase):
    """A private berth-runtimed that has pulled the layered image into NS."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="runtimed-", dir=WORK)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.rt = Runtimed(self.dir)
        self.addCleanup(self.rt.stop, signal.SIGKILL)
        self.rt.start()
        # Registered last, run first: nothing stays mounted on what is removed.
        self.mounted = []
        self.addCleanup(self.unmount_all)
        events = self.rt.pull(IMAGE)
        self.assertTrue(events[-1].HasField("image"), events[-1])
        self.image = events[-1].image
        self.assertEqual(events[-2].progress.status, "unpacked")
        self.top = events[-2].progress.digest
        self.manifest = json.loads(self.rt.read(self.image.manifest.digest))
        self.config = json.loads(self.rt.read(self.image.config.digest))

    def unmount_all(self):
        for target in reversed(self.mounted):
            subprocess.run(["umount", target], capture_output=True)
            if os.path.ismount(target):
                subprocess.run(["umount", "-l", target], capture_output=True)
        self.mounted = []

    def mount(self, mounts, name):
        self.assertEqual(len(mounts), 1, mounts)
        target = os.path.join(self.dir, name)
        os.mkdir(target)
        argv = ["mount", "-t", mounts[0].type]
        if mounts[0].options:
            argv += ["-o", ",".join(mounts[0].options)]
        argv += [mounts[0].source, target]
        result = subprocess.run(argv, capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, "%s: %s" % (argv, result.stderr))
        self.mounted.append(target)
        return target

    def unmount(self, target):
        run("umount", target)
        self.mounted.remove(target)

    def assertCode(self, code, fn, *args):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        return cm.exception.details()

    def blob_path(self, digest):
        return os.path.join(self.dir, "root", "content", "blobs", "sha256", digest.split(":")[1])


class ContentTest(RuntimedTest):
    def test_list_and_info_show_every_blob_of_the_pull(self):
        layers = self.manifest["layers"]
        self.assertEqual(len(layers), 2)
        expected = {self.image.manifest.digest: self.image.manifest.size,
                    self.image.config.digest: self.image.config.size}
        for layer in layers:
            expected[layer["digest"]] = layer["size"]
        listed = self.rt.content_list()
        self.assertEqual({i.digest: i.size for i in listed}, expected)
        self.assertEqual([i.digest for i in listed], sorted(expected))
        for digest, size in expected.items():
            info = self.rt.info(digest)
            self.assertEqual(info.digest, digest)
            self.assertEqual(info.size, size)
            self.assertEqual(info.size, os.path.getsize(self.blob_path(digest)))
            self.assertLess(abs(info.created_at.seconds - time.time()), 600, info)
        # The store is not namespaced: another namespace sees the same blobs.
        self.assertEqual({i.digest for i in self.rt.content_list(ns="other")}, set(expected))
        self.assertEqual(self.rt.info(self.image.config.digest, ns="other").size,
                         self.image.config.size)

    def test_read_streams_blobs_whole_and_from_an_offset(self):
        for layer in self.manifest["layers"] + [self.manifest["config"]]:
            data = self.rt.read(layer["digest"])
            self.assertEqual(len(data), layer["size"])
            self.assertEqual("sha256:" + hashlib.sha256(data).hexdigest(), layer["digest"])
        layer = self.manifest["layers"][0]["digest"]
        whole = self.rt.read(layer)
        self.assertGreater(len(whole), 2000)
        self.assertEqual(self.rt.read(layer, 100, 1000), whole[100:1100])
        self.assertEqual(self.rt.read(layer, 1000), whole[1000:])
        self.assertEqual(self.rt.read(layer, len(whole) - 10), whole[-10:])
        # A size past the end reads to the end; an offset at the end reads nothing.
        self.assertEqual(self.rt.read(layer, len(whole) - 10, 100), whole[-10:])
        self.assertEqual(self.rt.read_chunks(layer, len(whole)), [])
        chunks = self.rt.read_chunks(layer, 5, 7)
        self.assertEqual([(c.offset, c.data) for c in chunks], [(5, whole[5:12])])

    def test_read_sends_chunks_of_at_most_one_mib(self):
        # A blob of 2.5 MiB put into the store by hand (it is an OCI layout).
        data = os.urandom(2 * MiB + MiB // 2)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(self.blob_path(digest), "wb") as f:
            f.write(data)
        self.assertEqual(self.rt.info(digest).size, len(data))
        chunks = self.rt.read_chunks(digest)
        self.assertEqual([(c.offset, len(c.data)) for c in chunks],
                         [(0, MiB), (MiB, MiB), (2 * MiB, MiB // 2)])
        self.assertEqual(b"".join(c.data for c in chunks), data)
        chunks = self.rt.read_chunks(digest, MiB - 1, MiB + 2)
        self.assertEqual([c.offset for c in chunks], [MiB - 1, 2 * MiB - 1])
        self.assertTrue(all(len(c.data) <= MiB for c in chunks))
        self.assertEqual(b"".join(c.data for c in chunks), data[MiB - 1:2 * MiB + 1])

    def test_errors_absent_bad_and_out_of_range(self):
        absent = "sha256:" + hashlib.sha256(b"never stored").hexdigest()
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.info, absent)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.read, absent)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.content_delete, absent)
        for bad in ("", "sha256:xyz", "md5:" + "0" * 32, "sha256:../../../etc/passwd",
                    "sha256:" + "A" * 64, absent.split(":")[1]):
            self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.info, bad)
            self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.read, bad)
            self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.content_delete, bad)
        config = self.image.config
        details = self.assertCode(grpc.StatusCode.OUT_OF_RANGE, self.rt.read, config.digest,
                                  config.size + 1)
        self.assertIn(str(config.size), details)
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.read, config.digest, -1)
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.read, config.digest, 0, -1)

    def test_delete_removes_the_blob(self):
        config = self.image.config.digest
        self.rt.content_delete(config)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.info, config)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.read, config)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.content_delete, config)
        self.assertNotIn(config, [i.digest for i in self.rt.content_list()])
        self.assertFalse(os.path.exists(self.blob_path(config)))
        self.assertEqual(len(self.rt.content_list()), 3)  # manifest, two layers


class SnapshotsTest(RuntimedTest):
    def chain(self):
        return chain_ids(self.config["rootfs"]["diff_ids"])

    def options(self, mount):
        """{"lowerdir": [...], "upperdir": ..., ...} of an overlay mount."""
        out = {}
        for option in mount.options:
            name, _, value = option.partition("=")
            out[name] = value.split(":") if name == "lowerdir" else value
        return out

    def test_pull_commits_the_chain_of_layers(self):
        bottom, top = self.chain()
        self.assertEqual(self.top, top)
        K = snapshots_pb.SnapshotInfo
        self.assertEqual([(s.key, s.parent, s.kind) for s in self.rt.snapshots()],
                         [(bottom, "", K.COMMITTED), (top, bottom, K.COMMITTED)])
        info = self.rt.stat(top)
        self.assertEqual((info.key, info.parent, info.kind), (top, bottom, K.COMMITTED))
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.mounts, top)

    def test_prepare_mount_commit_and_view(self):
        bottom, top = self.chain()
        K = snapshots_pb.SnapshotInfo
        mounts = self.rt.prepare("rootfs", top)
        self.assertEqual(len(mounts), 1, mounts)
        self.assertEqual((mounts[0].type, mounts[0].source), ("overlay", "overlay"))
        opts = self.options(mounts[0])
        self.assertIn("upperdir", opts)
        self.assertIn("workdir", opts)
        self.assertEqual(len(opts["lowerdir"]), 2, opts)
        # Nearest parent first: the top layer has /etc/layer2.
        self.assertTrue(os.path.exists(os.path.join(opts["lowerdir"][0], "etc", "layer2")))
        self.assertTrue(os.path.exists(os.path.join(opts["lowerdir"][1], "bin", "busybox")))
        self.assertEqual(os.listdir(opts["upperdir"]), [])
        self.assertEqual(self.rt.mounts("rootfs"), mounts)
        info = self.rt.stat("rootfs")
        self.assertEqual((info.key, info.parent, info.kind), ("rootfs", top, K.ACTIVE))

        target = self.mount(mounts, "mnt-rootfs")
        self.assertTrue(os.path.isfile(os.path.join(target, "bin", "busybox")))
        self.assertTrue(os.path.isfile(os.path.join(target, "etc", "layer2")))
        self.assertTrue(os.path.isfile(os.path.join(target, "data", "keep.txt")))
        self.assertFalse(os.path.exists(os.path.join(target, "data", "gone.txt")))
        out = run("chroot", target, "/bin/busybox", "sh", "-c", "echo hi > /written; cat /written")
        self.assertEqual(out, "hi\n")
        self.unmount(target)
        self.assertEqual(read_text(os.path.join(opts["upperdir"], "written")), "hi\n")

        self.rt.commit("rootfs-v1", "rootfs")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.stat, "rootfs")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.mounts, "rootfs")
        info = self.rt.stat("rootfs-v1")
        self.assertEqual((info.key, info.parent, info.kind), ("rootfs-v1", top, K.COMMITTED))
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.mounts, "rootfs-v1")

        # A view of the committed snapshot: read-only, all three layers.
        view = self.rt.view("look", "rootfs-v1")
        self.assertEqual(len(view), 1, view)
        self.assertEqual(view[0].type, "overlay")
        self.assertIn("ro", view[0].options)
        vopts = self.options(view[0])
        self.assertEqual(len(vopts["lowerdir"]), 3, vopts)
        self.assertNotIn("upperdir", vopts)
        self.assertEqual(self.rt.mounts("look"), view)
        info = self.rt.stat("look")
        self.assertEqual((info.key, info.parent, info.kind), ("look", "rootfs-v1", K.VIEW))
        target = self.mount(view, "mnt-look")
        self.assertEqual(read_text(os.path.join(target, "written")), "hi\n")
        self.assertTrue(os.path.isfile(os.path.join(target, "bin", "busybox")))
        with self.assertRaises(OSError) as cm:
            with open(os.path.join(target, "new"), "w"):
                pass
        self.assertEqual(cm.exception.errno, errno.EROFS)
        self.unmount(target)
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.commit, "x", "look")
        # A view of one layer is a read-only bind mount of it.
        single = self.rt.view("look-bottom", bottom)
        self.assertEqual([(m.type, list(m.options)) for m in single], [("bind", ["ro", "rbind"])])
        self.assertTrue(os.path.isfile(os.path.join(single[0].source, "bin", "busybox")))

        self.assertEqual([(s.key, s.kind) for s in self.rt.snapshots()],
                         [(bottom, K.COMMITTED), (top, K.COMMITTED), ("rootfs-v1", K.COMMITTED),
                          ("look", K.VIEW), ("look-bottom", K.VIEW)])
        # Removal goes from the top down.
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.remove, "rootfs-v1")
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.remove, top)
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.remove, bottom)
        self.rt.remove("look")
        self.rt.remove("rootfs-v1")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.stat, "rootfs-v1")
        self.assertFalse(os.path.exists(opts["upperdir"]))
        self.assertEqual([s.key for s in self.rt.snapshots()], [bottom, top, "look-bottom"])

    def test_errors(self):
        bottom, top = self.chain()
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.remove, "no-such-key")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.stat, "no-such-key")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.mounts, "no-such-key")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.usage, "no-such-key")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.commit, "x", "no-such-key")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.prepare, "a", "no-such-parent")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.view, "a", "no-such-parent")
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.prepare, "", top)
        self.rt.prepare("a", top)
        # An active snapshot is no parent.
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.prepare, "b", "a")
        self.assertCode(grpc.StatusCode.ALREADY_EXISTS, self.rt.prepare, "a", top)
        self.assertCode(grpc.StatusCode.ALREADY_EXISTS, self.rt.view, "a", top)
        self.assertCode(grpc.StatusCode.ALREADY_EXISTS, self.rt.prepare, top, bottom)
        self.assertCode(grpc.StatusCode.ALREADY_EXISTS, self.rt.commit, bottom, "a")
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.commit, "", "a")
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.commit, "c", top)
        self.assertCode(grpc.StatusCode.FAILED_PRECONDITION, self.rt.remove, bottom)
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.stat, "a", "bad namespace!")
        # None of the failures changed anything.
        self.assertEqual([s.key for s in self.rt.snapshots()], [bottom, top, "a"])
        self.assertEqual(self.rt.stat("a").kind, snapshots_pb.SnapshotInfo.ACTIVE)

    def test_usage_counts_the_snapshots_own_files_once(self):
        bottom, top = self.chain()
        mounts = self.rt.prepare("u", top)
        upper = self.options(mounts[0])["upperdir"]
        before = self.rt.usage("u")
        self.assertEqual(before.inodes, 1)  # the empty upper dir
        with open(os.path.join(upper, "blob"), "wb") as f:
            f.write(os.urandom(MiB))
        os.link(os.path.join(upper, "blob"), os.path.join(upper, "blob-link"))
        os.mkdir(os.path.join(upper, "dir"))
        os.symlink("/bin/busybox", os.path.join(upper, "dir", "busybox"))
        after = self.rt.usage("u")
        self.assertGreaterEqual(after.size - before.size, MiB, (before, after))
        self.assertLess(after.size - before.size, 2 * MiB, (before, after))  # the link: once
        self.assertEqual(after.inodes - before.inodes, 3, (before, after))  # blob, dir, symlink
        # A committed layer counts its own files only: the bottom one has busybox.
        busybox = os.path.join(self.options(mounts[0])["lowerdir"][1], "bin", "busybox")
        self.assertGreaterEqual(self.rt.usage(bottom).size, os.stat(busybox).st_blocks * 512)
        self.assertLess(self.rt.usage(top).size, self.rt.usage(bottom).size)

    def test_another_namespace_sees_none_of_it(self):
        bottom, top = self.chain()
        self.rt.prepare("mine", top)
        self.assertEqual(self.rt.snapshots(ns="other"), [])
        for key in (bottom, top, "mine"):
            self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.stat, key, "other")
            self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.usage, key, "other")
            self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.remove, key, "other")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.mounts, "mine", "other")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.commit, "x", "mine", "other")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.prepare, "theirs", top, "other")
        # The same key in the other namespace is another snapshot.
        theirs = self.rt.prepare("mine", "", ns="other")
        self.assertEqual([m.type for m in theirs], ["bind"])
        self.assertEqual([s.key for s in self.rt.snapshots(ns="other")], ["mine"])
        self.rt.remove("mine", ns="other")
        self.assertEqual(self.rt.stat("mine").parent, top)
        self.assertEqual([s.key for s in self.rt.snapshots()], [bottom, top, "mine"])


def main():
    def setup(fixture):
        global RUNTIMED, WORK, REGISTRY, IMAGE, images_pb, content_pb, snapshots_pb
        RUNTIMED, WORK, REGISTRY = fixture.args[0], fixture.work, fixture.registry
        IMAGE = REGISTRY + "/layered:latest"
        images_pb, content_pb, snapshots_pb = (
            fixture.pb["images"], fixture.pb["content"], fixture.pb["snapshots"])
    harness.main(__doc__, "berth-runtimed-cs-test-", ["images", "content", "snapshots"],
                 "layered-image.sh", "layered:latest", setup)


if __name__ == "__main__":
    main()
