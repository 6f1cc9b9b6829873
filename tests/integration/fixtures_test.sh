#!/usr/bin/env bash
# Usage: tests/integration/fixtures_test.sh
#
# Checks the test fixtures in tests/fixtures/ against the real tools:
# busybox bundle (config.json, rootfs), busybox image (OCI layout read by skopeo
# and umoci, docker-archive read by skopeo), the layered image (whiteout and
# opaque directory as umoci unpacks them), the zstd image, the multi-platform
# image (an image index), each layout's descriptors (digest, size) re-checked,
# and the local registry (push, then manifest, config and layer fetched back by
# digest and re-hashed; the other three images pushed, inspected with
# `skopeo inspect --raw` and copied back).
# Exit 0 on success; otherwise prints each failed check and exits 1.
# Everything lives in one mktemp -d directory, removed on exit; the registry it
# starts is stopped on exit, even on failure. Needs: busybox-static, jq,
# skopeo, umoci, docker-registry, curl, python3, zstd. Offline; 127.0.0.1 only.
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

# blob LAYOUT DIGEST: path of a blob in an OCI layout.
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
# descriptors_ok LAYOUT [FILE]: every descriptor reachable from FILE (default
# LAYOUT/index.json) through image indexes and manifests names a blob of that
# size whose sha256 is its digest. Prints the first bad one.
descriptors_ok() {
    local layout=$1 file=${2:-$1/index.json} type digest size path
    while read -r type digest size; do
        path=$(blob "$layout" "$digest")
        if [[ ! -f $path || $(stat -c %s -- "$path") != "$size" \
            || sha256:$(sha256 <"$path") != "$digest" ]]; then
            echo "bad descriptor $type $digest $size in $file" >&2
            return 1
        fi
        case $type in
        application/vnd.oci.image.index.v1+json | application/vnd.oci.image.manifest.v1+json)
            descriptors_ok "$layout" "$path" || return 1
            ;;
        esac
    done < <(jq -r '(.manifests // []) + ([.config // empty]) + (.layers // [])
                    | .[] | "\(.mediaType) \(.digest) \(.size)"' "$file")
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
check "busybox image descriptors match their blobs" descriptors_ok "$oci"

# --- layered image (whiteouts) -----------------------------------------------
layered=$root/layered
layered_digest=$("$fixtures/layered-image.sh" "$layered")
check "layered: index.json has one manifest tagged latest" \
    jq -e '(.manifests | length) == 1
           and .manifests[0].annotations["org.opencontainers.image.ref.name"] == "latest"' \
    "$layered/index.json"
check "layered: descriptors match their blobs" descriptors_ok "$layered"
layered_manifest=$(blob "$layered" "$layered_digest")
check "layered: two tar+gzip layers" \
    jq -e '[.layers[].mediaType] == ["application/vnd.oci.image.layer.v1.tar+gzip",
                                     "application/vnd.oci.image.layer.v1.tar+gzip"]' \
    "$layered_manifest"
layered_config=$(blob "$layered" "$(jq -r .config.digest "$layered_manifest")")
diff_ids=()
for digest in $(jq -r '.layers[].digest' "$layered_manifest"); do
    diff_ids+=("sha256:$(gzip -dc "$(blob "$layered" "$digest")" | sha256)")
done
# shellcheck disable=SC2016 # jq variables
check "layered: config amd64/linux, PATH, [sh], diff_ids, two history entries" \
    jq -e --args '.architecture == "amd64" and .os == "linux"
        and (.config.Env | any(startswith("PATH="))) and .config.Cmd == ["sh"]
        and .rootfs.diff_ids == $ARGS.positional and (.history | length) == 2' \
    "$layered_config" "${diff_ids[@]}"
if umoci unpack --rootless --image "$layered:latest" "$root/layered-bundle" >/dev/null; then
    pass "layered: umoci unpack"
    lr=$root/layered-bundle/rootfs
    check "layered: /data/keep.txt present" test "$(cat "$lr/data/keep.txt")" = keep
    check "layered: /data/gone.txt whited out" test ! -e "$lr/data/gone.txt" -a ! -L "$lr/data/gone.txt"
    check "layered: no .wh. file left in /data" test ! -e "$lr/data/.wh.gone.txt"
    check "layered: /opaque/old.txt hidden by the opaque marker" test ! -e "$lr/opaque/old.txt"
    check "layered: /opaque/new.txt present" test "$(cat "$lr/opaque/new.txt")" = new
    check "layered: /opaque holds only new.txt" test "$(ls -A "$lr/opaque")" = new.txt
    check "layered: /etc/layer2 present" test "$(cat "$lr/etc/layer2")" = 2
    check "layered: busybox still there" test -x "$lr/bin/busybox" -a -L "$lr/bin/sh"
else
    fail "layered: umoci unpack"
fi

# --- zstd image --------------------------------------------------------------
zimage=$root/zstd
zstd_digest=$("$fixtures/zstd-image.sh" "$zimage")
check "zstd: index.json has one manifest tagged latest" \
    jq -e '(.manifests | length) == 1
           and .manifests[0].annotations["org.opencontainers.image.ref.name"] == "latest"' \
    "$zimage/index.json"
check "zstd: descriptors match their blobs" descriptors_ok "$zimage"
zstd_manifest=$(blob "$zimage" "$zstd_digest")
check "zstd: one tar+zstd layer" \
    jq -e '[.layers[].mediaType] == ["application/vnd.oci.image.layer.v1.tar+zstd"]' "$zstd_manifest"
