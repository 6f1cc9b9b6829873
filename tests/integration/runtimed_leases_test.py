#!/usr/bin/python3
"""berth-runtimed's Leases API and content labels, from a gRPC client that is not berthd.

Python's grpcio with message classes protoc generates from our .proto at test
time. A private berth-runtimed (socket, root and state in one temp dir) pulls
the two-layer image of tests/fixtures/layered-image.sh from Debian's
docker-registry on 127.0.0.1. Garbage collection runs when an image is
deleted and when a lease is deleted with sync; what it keeps is checked in
the content store's directory and through Content.List.

Usage: runtimed_leases_test.py BERTH_RUNTIMED PROTO_DIR [unittest args]
"""
import datetime
import json
import os
import shutil
import signal
import tempfile
import unittest

import grpc

import runtimed_harness as harness

RUNTIMED = None
WORK = None
IMAGE = None  # 127.0.0.1:PORT/layered:latest
images_pb = content_pb = leases_pb = None
NS = "berth"
EXPIRE = "containerd.io/gc.expire"


def rfc3339(delta):
    t = datetime.datetime.now(datetime.timezone.utc) + delta
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Runtimed(harness.Runtimed):
    def __init__(self, root):
        super().__init__(RUNTIMED, root)

    def pull(self, reference, ns=NS, lease="", metadata_lease=None):
        fn = self.channel.unary_stream("/berth.runtime.v1.Images/Pull",
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=images_pb.PullImageEvent.FromString)
        metadata = [("berth-namespace", ns)]
        if metadata_lease is not None:
            metadata.append(("containerd-lease", metadata_lease))
        return list(fn(images_pb.PullImageRequest(reference=reference, lease=lease),
                       metadata=metadata, timeout=120))

    def delete_image(self, name, ns=NS):
        self.call("Images", "Delete", images_pb.DeleteImageRequest(name=name),
                  images_pb.DeleteImageResponse, ns)

    # Leases.
    def create(self, id="", labels=None, ns=NS):
        return self.call("Leases", "Create",
                         leases_pb.CreateLeaseRequest(id=id, labels=labels or {}),
                         leases_pb.CreateLeaseResponse, ns).lease

    def delete(self, id, sync=False, ns=NS):
        self.call("Leases", "Delete", leases_pb.DeleteLeaseRequest(id=id, sync=sync),
                  leases_pb.DeleteLeaseResponse, ns)

    def leases(self, *filters, ns=NS):
        return list(self.call("Leases", "List", leases_pb.ListLeasesRequest(filters=list(filters)),
                              leases_pb.ListLeasesResponse, ns).leases)

    def add(self, id, type, rid, ns=NS):
        self.call("Leases", "AddResource",
                  leases_pb.AddResourceRequest(id=id, resource=leases_pb.Resource(id=rid, type=type)),
                  leases_pb.AddResourceResponse, ns)

    def remove(self, id, type, rid, ns=NS):
        self.call("Leases", "DeleteResource",
                  leases_pb.DeleteResourceRequest(
                      id=id, resource=leases_pb.Resource(id=rid, type=type)),
                  leases_pb.DeleteResourceResponse, ns)

    def resources(self, id, ns=NS):
        return [(r.type, r.id) for r in
                self.call("Leases", "ListResources", leases_pb.ListResourcesRequest(id=id),
                          leases_pb.ListResourcesResponse, ns).resources]

    def collect(self, ns=NS):
        """Runs a garbage collection: a throw-away lease deleted with sync."""
        lease = self.create(ns=ns)
        self.delete(lease.id, sync=True, ns=ns)

    # Content.
    def info(self, digest):
        return self.call("Content", "Info", content_pb.InfoContentRequest(digest=digest),
                         content_pb.ContentInfo)

    def content(self, *filters):
        return [i.digest for i in
                self.call("Content", "List", content_pb.ListContentRequest(filters=list(filters)),
                          content_pb.ListContentResponse).info]

    def update(self, digest, labels, paths=None):
        request = content_pb.UpdateContentRequest(
            info=content_pb.ContentInfo(digest=digest, labels=labels))
        if paths is not None:
            request.update_mask.paths.extend(paths)
        return self.call("Content", "Update", request, content_pb.ContentInfo)

    def read(self, digest):
        chunks = self.stream("Content", "Read", content_pb.ReadContentRequest(digest=digest),
                             content_pb.ReadContentResponse)
        return b"".join(c.data for c in chunks)


