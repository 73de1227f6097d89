#!/usr/bin/env bash
# Builds the mediasoup worker from its npm tarball against Debian's system
# libraries, for machines that cannot download the prebuilt worker or the
# meson wraps. Prints the path of the cached binary on its last line.
#
#   build.sh <mediasoup-version> <output-binary-path>
#
# Needs the Debian packages listed in scripts/setup.mjs (WORKER_BUILD_PACKAGES).
set -euo pipefail

version="$1"
out="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/huizhen-worker-XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "[worker] building mediasoup-worker ${version} in ${work} (takes ~8 min on 2 cores)"
cd "$work"
npm pack --silent "mediasoup@${version}" >/dev/null
tar xzf "mediasoup-${version}.tgz"
src="$work/package/worker"

# Replace the downloading wraps with local subprojects wrapping system libraries.
rm -f "$src"/subprojects/*.wrap
cp -r "$here"/subprojects/. "$src/subprojects/"

# Reviewed patches in this folder, in name order:
#   dtls-bio-write-callback.patch  send DTLS data after OpenSSL has written it (Debian's OpenSSL 3.0)
#   libsrtp2.patch                 adapt the libsrtp 3 calls to Debian's libsrtp 2
for p in "$here"/*.patch; do
  patch -d "$work/package" -p1 --forward --quiet < "$p"
done

# Debian bookworm ships meson 1.0.1; the worker uses nothing newer.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$src/meson.build"

cd "$src"
meson setup build \
  --buildtype=release \
  --wrap-mode=nodownload \
  -Db_ndebug=true \
  -Dms_disable_liburing=true >"$work/meson-setup.log" 2>&1 || { cat "$work/meson-setup.log"; exit 1; }
# fbs/FBS is the flatbuffers-generator target: its headers must exist first.
ninja -C build fbs/FBS
ninja -C build mediasoup-worker

mkdir -p "$(dirname "$out")"
# Copy then rename so a concurrent reader never sees a half-written binary.
cp build/mediasoup-worker "$out.tmp.$$"
strip "$out.tmp.$$" || true
mv -f "$out.tmp.$$" "$out"
echo "[worker] built $out"
