#!/usr/bin/env bash
# Golden-byte capture: runs 7 stock Kafka clients (their scenario drivers) through a
# recording proxy and keeps the first request frame of every (client, API, version) as a
# fixture in protocol/tests/fixtures/ for protocol/tests/golden.rs. See capture.py for
# the details and the environment variables.
#
#   compat-tests/capture/capture.sh --petrel BINARY [FIXTURES_DIR]   # starts its own broker
#   compat-tests/capture/capture.sh UPSTREAM [FIXTURES_DIR]          # a running broker
#
# With UPSTREAM, start the broker with --advertised-listen CAPTURE_HOST:P and pass
# PROXY_PORT=P, or clients' later connections bypass the proxy.
set -euo pipefail
CT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -x "$CT/.venv/bin/python" ]; then
    echo "capture.sh: run compat-tests/install.sh first" >&2
    exit 2
fi
exec "$CT/.venv/bin/python" "$CT/capture/capture.py" "$@"