class Test(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="runtimed-", dir=WORK)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.rt = Runtimed(self.dir)
        self.addCleanup(self.rt.stop, signal.SIGKILL)
        self.rt.start()

    def assertCode(self, code, fn, *args, **kwargs):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        return cm.exception.details()

    def blobs(self):
        d = os.path.join(self.dir, "root", "content", "blobs", "sha256")
        return sorted("sha256:" + f for f in os.listdir(d))

    def snapshot_dirs(self):
        return os.listdir(os.path.join(self.dir, "root", "snapshots"))

    def pulled(self, **kwargs):
        events = self.rt.pull(IMAGE, **kwargs)
        self.assertTrue(events[-1].HasField("image"), events[-1])
        image = events[-1].image
        manifest = json.loads(self.rt.read(image.manifest.digest))
        layers = [l["digest"] for l in manifest["layers"]]
        return image, layers


class LeasesTest(Test):
    def test_create_list_filter_and_delete(self):
        a = self.rt.create("a", {"app": "web", EXPIRE: rfc3339(datetime.timedelta(hours=1))})
        self.assertEqual(a.id, "a")
        self.assertEqual(dict(a.labels)["app"], "web")
        self.assertGreater(a.created_at.seconds, 0)
        b = self.rt.create(labels={"app": "db"})  # a random id
        self.assertTrue(b.id)
        self.assertEqual(sorted(l.id for l in self.rt.leases()), sorted(["a", b.id]))
        self.assertEqual([l.id for l in self.rt.leases("labels.app==web")], ["a"])
        self.assertEqual([l.id for l in self.rt.leases("id==" + b.id)], [b.id])
        self.assertEqual([l.id for l in self.rt.leases("labels.app==db", "id==a")],
                         sorted(["a", b.id]))
        # Namespaced: another namespace has none, and may use the same id.
        self.assertEqual(self.rt.leases(ns="other"), [])
        self.rt.create("a", ns="other")
        self.rt.delete("a")
        self.assertEqual([l.id for l in self.rt.leases()], [b.id])
        self.assertEqual([l.id for l in self.rt.leases(ns="other")], ["a"])
        # Kept in SQLite: they outlive a kill -9.
        self.rt.stop(signal.SIGKILL)
        self.rt.start()
        self.assertEqual([l.id for l in self.rt.leases()], [b.id])

    def test_resources(self):
        self.rt.create("l")
        digest = "sha256:" + "a" * 64
        self.rt.add("l", "content", digest)
        self.rt.add("l", "content", digest)  # twice is once
        self.rt.add("l", "snapshots/overlayfs", "some-key")
        self.rt.add("l", "ingests", "abc")
        self.assertEqual(self.rt.resources("l"), [("content", digest), ("ingests", "abc"),
                                                  ("snapshots/overlayfs", "some-key")])
        self.rt.remove("l", "ingests", "abc")
        self.rt.remove("l", "ingests", "abc")  # absent is fine
        self.assertEqual(self.rt.resources("l"), [("content", digest),
                                                  ("snapshots/overlayfs", "some-key")])

    def test_bad_input(self):
        NOT_FOUND, INVALID, EXISTS = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT,
                                      grpc.StatusCode.ALREADY_EXISTS)
        self.rt.create("l")
        self.assertIn('lease "l": already exists', self.assertCode(EXISTS, self.rt.create, "l"))
        self.assertIn('invalid lease id "-x"', self.assertCode(INVALID, self.rt.create, "-x"))
        self.assertCode(INVALID, self.rt.create, "a..b")
        self.assertCode(INVALID, self.rt.create, "x" * 77)
        details = self.assertCode(INVALID, self.rt.create, "t", {EXPIRE: "tomorrow"})
        self.assertIn("not an RFC 3339 time", details)
        self.assertCode(INVALID, self.rt.create, "big", {"k": "v" * 5000})
        self.assertEqual([l.id for l in self.rt.leases()], ["l"])
        self.assertIn('lease "nope": not found', self.assertCode(NOT_FOUND, self.rt.delete, "nope"))
        self.assertCode(NOT_FOUND, self.rt.add, "nope", "content", "sha256:" + "a" * 64)
        self.assertCode(NOT_FOUND, self.rt.remove, "nope", "content", "sha256:" + "a" * 64)
        self.assertCode(NOT_FOUND, self.rt.resources, "nope")
        self.assertIn('unsupported resource type "blobs"',
                      self.assertCode(INVALID, self.rt.add, "l", "blobs", "x"))
        self.assertCode(INVALID, self.rt.add, "l", "content", "sha256:nothex")
        self.assertCode(INVALID, self.rt.add, "l", "snapshots/overlayfs", "")
        self.assertCode(INVALID, self.rt.leases, "nope==1")
        self.assertCode(INVALID, self.rt.create, "x", ns="bad namespace!")
        # A pull naming a lease that does not exist, in the request or metadata.
        self.assertIn('lease "nope": not found',
                      self.assertCode(NOT_FOUND, self.rt.pull, IMAGE, lease="nope"))
        self.assertCode(NOT_FOUND, self.rt.pull, IMAGE, metadata_lease="nope")
        self.assertEqual(self.blobs(), [])

    def test_a_pull_holds_a_lease_of_its_own_only_while_it_runs(self):
        image, layers = self.pulled()
        self.assertEqual(self.rt.leases(), [])
        self.rt.delete_image(image.name)
        self.assertEqual(self.blobs(), [])
        self.assertEqual(self.snapshot_dirs(), [])

    def test_a_pull_with_the_callers_lease_keeps_its_content_until_the_lease_goes(self):
        self.rt.create("keep")
        image, layers = self.pulled(lease="keep")
        everything = sorted([image.manifest.digest, image.config.digest] + layers)
        self.assertEqual(self.blobs(), everything)
        resources = self.rt.resources("keep")
        self.assertEqual(sorted(i for t, i in resources if t == "content"), everything)
        self.assertEqual(len([i for t, i in resources if t == "snapshots/overlayfs"]), 2)
        self.assertEqual([l.id for l in self.rt.leases()], ["keep"])  # none of the pull's own
        # The image goes, and a collection with it: the lease keeps it all.
        self.rt.delete_image(image.name)
        self.assertEqual(self.blobs(), everything)
        self.assertEqual(len(self.snapshot_dirs()), 2)
        # Without the lease, the next collection takes it.
        self.rt.delete("keep", sync=True)
        self.assertEqual(self.blobs(), [])
        self.assertEqual(self.snapshot_dirs(), [])

    def test_a_lease_in_grpc_metadata_as_containerd_sends_it(self):
        self.rt.create("md")
        image, layers = self.pulled(metadata_lease="md")
        self.rt.delete_image(image.name)
        self.assertIn(image.config.digest, self.blobs())
        self.rt.delete("md", sync=True)
        self.assertEqual(self.blobs(), [])

    def test_a_leased_blob_survives_gc_and_goes_with_its_lease(self):
        image, layers = self.pulled()
        self.rt.create("one")
        self.rt.add("one", "content", layers[0])
        self.rt.delete_image(image.name)
        self.assertEqual(self.blobs(), [layers[0]])
        self.rt.collect()
        self.assertEqual(self.blobs(), [layers[0]])
        self.rt.delete("one", sync=True)
        self.assertEqual(self.blobs(), [])

    def test_an_expired_lease_protects_nothing_and_is_removed(self):
        self.rt.create("old", {EXPIRE: rfc3339(-datetime.timedelta(minutes=1))})
        self.rt.create("new", {EXPIRE: rfc3339(datetime.timedelta(hours=1))})
        image, layers = self.pulled(lease="old")
        self.rt.add("new", "content", image.config.digest)
        self.rt.delete_image(image.name)
        self.assertEqual(self.blobs(), [image.config.digest])
        self.assertEqual([l.id for l in self.rt.leases()], ["new"])


