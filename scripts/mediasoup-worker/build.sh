#!/usr/bin/env bash
# Builds the mediasoup worker from its npm tarball against Debian's system
# libraries, for machines that cannot download the prebuilt worker or the
# meson wraps. Prints the path of the cached binary on its last line.
#
#   build.sh <mediasoup-version> <output-binary-path> <sources-cache-dir>
#
# libsrtp is the exception: Debian's libsrtp2 uses NSS for its crypto, which
# costs about half the worker's CPU (a PK11 context per packet). Its upstream
# tarball is taken from Debian's source package (fetched once into the
# sources cache, sha256-pinned below), built against OpenSSL into a private
# prefix and linked statically.
#
# Needs the Debian packages listed in scripts/setup.mjs (WORKER_BUILD_PACKAGES).
#
# HUIZHEN_WORKER_SRTP=debian builds a worker for comparison only (the
# instruction counts in loadtest/README.md): it links Debian's shared libsrtp2
# (libsrtp2-dev, NSS crypto) instead of the private one. Give it its own output
# path; setup.mjs never builds or places it.
set -euo pipefail

srtp_source="${HUIZHEN_WORKER_SRTP:-private}"
case "$srtp_source" in
  private | debian) ;;
  *) echo "[worker] error: HUIZHEN_WORKER_SRTP must be 'private' or 'debian' (got '$srtp_source')"; exit 1 ;;
esac

version="$1"
out="$2"
sources="$3"

LIBSRTP_VERSION=2.5.0
LIBSRTP_TARBALL="libsrtp2_${LIBSRTP_VERSION}.orig.tar.gz"
LIBSRTP_SHA256=8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/huizhen-worker-XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "[worker] building mediasoup-worker ${version} in ${work} (takes ~10 min on 2 cores)"
if [ "$srtp_source" = private ]; then
tarball="$(node "$here/fetch-debian-source.mjs" libsrtp2 "$LIBSRTP_TARBALL" "$LIBSRTP_SHA256" "$sources" | tail -n1)"

echo "[worker] building libsrtp ${LIBSRTP_VERSION} with OpenSSL (static, private prefix)"
srtp_prefix="$work/libsrtp-prefix"
mkdir -p "$work/libsrtp"
tar xzf "$tarball" -C "$work/libsrtp" --strip-components=1
(
  cd "$work/libsrtp"
  ./configure --enable-openssl --prefix="$srtp_prefix" --libdir="$srtp_prefix/lib" CFLAGS="-O2 -fPIC" \
    >"$work/libsrtp-configure.log" 2>&1 || { cat "$work/libsrtp-configure.log"; exit 1; }
  grep -q '^#define OPENSSL 1' crypto/include/config.h || { echo "[worker] libsrtp did not pick OpenSSL"; exit 1; }
  # The default target is the static library only; no shared object is installed.
  make -j"$(nproc)" >"$work/libsrtp-make.log" 2>&1 || { tail -50 "$work/libsrtp-make.log"; exit 1; }
  make install >>"$work/libsrtp-make.log" 2>&1 || { tail -50 "$work/libsrtp-make.log"; exit 1; }
)
# The libsrtp3 subproject finds it through pkg-config (static: true).
export PKG_CONFIG_PATH="$srtp_prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
else
  # The libsrtp3 subproject finds Debian's libsrtp2.pc; it is made to link the
  # shared object below, as the worker did before the private libsrtp.
  pkg-config --exists libsrtp2 || { echo "[worker] error: HUIZHEN_WORKER_SRTP=debian needs libsrtp2-dev"; exit 1; }
  echo "[worker] linking Debian's libsrtp2 $(pkg-config --modversion libsrtp2) (NSS) for comparison"
fi

cd "$work"
npm pack --silent "mediasoup@${version}" >/dev/null
tar xzf "mediasoup-${version}.tgz"
src="$work/package/worker"

# Replace the downloading wraps with local subprojects wrapping system libraries.
rm -f "$src"/subprojects/*.wrap
cp -r "$here"/subprojects/. "$src/subprojects/"
if [ "$srtp_source" = debian ]; then
  sed -i 's/static: true/static: false/' "$src/subprojects/libsrtp3/meson.build"
fi

# Reviewed patches in this folder, in name order:
#   dtls-bio-write-callback.patch  send DTLS data after OpenSSL has written it (Debian's OpenSSL 3.0)
#   libsrtp2.patch                 adapt the libsrtp 3 calls to libsrtp 2
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

# The whole point of the private libsrtp: no NSS, no shared libsrtp2.
if [ "$srtp_source" = debian ]; then
  libs="$(ldd build/mediasoup-worker)"
  grep -q libsrtp2 <<<"$libs" && grep -q libnss3 <<<"$libs" ||
    { echo "[worker] error: the comparison worker does not link Debian's libsrtp2 and NSS"; exit 1; }
elif ldd build/mediasoup-worker | grep -E 'libsrtp2|libnss3|libsoftokn3|libnspr4'; then
  echo "[worker] error: the worker still links a shared libsrtp2 or NSS"
  exit 1
fi

mkdir -p "$(dirname "$out")"
# Copy then rename so a concurrent reader never sees a half-written binary.
# Not stripped: the symbol table (no debug info: a release build) lets profiles
# (callgrind, perf) name the worker's functions and the statically linked libsrtp.
cp build/mediasoup-worker "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
echo "[worker] built $out"
