#!/usr/bin/python3
"""berth-runtimed's Images API driven by a gRPC client that is not berthd.

Python's grpcio with message classes protoc generates from our .proto at test
time; methods are called by their full names. A private berth-runtimed (socket,
root and state in one temp dir) pulls from Debian's docker-registry on
127.0.0.1 (tests/fixtures/registry.sh) serving the offline busybox image.

Usage: runtimed_images_test.py BERTH_RUNTIMED PROTO_DIR [unittest args]
"""
import os
import shutil
import signal
import tempfile
import unittest

import grpc

import runtimed_harness as harness

RUNTIMED = None
WORK = None
REGISTRY = None  # "127.0.0.1:PORT"
pb = None  # the generated images_pb2 module


class Runtimed(harness.Runtimed):
    def __init__(self, root):
        super().__init__(RUNTIMED, root)

    def pull(self, reference, ns="berth", platform="", labels=None):
        return self.stream("Images", "Pull",
                           pb.PullImageRequest(reference=reference, platform=platform,
                                               labels=labels or {}),
                           pb.PullImageEvent, ns)


class ImagesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="runtimed-", dir=WORK)
        self.rt = Runtimed(self.dir)
        self.rt.start()
        self.addCleanup(self.cleanup)

    def cleanup(self):
        self.rt.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def assertCode(self, code, fn, *args):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        return cm.exception.details()

    def test_pull_streams_progress_then_the_image_and_names_it_in_its_namespace(self):
        events = self.rt.pull(REGISTRY + "/busybox:latest")
        self.assertTrue(events[-1].HasField("image"), events[-1])
        image = events[-1].image
        self.assertEqual(image.name, REGISTRY + "/busybox:latest")
        self.assertTrue(image.target.digest.startswith("sha256:"))
        self.assertEqual(image.platform, "linux/amd64")
        self.assertGreater(image.size, 0)
        statuses = [e.progress.status for e in events[:-1]]
        self.assertIn("resolved", statuses)
        self.assertIn("done", statuses)
        self.assertEqual(statuses[-1], "unpacked")
        # The layer is unpacked into a committed snapshot: busybox is there.
        snapshots = os.path.join(self.dir, "root", "snapshots")
        unpacked = [d for d in os.listdir(snapshots)
                    if os.path.exists(os.path.join(snapshots, d, "fs", "bin", "busybox"))]
        self.assertEqual(len(unpacked), 1, os.listdir(snapshots))
        self.assertFalse(os.path.exists(os.path.join(snapshots, unpacked[0], "work")))
        # Every blob is in the content store under its digest.
        blobs = os.path.join(self.dir, "root", "content", "blobs", "sha256")
        for d in (image.target, image.config):
            path = os.path.join(blobs, d.digest.split(":")[1])
            self.assertEqual(os.path.getsize(path), d.size)

        listed = self.rt.call("Images", "List", pb.ListImagesRequest(), pb.ListImagesResponse)
        self.assertEqual([i.name for i in listed.images], [image.name])
        other = self.rt.call("Images", "List", pb.ListImagesRequest(), pb.ListImagesResponse, ns="other")
        self.assertEqual(list(other.images), [])
        got = self.rt.call("Images", "Get", pb.GetImageRequest(name=REGISTRY + "/busybox"), pb.Image)
        self.assertEqual(got.target.digest, image.target.digest)

    def test_tag_delete_and_a_restart_after_kill_9(self):
        image = self.rt.pull(REGISTRY + "/busybox:latest")[-1].image
        tagged = self.rt.call("Images", "Tag", pb.TagImageRequest(source=image.name, target="mine:v1"),
                              pb.Image)
        self.assertEqual(tagged.name, "docker.io/library/mine:v1")
        self.assertEqual(tagged.target.digest, image.target.digest)
        self.rt.call("Images", "Delete", pb.DeleteImageRequest(name=image.name), pb.DeleteImageResponse)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.call, "Images", "Get",
                        pb.GetImageRequest(name=image.name), pb.Image)
        # The tag still names the same content: nothing was collected.
        blobs = os.path.join(self.dir, "root", "content", "blobs", "sha256")
        self.assertIn(image.config.digest.split(":")[1], os.listdir(blobs))
        self.assertEqual(len(os.listdir(os.path.join(self.dir, "root", "snapshots"))), 1)
        # The metadata outlives a kill -9.
        self.rt.stop(signal.SIGKILL)
        self.rt.start()
        listed = self.rt.call("Images", "List", pb.ListImagesRequest(), pb.ListImagesResponse)
        self.assertEqual([i.name for i in listed.images], ["docker.io/library/mine:v1"])

    def test_deleting_the_last_name_of_an_image_frees_its_blobs_and_snapshots(self):
        image = self.rt.pull(REGISTRY + "/busybox:latest")[-1].image
        blobs = os.path.join(self.dir, "root", "content", "blobs", "sha256")
        snapshots = os.path.join(self.dir, "root", "snapshots")
        self.assertGreaterEqual(len(os.listdir(blobs)), 3)
        self.assertEqual(len(os.listdir(snapshots)), 1)
        self.rt.call("Images", "Delete", pb.DeleteImageRequest(name=image.name), pb.DeleteImageResponse)
        self.assertEqual(os.listdir(blobs), [])
        self.assertEqual(os.listdir(snapshots), [])
        # And it pulls again from nothing.
        again = self.rt.pull(REGISTRY + "/busybox:latest")[-1].image
        self.assertEqual(again.target.digest, image.target.digest)
        self.assertEqual(len(os.listdir(snapshots)), 1)

    def test_pull_labels_and_list_filters(self):
        latest = self.rt.pull(REGISTRY + "/busybox:latest",
                              labels={"env": "prod", "com.example.tier": "db"})[-1].image
        self.assertEqual(dict(latest.labels), {"env": "prod", "com.example.tier": "db"})
        mine = self.rt.call("Images", "Tag", pb.TagImageRequest(source=latest.name, target="mine:v1"),
                            pb.Image)
        self.assertEqual(dict(mine.labels), dict(latest.labels))
        pinned = self.rt.pull(REGISTRY + "/busybox@" + latest.target.digest,
                              labels={"env": "dev"})[-1].image
        self.assertNotEqual(pinned.name, latest.name)
        # Pulling again adds labels to those the name has.
        again = self.rt.pull(REGISTRY + "/busybox:latest", labels={"extra": "1"})[-1].image
        self.assertEqual(dict(again.labels), {"env": "prod", "com.example.tier": "db", "extra": "1"})
        got = self.rt.call("Images", "Get", pb.GetImageRequest(name=latest.name), pb.Image)
        self.assertEqual(dict(got.labels), dict(again.labels))

        def names(*filters):
            listed = self.rt.call("Images", "List", pb.ListImagesRequest(filters=list(filters)),
                                  pb.ListImagesResponse)
            return sorted(i.name for i in listed.images)

        everything = sorted([latest.name, mine.name, pinned.name])
        self.assertEqual(names(), everything)
        self.assertEqual(names("labels.env==prod"), sorted([latest.name, mine.name]))
        self.assertEqual(names("labels.env==dev"), [pinned.name])
        self.assertEqual(names("labels.env!=prod"), [pinned.name])
        # Comma is AND; a quoted label key; a regexp.
        self.assertEqual(names('labels."com.example.tier"==db,name~=^docker.io/'), [mine.name])
        self.assertEqual(names("labels.com.example.tier==db,labels.extra"), [latest.name])
        # Several filters are OR.
        self.assertEqual(names("labels.extra", "labels.env==dev"),
                         sorted([latest.name, pinned.name]))
        self.assertEqual(names("name==" + latest.name), [latest.name])
        self.assertEqual(names("target.digest==" + latest.target.digest), everything)
        self.assertEqual(names("labels.nope"), [])
        self.assertEqual(names(" labels.env == dev "), [pinned.name])
        # Another namespace's images stay out of it.
        other = self.rt.call("Images", "List", pb.ListImagesRequest(filters=["labels.env"]),
                             pb.ListImagesResponse, ns="other")
        self.assertEqual(list(other.images), [])

        def bad(*filters):
            return self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.call, "Images", "List",
                                   pb.ListImagesRequest(filters=list(filters)),
                                   pb.ListImagesResponse)

        self.assertEqual(bad("labels.env=prod"),
                         'invalid filter "labels.env=prod" at column 11: unsupported operator "=" '
                         "(want ==, !=, ~= or @=)")
        self.assertIn('at column 1: unknown field "nope"', bad("labels.env", "nope==1"))
        self.assertIn("at column 7: bad regular expression", bad("name~=(x"))
        self.assertIn("at the end: want a value", bad("name=="))
        self.assertIn("at column 8: quoted text is not terminated", bad('labels."env==x'))

    def test_bad_input_gets_one_clear_status(self):
        details = self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.pull, "Bad/Name")
        self.assertIn("lowercase", details)
        details = self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.pull,
                                  REGISTRY + "/busybox:nope")
        self.assertIn("busybox:nope", details)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.pull, REGISTRY + "/busybox",
                        "berth", "linux/s390x")
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.pull, REGISTRY + "/busybox",
                        "berth", "not a platform")
        self.assertCode(grpc.StatusCode.UNAVAILABLE, self.rt.pull, "127.0.0.1:1/busybox")
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.rt.pull, REGISTRY + "/busybox",
                        "bad namespace!")
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.call, "Images", "Get",
                        pb.GetImageRequest(name="never-pulled"), pb.Image)
        listed = self.rt.call("Images", "List", pb.ListImagesRequest(), pb.ListImagesResponse)
        self.assertEqual(list(listed.images), [])


def main():
    def setup(fixture):
        global RUNTIMED, WORK, REGISTRY, pb
        RUNTIMED, WORK, REGISTRY = fixture.args[0], fixture.work, fixture.registry
        pb = fixture.pb["images"]
    harness.main(__doc__, "berth-runtimed-test-", ["images"], "busybox-image.sh",
                 "busybox:latest", setup, layout="oci")


if __name__ == "__main__":
    main()
