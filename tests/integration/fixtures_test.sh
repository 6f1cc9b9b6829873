#!/usr/bin/env bash
# Usage: tests/integration/fixtures_test.sh
#
# Checks the test fixtures in tests/fixtures/ against the real tools:
# busybox bundle (config.json, rootfs), busybox image (OCI layout read by skopeo
# and umoci, docker-archive read by skopeo), and the local registry (push, then
# manifest, config and layer fetched back by digest and re-hashed).
# Exit 0 on success; otherwise prints each failed check and exits 1.
# Everything lives in one mktemp -d directory, removed on exit; the registry it
# starts is stopped on exit, even on failure. Needs: busybox-static, jq,
# skopeo, umoci, docker-registry, curl, python3. Offline; 127.0.0.1 only.
set -euo pipefail

fixtures=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../fixtures" && pwd)
root=$(mktemp -d "${TMPDIR:-/tmp}/berth-fixtures-test.XXXXXX")
state=$root/registry
failures=0

cleanup() {
    local rc=$?
    "$fixtures/registry.sh" stop "$state" >/dev/null 2>&1 || true
    rm -rf -- "$root"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAIL: aborted at line $LINENO: $BASH_COMMAND" >&2' ERR

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() { echo "ok: $*"; }
# check DESCRIPTION CMD...: runs CMD, records pass/fail.
check() {
    local what=$1
    shift
    if "$@" >/dev/null; then pass "$what"; else fail "$what"; fi
}
sha256() { sha256sum | cut -d' ' -f1; }
# gone PID: no such process, or only a zombie waiting to be reaped.
gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ ${stat%% *} == Z ]]
}

start=$SECONDS

# --- bundle ------------------------------------------------------------------
bundle=$root/bundle
"$fixtures/busybox-bundle.sh" "$bundle"
check "bundle config.json parses, args [sh], terminal false" \
    jq -e '.process.args == ["sh"] and .process.terminal == false and .root.path == "rootfs"' \
    "$bundle/config.json"
check "bundle rootfs/bin/sh exists" test -L "$bundle/rootfs/bin/sh" -a -x "$bundle/rootfs/bin/sh"
"$fixtures/busybox-bundle.sh" "$bundle" sh -c 'exit 3'
check "bundle extra args become process.args" \
    jq -e '.process.args == ["sh", "-c", "exit 3"]' "$bundle/config.json"

# --- image -------------------------------------------------------------------
image=$root/image
"$fixtures/busybox-image.sh" "$image" >/dev/null
oci=$image/oci

manifest_digest=$(jq -r '.manifests[0].digest' "$oci/index.json")
manifest=$oci/blobs/sha256/${manifest_digest#sha256:}
config_digest=$(jq -r '.config.digest' "$manifest")
layer_digest=$(jq -r '.layers[0].digest' "$manifest")
layer_blob=$oci/blobs/sha256/${layer_digest#sha256:}
diff_id=sha256:$(gzip -dc "$layer_blob" | sha256)

check "index.json has one manifest tagged latest" \
    jq -e '(.manifests | length) == 1
           and .manifests[0].annotations["org.opencontainers.image.ref.name"] == "latest"' \
    "$oci/index.json"

if skopeo_config=$(skopeo inspect --config "oci:$oci:latest"); then
    pass "skopeo inspect --config oci:"
    check "image config Env has PATH, Cmd == [sh]" \
        jq -e '(.config.Env | any(startswith("PATH="))) and .config.Cmd == ["sh"]' <<<"$skopeo_config"
    # shellcheck disable=SC2016 # jq variable
    check "image config diff_ids == [sha256 of uncompressed layer]" \
        jq -e --arg d "$diff_id" '.rootfs.diff_ids == [$d]' <<<"$skopeo_config"
else
    fail "skopeo inspect --config oci:"
fi
check "umoci stat accepts the layout" umoci stat --image "$oci:latest"
check "docker-archive exists" test -s "$image/busybox.tar"
check "skopeo inspect docker-archive:" skopeo inspect "docker-archive:$image/busybox.tar"

# --- registry ----------------------------------------------------------------
addr=$("$fixtures/registry.sh" start "$state")
pid=$(<"$state/registry.pid")
pass "registry started at $addr (pid $pid)"
"$fixtures/registry.sh" push "$state" "$oci" busybox:latest
pass "pushed busybox:latest"

# get URL OUT: GET from the registry into file OUT.
get() {
    curl -fsS --noproxy '*' --max-time 10 \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.oci.image.index.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
        -o "$2" "http://$addr$1"
}

if get "/v2/busybox/manifests/$manifest_digest" "$root/manifest.json"; then
    check "manifest fetched by digest hashes to its digest" \
        test "sha256:$(sha256 <"$root/manifest.json")" = "$manifest_digest"
    check "remote manifest config digest == local" \
        test "$(jq -r .config.digest "$root/manifest.json")" = "$config_digest"
else
    fail "GET manifest $manifest_digest"
fi
for blob in "$config_digest" "$layer_digest"; do
    if get "/v2/busybox/blobs/$blob" "$root/blob"; then
        check "blob $blob hashes to its digest" test "sha256:$(sha256 <"$root/blob")" = "$blob"
    else
        fail "GET blob $blob"
    fi
done

if "$fixtures/registry.sh" push "$state" "$root/no-such-oci" busybox:bad 2>/dev/null; then
    fail "push of a missing OCI dir should fail"
else
    pass "push of a missing OCI dir fails"
fi

"$fixtures/registry.sh" stop "$state"
check "registry pid $pid is gone after stop" gone "$pid"
if pgrep -f -- "$state/config.yml" >/dev/null; then
    fail "a registry started by this test is still running"
else
    pass "no registry left running"
fi

echo "fixtures_test: $failures failure(s), $((SECONDS - start)) s"
[[ $failures -eq 0 ]]
