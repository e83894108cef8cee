#!/usr/bin/env bash
# Runs a built petrel binary exactly the way the container image would: the Dockerfile's
# ENTRYPOINT + CMD arguments (parsed from the Dockerfile, not copied), as the image's non-root
# uid, with data in the image's volume path. Then checks that a client gets Metadata on the
# image's client port, that /metrics answers, and that SIGTERM stops it with status 0.
# Needs root (to switch uid and create the volume directory), python3 and curl.
# Usage: deploy/check-entrypoint.sh path/to/petrel
set -euo pipefail
binary=$(realpath "${1:?usage: $0 path/to/petrel}")
repo=$(cd "$(dirname "$0")/.." && pwd)

read_array() { # prints the JSON array of a Dockerfile instruction, one element per line
  python3 - "$repo/Dockerfile" "$1" <<'PY'
import json, sys
path, instruction = sys.argv[1], sys.argv[2]
lines = [l for l in open(path) if l.startswith(instruction + " ")]
for item in json.loads(lines[-1][len(instruction) + 1:]):
    print(item)
PY
}
mapfile -t entrypoint < <(read_array ENTRYPOINT)
mapfile -t cmd < <(read_array CMD)
user=$(awk '/^USER /{print $2}' "$repo/Dockerfile" | tail -1)
uid=${user%%:*}; gid=${user##*:}
volume=$(python3 -c 'import json,sys; print(json.loads([l for l in open(sys.argv[1]) if l.startswith("VOLUME ")][-1][7:])[0])' "$repo/Dockerfile")
echo "image entrypoint: ${entrypoint[*]} ${cmd[*]} (uid $uid, volume $volume)"

# The image's binary path is replaced by the built binary; everything else is as in the image.
workdir=$(mktemp -d)
chmod 0755 "$workdir" # the image uid must be able to reach the binary
install -m 0755 "$binary" "$workdir/petrel"
created_volume=0
if [ ! -d "$volume" ]; then mkdir -p "$volume"; created_volume=1; fi
chown "$uid:$gid" "$volume"
log="$workdir/petrel.log"
launched_ns=$(date +%s%N)
setpriv --reuid="$uid" --regid="$gid" --clear-groups \
  env -i PATH=/usr/local/bin:/usr/bin:/bin "$workdir/petrel" "${cmd[@]}" >"$log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  rm -rf "$workdir"
  if [ "$created_volume" = 1 ]; then rm -rf "$volume"; fi
}
trap cleanup EXIT

client_port=$(printf '%s\n' "${cmd[@]}" | grep -A1 -x -- --listen | tail -1 | sed 's/.*://')
metrics_port=$(printf '%s\n' "${cmd[@]}" | grep -A1 -x -- --metrics-listen | tail -1 | sed 's/.*://')
"$repo/compat-tests/tools/metadata_probe.py" "127.0.0.1:$client_port" --wait 10 --since-ns "$launched_ns" \
  || { echo "petrel log:"; cat "$log"; exit 1; }
curl -fsS "http://127.0.0.1:$metrics_port/metrics" | grep -q '^petrel_requests_total' \
  && echo "metrics: petrel_requests_total served on :$metrics_port"
test -f "$volume/meta.properties" && echo "data: $volume/meta.properties written by uid $(stat -c %u "$volume/meta.properties")"

kill -TERM "$pid"
status=0; wait "$pid" || status=$?
if [ "$status" -ne 0 ]; then echo "petrel exited with $status"; cat "$log"; exit 1; fi
grep -q "petrel stopped" "$log"
echo "entrypoint check passed (SIGTERM -> exit 0)"
