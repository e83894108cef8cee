#!/usr/bin/env bash
# Builds librdkafka's own test runner (tests/test-runner) so run.sh can point
# librdkafka's upstream test suite at a Petrel broker, and librdkafka's
# benchmark tool examples/rdkafka_performance for compat-tests/bench/kafka.
#
# Where the source comes from: librdkafka ships vendored inside the Rust crate
# `rdkafka-sys` on crates.io, tests/ directory included. We fetch that crate as
# an ordinary registry download through a throwaway cargo project (pinned
# version below), copy its librdkafka/ tree into build/, and build it there
# with librdkafka's own configure + make.
#
# Idempotent: when build/ already holds a test-runner built from the same
# crate version, packages and configure flags (see the stamp below) it only
# prints where it is. Everything it writes is under build/ (gitignored), apart
# from the apt packages and cargo's own registry cache.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$HERE/build"

# PINNED. rdkafka-sys 4.10.0 bundles librdkafka 2.12.1 (the "+2.12.1" build
# metadata is the librdkafka version). Bump both deliberately, then re-check
# expected-pass.txt with `RUN_ALL=1 ./run.sh`.
RDKAFKA_SYS_VERSION="4.10.0+2.12.1"
LIBRDKAFKA_VERSION="2.12.1"

# Only what the plaintext test run needs: a C/C++ toolchain, zlib + zstd so
# the compression tests exercise every codec (snappy and lz4 are built in),
# and RapidJSON (headers only), without which the runner skips the tests that
# check statistics JSON (0053, 0098, 0101, 0110).
# SSL, SASL/GSSAPI and libcurl are disabled: Petrel has neither TLS nor SASL,
# and leaving them out keeps the build small.
APT_PKGS="build-essential pkg-config zlib1g-dev libzstd-dev rapidjson-dev"
CONFIGURE_ARGS="--disable-ssl --disable-gssapi --disable-curl --disable-lz4-ext --enable-zlib --enable-zstd"

SRC="$BUILD/librdkafka-$LIBRDKAFKA_VERSION"
RUNNER="$SRC/tests/test-runner"
PERF="$SRC/examples/rdkafka_performance"
# The stamp records what the build was made from; any change rebuilds.
STAMP="$BUILD/.built"
WANT_STAMP="rdkafka-sys=$RDKAFKA_SYS_VERSION apt=[$APT_PKGS] configure=[$CONFIGURE_ARGS] examples=[rdkafka_performance]"

if [ -x "$RUNNER" ] && [ -x "$PERF" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT_STAMP" ]; then
    echo "librdkafka $LIBRDKAFKA_VERSION test-runner and rdkafka_performance already built: $RUNNER $PERF"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

# --- build dependencies (Debian) ----------------------------------------
missing=""
for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "== apt-get install:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "install.sh: cargo not found (needed to fetch rdkafka-sys)" >&2; exit 1; }

# --- fetch the crate source through cargo (registry download, no build) --
FETCH="$BUILD/fetch"
mkdir -p "$FETCH/src"
cat > "$FETCH/Cargo.toml" <<TOML
# Throwaway manifest: exists only so cargo downloads rdkafka-sys's source.
[package]
name = "librdkafka-src-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
rdkafka-sys = { version = "=$RDKAFKA_SYS_VERSION", default-features = false }

# Keep this out of any enclosing workspace (the repo root is one).
[workspace]
TOML
: > "$FETCH/src/lib.rs"
echo "== cargo fetch rdkafka-sys $RDKAFKA_SYS_VERSION"
cargo fetch --manifest-path "$FETCH/Cargo.toml" --quiet
# Ask cargo where the unpacked source is rather than guessing CARGO_HOME layout.
CRATE_DIR="$(cargo metadata --manifest-path "$FETCH/Cargo.toml" --format-version 1 --offline 2>/dev/null \
    | python3 -c 'import json,sys,os
m=json.load(sys.stdin)
print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]=="rdkafka-sys"))')"
[ -f "$CRATE_DIR/librdkafka/tests/test.c" ] || { echo "install.sh: no librdkafka/tests in $CRATE_DIR" >&2; exit 1; }
grep -q "RD_KAFKA_VERSION  *0x$(printf '%02x%02x%02x' ${LIBRDKAFKA_VERSION//./ })" "$CRATE_DIR/librdkafka/src/rdkafka.h" \
    || { echo "install.sh: $CRATE_DIR does not hold librdkafka $LIBRDKAFKA_VERSION" >&2; exit 1; }

# --- build librdkafka + test-runner in a private copy -------------------
# librdkafka builds in-tree, so copy the (read-only by convention) registry
# source rather than build inside ~/.cargo.
rm -rf "$SRC" "$STAMP"
cp -a "$CRATE_DIR/librdkafka" "$SRC"
cd "$SRC"
echo "== configure (log: $BUILD/configure.log)"
# shellcheck disable=SC2086 # CONFIGURE_ARGS is a list of words
./configure $CONFIGURE_ARGS >"$BUILD/configure.log" 2>&1 \
    || { tail -30 "$BUILD/configure.log"; exit 1; }
JOBS="${JOBS:-2}"
echo "== make -j$JOBS libs (log: $BUILD/make.log)"
make -j"$JOBS" libs >"$BUILD/make.log" 2>&1 || { tail -30 "$BUILD/make.log"; exit 1; }
echo "== make -j$JOBS test-runner + interceptor plugin (tests/ build target)"
make -j"$JOBS" -C tests build >>"$BUILD/make.log" 2>&1 || { tail -30 "$BUILD/make.log"; exit 1; }
[ -x "$RUNNER" ] || { echo "install.sh: $RUNNER not built" >&2; exit 1; }
echo "== make rdkafka_performance (examples/; used by compat-tests/bench/kafka)"
make -C examples rdkafka_performance >>"$BUILD/make.log" 2>&1 || { tail -30 "$BUILD/make.log"; exit 1; }
[ -x "$PERF" ] || { echo "install.sh: $PERF not built" >&2; exit 1; }
echo "$WANT_STAMP" > "$STAMP"
echo "built: $RUNNER $PERF"