class ContentLabelsTest(Test):
    def test_update_info_and_list_filters(self):
        image, layers = self.pulled()
        config = image.config.digest
        info = self.rt.update(config, {"a": "1", "b": "2"}, ["labels"])
        self.assertEqual(dict(info.labels), {"a": "1", "b": "2"})
        self.assertGreaterEqual(info.updated_at.seconds, info.created_at.seconds)
        self.assertEqual(dict(self.rt.info(config).labels), {"a": "1", "b": "2"})
        # labels.KEY: only that key; a key missing from info.labels goes.
        info = self.rt.update(config, {"b": "3", "a": "ignored"}, ["labels.b", "labels.c"])
        self.assertEqual(dict(info.labels), {"a": "1", "b": "3"})
        info = self.rt.update(config, {}, ["labels.a"])
        self.assertEqual(dict(info.labels), {"b": "3"})
        # No mask: the labels are replaced.
        info = self.rt.update(config, {"tier": "db", "x.y/z": "1"})
        self.assertEqual(dict(info.labels), {"tier": "db", "x.y/z": "1"})
        self.rt.update(layers[0], {"tier": "web"}, ["labels"])
        self.assertEqual(self.rt.content("labels.tier==db"), [config])
        self.assertEqual(self.rt.content("labels.tier"), sorted([config, layers[0]]))
        self.assertEqual(self.rt.content('labels."x.y/z"'), [config])
        self.assertEqual(self.rt.content("labels.tier!=db"),
                         sorted(set(self.blobs()) - {config}))
        self.assertEqual(self.rt.content("labels.tier==web", "digest==" + config),
                         sorted([config, layers[0]]))
        self.assertEqual(self.rt.content("size==%d" % image.config.size), [config])
        self.assertEqual(self.rt.content(), self.blobs())
        # Kept in SQLite.
        self.rt.stop(signal.SIGKILL)
        self.rt.start()
        self.assertEqual(dict(self.rt.info(config).labels), {"tier": "db", "x.y/z": "1"})
        # A blob deleted loses its labels: pulled again, it has none.
        self.rt.delete_image(image.name)
        self.pulled()
        self.assertEqual(dict(self.rt.info(config).labels), {})

    def test_bad_input(self):
        image, layers = self.pulled()
        config = image.config.digest
        INVALID = grpc.StatusCode.INVALID_ARGUMENT
        details = self.assertCode(INVALID, self.rt.update, config, {"a": "1"}, ["size"])
        self.assertIn('cannot update "size"', details)
        self.assertCode(INVALID, self.rt.update, config, {"a": "1"}, ["labels", "digest"])
        self.assertCode(INVALID, self.rt.update, config, {"a": "1"}, ["labels."])
        self.assertCode(INVALID, self.rt.update, config, {"": "1"}, ["labels"])
        self.assertCode(INVALID, self.rt.update, config, {"k": "v" * 5000})
        self.assertCode(INVALID, self.rt.update, "sha256:nothex", {})
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.rt.update, "sha256:" + "0" * 64,
                        {"a": "1"})
        self.assertCode(INVALID, self.rt.content, "labels.a=1")
        self.assertCode(INVALID, self.rt.content, "media_type==x")
        # Nothing changed.
        self.assertEqual(dict(self.rt.info(config).labels), {})

    def test_gc_follows_gc_ref_content_labels_and_keeps_gc_roots(self):
        image, layers = self.pulled()
        manifest, config = image.manifest.digest, image.config.digest
        self.rt.create("m")
        self.rt.add("m", "content", manifest)
        self.rt.update(manifest, {"containerd.io/gc.ref.content.config": config,
                                  "containerd.io/gc.ref.content.l.0": layers[0]})
        self.rt.update(layers[1], {"containerd.io/gc.root": "yes"})
        self.rt.delete_image(image.name)
        self.assertEqual(self.blobs(), sorted([manifest, config] + layers))
        # Without the root label, the top layer goes; the references stay.
        self.rt.update(layers[1], {}, ["labels.containerd.io/gc.root"])
        self.rt.collect()
        self.assertEqual(self.blobs(), sorted([manifest, config, layers[0]]))
        # A label on a blob that nothing keeps keeps nothing.
        self.rt.delete("m", sync=True)
        self.assertEqual(self.blobs(), [])


def main():
    def setup(fixture):
        global RUNTIMED, WORK, IMAGE, images_pb, content_pb, leases_pb
        RUNTIMED, WORK = fixture.args[0], fixture.work
        IMAGE = fixture.registry + "/layered:latest"
        images_pb, content_pb, leases_pb = (
            fixture.pb["images"], fixture.pb["content"], fixture.pb["leases"])
    harness.main(__doc__, "berth-runtimed-leases-test-", ["images", "content", "leases"],
                 "layered-image.sh", "layered:latest", setup)


if __name__ == "__main__":
    main()
