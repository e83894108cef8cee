#!/usr/bin/env bash
# Installs the kafkajs compatibility driver's npm dependencies (compat-tests/node) exactly as
# pinned in package-lock.json. Idempotent: when node_modules was already installed from this
# very lock file (and node version) it does nothing, so it is cheap to call before every run.
#
# Needs node (>= 18) and npm from the machine, plus python3, make and a C++ compiler: the
# lz4 codec (kafkajs-lz4 -> lz4) compiles its native addon from the sources in its npm
# package. Nothing is downloaded from outside the npm registry.
set -euo pipefail

cd "$(dirname "$0")"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "install.sh: $tool not found" >&2; exit 1; }
done

stamp=node_modules/.petrel-install-stamp
want="$(node --version) $(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  echo "compat-tests/node: dependencies already installed"
  exit 0
fi

for tool in python3 make c++; do
  command -v "$tool" >/dev/null || { echo "install.sh: $tool not found (needed to build the lz4 addon)" >&2; exit 1; }
done

# node-gyp would otherwise fetch node's headers from the internet; use the ones that ship
# with this node when it has them.
if [[ -z "${npm_config_nodedir:-}" ]]; then
  prefix="$(node -p 'require("path").resolve(process.execPath, "../..")')"
  if [[ -f "$prefix/include/node/node.h" ]]; then
    export npm_config_nodedir="$prefix"
  fi
fi

npm ci --no-audit --no-fund
echo "$want" > "$stamp"
echo "compat-tests/node: installed $(node -p 'require("kafkajs/package.json").version' 2>/dev/null | sed 's/^/kafkajs /')"
