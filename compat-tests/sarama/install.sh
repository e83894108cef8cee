#!/usr/bin/env bash
# Builds the IBM/sarama driver of compat-tests/run, bin/sarama-driver, from this Go
# module. Idempotent and quick when already built: rebuilds only when go.mod, go.sum
# or a .go file changed since the last build. Modules come from the Go module proxy
# at the versions in go.mod (sarama PINNED there; go.sum pins every hash).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$HERE/bin/sarama-driver"
stamp="$HERE/bin/.built-from"

command -v go >/dev/null 2>&1 || { echo "sarama/install.sh: required tool 'go' not found" >&2; exit 1; }

src_hash="$(cat "$HERE/go.mod" "$HERE/go.sum" $(find "$HERE" -maxdepth 1 -name '*.go' | sort) | sha256sum | cut -d' ' -f1)"
if [ ! -x "$BIN" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$src_hash" ]; then
    echo "== building sarama driver (go build)"
    mkdir -p "$HERE/bin"
    if ! (cd "$HERE" && GOFLAGS="-mod=mod -buildvcs=false" go build -o "$BIN" .) >"$HERE/bin/go-build.log" 2>&1; then
        tail -n 40 "$HERE/bin/go-build.log" >&2
        echo "sarama/install.sh: go build failed (full log: $HERE/bin/go-build.log)" >&2
        exit 1
    fi
    echo "$src_hash" > "$stamp"
fi
echo "sarama:          $(cd "$HERE" && go list -m -f '{{.Version}}' github.com/IBM/sarama) ($BIN)"
