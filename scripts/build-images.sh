#!/usr/bin/env bash
# Builds the container images llmops-operator, llmops-router and llmops-runtime from
# images/*.Containerfile without a daemon: Debian's buildah (--isolation chroot), on a
# Debian 12 base made here by debootstrap (minbase) and imported as debian:bookworm and
# debian:bookworm-slim, so the same Containerfiles build offline here and with
# `docker build` anywhere else.
#   scripts/build-images.sh [--tag T] [--only NAME]... [--prebuilt BUILD_DIR] [--out DIR]
#                           [--refresh-base]
#     --tag T           image tag (default: the project version in CMakeLists.txt)
#     --only NAME       build only this image (repeatable)
#     --prebuilt DIR    copy the programs from a build tree (DIR/operator/llmops-operator,
#                       DIR/router/llmops-router, DIR/node-runtime/llmops-runtime) instead
#                       of compiling them in the build stage: same Debian 12 ABI, minutes
#                       instead of a full compile (CI)
#     --out DIR         where the archives go (default build/images)
#     --refresh-base    debootstrap the base again
# Output: DIR/<name>.oci.tar (OCI archives, reference T) and DIR/digests.txt
# ("<name>:<T>@sha256:..." per image: the manifest digest a registry keeps when the
# archive is copied there with skopeo).
# Cached under ${LLMOPS_CACHE_DIR:-~/.cache/llmops}/images: the base (keyed by its recipe),
# buildah's storage (every layer, so an unchanged build stage is reused) and the build
# stage's ccache. Needs root (debootstrap, chroot) and buildah, debootstrap
# (scripts/install-deps.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
started=$(date +%s)

all_images=(llmops-operator llmops-router llmops-runtime)
declare -A binary_path=(
  [llmops-operator]=operator/llmops-operator
  [llmops-router]=router/llmops-router
  [llmops-runtime]=node-runtime/llmops-runtime
)
version="$(sed -n 's/^project(llmops .*VERSION \([0-9][0-9.]*\)).*/\1/p' "$repo/CMakeLists.txt")"
tag="$version"
out="$repo/build/images"
images=()
prebuilt=""
refresh_base=false
usage() { sed -n '2,24p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || usage; tag="$2"; shift 2 ;;
    --only) [ $# -ge 2 ] || usage; images+=("$2"); shift 2 ;;
    --prebuilt) [ $# -ge 2 ] || usage; prebuilt="$(cd "$2" && pwd)"; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
    --refresh-base) refresh_base=true; shift ;;
    -h|--help) usage ;;
    *) echo "build-images.sh: unknown argument $1" >&2; usage ;;
  esac