zstd_layer=$(blob "$zimage" "$(jq -r '.layers[0].digest' "$zstd_manifest")")
check "zstd: the layer is a zstd frame" zstd -q -t "$zstd_layer"
if zstd_diff_id=sha256:$(zstd -q -dc "$zstd_layer" | sha256) \
    && skopeo_config=$(skopeo inspect --config "oci:$zimage:latest"); then
    pass "zstd: skopeo inspect --config oci:"
    # shellcheck disable=SC2016 # jq variable
    check "zstd: config amd64/linux, [sh], diff_ids == [sha256 of unzstd'd layer] == busybox's" \
        jq -e --arg d "$zstd_diff_id" --arg b "$diff_id" \
        '.architecture == "amd64" and .os == "linux" and .config.Cmd == ["sh"]
         and .rootfs.diff_ids == [$d] and $d == $b' <<<"$skopeo_config"
else
    fail "zstd: skopeo inspect --config oci:"
fi

# --- multi-platform image (image index) --------------------------------------
multi=$root/multiarch
multi_digest=$("$fixtures/multiarch-image.sh" "$multi")
check "multiarch: index.json has one image index tagged latest" \
    jq -e '(.manifests | length) == 1
           and .manifests[0].mediaType == "application/vnd.oci.image.index.v1+json"
           and .manifests[0].annotations["org.opencontainers.image.ref.name"] == "latest"' \
    "$multi/index.json"
check "multiarch: descriptors match their blobs" descriptors_ok "$multi"
multi_index=$(blob "$multi" "$multi_digest")
# platforms_ok: stdin is an image index listing linux/amd64 and linux/arm64/v8.
platforms_ok() {
    jq -e '.mediaType == "application/vnd.oci.image.index.v1+json"
           and ([.manifests[] | .mediaType] | unique) == ["application/vnd.oci.image.manifest.v1+json"]
           and [.manifests[].platform] == [{architecture: "amd64", os: "linux"},
                                          {architecture: "arm64", os: "linux", variant: "v8"}]'
}
check "multiarch: image index lists linux/amd64 and linux/arm64/v8" platforms_ok <"$multi_index"
# shellcheck disable=SC2016 # jq variable
check "multiarch: the amd64 entry is the busybox image's manifest" \
    jq -e --arg d "$manifest_digest" '.manifests[0].digest == $d' "$multi_index"
arm64_manifest=$(blob "$multi" "$(jq -r '.manifests[1].digest' "$multi_index")")
arm64_config=$(blob "$multi" "$(jq -r .config.digest "$arm64_manifest")")
# shellcheck disable=SC2016 # jq variables
check "multiarch: arm64 manifest has the busybox layer and its own config" \
    jq -e --arg l "$layer_digest" --arg c "$config_digest" \
    '[.layers[].digest] == [$l] and .config.digest != $c' "$arm64_manifest"
# shellcheck disable=SC2016 # jq variable
check "multiarch: arm64 config says arm64 v8, same diff_ids" \
    jq -e --arg d "$diff_id" \
    '.architecture == "arm64" and .variant == "v8" and .os == "linux"
     and .rootfs.diff_ids == [$d]' "$arm64_config"

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

# remote_raw REPO:TAG: the manifest (or index) the registry serves, as is.
remote_raw() {
    skopeo inspect --raw --tls-verify=false "docker://$addr/$1"
}
# pushed REPO:TAG DIGEST: the registry serves a manifest hashing to DIGEST.
# (Hashed straight from the pipe: $(...) would drop the trailing newline.)
pushed() {
    test "sha256:$(remote_raw "$1" | sha256)" = "$2"
}
# copied_back REPO:TAG DIR DIGEST [--all]: skopeo copies it from the registry
# into the OCI layout DIR, whose "latest" then has DIGEST and sound descriptors.
copied_back() {
    skopeo --insecure-policy copy --quiet --src-tls-verify=false "${@:4}" \
        "docker://$addr/$1" "oci:$2:latest" \
        && test "$(jq -r '.manifests[0].digest' "$2/index.json")" = "$3" \
        && descriptors_ok "$2"
}

"$fixtures/registry.sh" push "$state" "$layered" layered:latest
pass "pushed layered:latest"
check "registry serves layered:latest unchanged" pushed layered:latest "$layered_digest"
check "layered:latest copies back" copied_back layered:latest "$root/back-layered" "$layered_digest"

"$fixtures/registry.sh" push "$state" "$zimage" zstd:latest
pass "pushed zstd:latest"
check "registry serves zstd:latest unchanged" pushed zstd:latest "$zstd_digest"
check "remote zstd:latest layer mediaType is tar+zstd" \
    jq -e '[.layers[].mediaType] == ["application/vnd.oci.image.layer.v1.tar+zstd"]' \
    < <(remote_raw zstd:latest)
check "zstd:latest copies back" copied_back zstd:latest "$root/back-zstd" "$zstd_digest"

"$fixtures/registry.sh" push "$state" "$multi" multiarch:latest --all
pass "pushed multiarch:latest --all"
check "registry serves the multiarch:latest index unchanged" pushed multiarch:latest "$multi_digest"
check "remote multiarch:latest index lists linux/amd64 and linux/arm64/v8" \
    platforms_ok < <(remote_raw multiarch:latest)
for m in $(jq -r '.manifests[].digest' "$multi_index"); do
    check "registry serves multiarch@$m" pushed "multiarch@$m" "$m"
done
check "multiarch:latest copies back with --all" \
    copied_back multiarch:latest "$root/back-multiarch" "$multi_digest" --all

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