done
[ ${#images[@]} -gt 0 ] || images=("${all_images[@]}")
for name in "${images[@]}"; do
  if [ -z "${binary_path[$name]:-}" ]; then
    echo "build-images.sh: no image $name (one of ${all_images[*]})" >&2
    exit 2
  fi
done
if ! [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "build-images.sh: --tag $tag is not a valid image tag" >&2
  exit 2
fi
for tool in buildah debootstrap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-images.sh: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "build-images.sh: needs root (debootstrap and buildah's chroot isolation)" >&2
  exit 1
fi

cache="${LLMOPS_CACHE_DIR:-$HOME/.cache/llmops}/images"
mkdir -p "$cache/tmp" "$out"
out="$(cd "$out" && pwd)"
# buildah keeps RUN --mount=type=cache folders (the build stage's ccache) under TMPDIR.
export TMPDIR="$cache/tmp"
runroot="/tmp/llmops-buildah-$(id -u)"

# overlay where the kernel and filesystem allow it, else vfs (full copies, slower); the
# choice is kept with the storage, which cannot change driver.
if [ ! -f "$cache/storage-driver" ]; then
  driver=overlay
  if ! buildah --root "$cache/storage" --runroot "$runroot" --storage-driver overlay \
      images >/dev/null 2>&1; then
    driver=vfs
  fi
  echo "$driver" >"$cache/storage-driver"
fi
driver="$(cat "$cache/storage-driver")"
B=(buildah --root "$cache/storage" --runroot "$runroot" --storage-driver "$driver")

# --- The base: debootstrap --variant=minbase bookworm, imported under the names the
# Containerfiles use. Bump base_recipe when the recipe below changes.
base_recipe=1
base_key="debian-bookworm-minbase-r$base_recipe"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

make_base() {
  local dir="$cache/$base_key" rootfs
  rootfs="$(mktemp -d "$cache/tmp/rootfs.XXXXXX")"
  echo "build-images.sh: debootstrap --variant=minbase bookworm ($mirror)" >&2
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/tmp/debootstrap.log" >&2; rm -rf "$rootfs"; return 1; }
  # As Debian's own images: the release, its updates and security sources; nothing of
  # this machine (hostname, resolver); no package lists or downloaded packages.
  rm -f "$rootfs/etc/apt/sources.list" "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/* "$rootfs"/tmp/*
  mkdir -p "$dir"
  tar -C "$rootfs" --numeric-owner -cf "$dir/bookworm.tar.tmp" .
  # slim: no documentation, manual pages or translations, now or in later installs.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
    -exec rm -rf {} +
  tar -C "$rootfs" --numeric-owner -cf "$dir/bookworm-slim.tar.tmp" .
  rm -rf "$rootfs"
  mv "$dir/bookworm.tar.tmp" "$dir/bookworm.tar"
  mv "$dir/bookworm-slim.tar.tmp" "$dir/bookworm-slim.tar"
}

import_base() {
  local name="$1" image="docker.io/library/debian:$1" container label
  label="$("${B[@]}" inspect --type image --format '{{index .OCIv1.Config.Labels "dev.llmops.base"}}' \
    "$image" 2>/dev/null || true)"
  if [ "$label" = "$base_key" ]; then return 0; fi
  container="$("${B[@]}" from --pull=never scratch)"
  "${B[@]}" add --quiet "$container" "$cache/$base_key/$name.tar" / >/dev/null
  "${B[@]}" config --cmd /bin/bash --os linux --arch amd64 \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "dev.llmops.base=$base_key" "$container"
  "${B[@]}" commit --quiet --rm "$container" "$image" >/dev/null
  echo "build-images.sh: imported $image ($base_key)" >&2
}

(
  flock 9
  if $refresh_base; then rm -rf "${cache:?}/$base_key"; fi
  if [ ! -f "$cache/$base_key/bookworm-slim.tar" ]; then make_base; fi
  if $refresh_base; then
    "${B[@]}" rmi -f docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim \
      >/dev/null 2>&1 || true
  fi
  import_base bookworm
  import_base bookworm-slim
) 9>"$cache/base.lock"
base_done=$(date +%s)

# --- The images.
revision="$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$revision" != unknown ] && [ -n "$(git -C "$repo" status --porcelain 2>/dev/null)" ]; then
  revision="$revision-dirty"
fi
source_url="$(git -C "$repo" config --get remote.origin.url 2>/dev/null || echo "file://$repo")"

if [ -n "$prebuilt" ]; then
  # A context of its own with prebuilt/<program>; a missing program makes the
  # Containerfile's COPY fail, and with it this script.
  context="$out/context"
  rm -rf "$context"
  mkdir -p "$context/prebuilt"
  for name in "${images[@]}"; do
    if [ -f "$prebuilt/${binary_path[$name]}" ]; then
      cp "$prebuilt/${binary_path[$name]}" "$context/prebuilt/$name"
    else
      echo "build-images.sh: $prebuilt/${binary_path[$name]} is missing" >&2
    fi
  done
  binaries=prebuilt
else
  context="$repo"
  binaries=source
fi

: >"$out/digests.txt.tmp"
# The labels are given on the command line too: buildah's layer cache keys a LABEL step by
# its text, not by the values of the ARGs in it, so a cached step would keep an older
# revision.
for name in "${images[@]}"; do
  echo "build-images.sh: building $name:$tag ($binaries)" >&2
  if ! "${B[@]}" build --isolation chroot --pull=never --layers \
      --build-arg "BINARIES=$binaries" --build-arg "VERSION=$version" \
      --build-arg "REVISION=$revision" --build-arg "SOURCE=$source_url" \
      --label "org.opencontainers.image.version=$version" \
      --label "org.opencontainers.image.revision=$revision" \
      --label "org.opencontainers.image.source=$source_url" \
      --iidfile "$out/$name.iid" \
      -f "$repo/images/$name.Containerfile" -t "localhost/$name:$tag" "$context" \
      >"$out/$name.build.log" 2>&1; then
    tail -25 "$out/$name.build.log" >&2
    echo "build-images.sh: building $name failed (log: $out/$name.build.log)" >&2
    exit 1
  fi
  rm -f "$out/$name.oci.tar"
  # By image ID: another build may move the tag meanwhile.
  "${B[@]}" push --quiet --digestfile "$out/$name.digest" "$(cat "$out/$name.iid")" \
    "oci-archive:$out/$name.oci.tar:$tag"
  echo "$name:$tag@$(cat "$out/$name.digest")" >>"$out/digests.txt.tmp"
  rm -f "$out/$name.digest" "$out/$name.iid"
done
mv "$out/digests.txt.tmp" "$out/digests.txt"
cat "$out/digests.txt"
echo "build-images.sh: base $((base_done - started)) s, images $(($(date +%s) - base_done)) s;" \
  "archives in $out" >&2
