#!/usr/bin/env bash
# Schemathesis over the service's /openapi.json, anonymously and then with an admin key.
#
# Starts `schoolgis serve` on a free port of 127.0.0.1 with a throwaway SpatiaLite store of
# the bundled district, runs the checks (no server error, every status code and content type
# documented) with a bounded number of examples per operation, and stops the service.
# MAX_EXAMPLES (default 20) and EXCLUDE (a regular expression of paths left out of the run
# with the admin key; default: the heavy computations) can be set from the environment.
set -euo pipefail

BIN=$(cd "${BIN:-.venv/bin}" && pwd)
MAX_EXAMPLES=${MAX_EXAMPLES:-20}
EXCLUDE=${EXCLUDE:-'^/api/v1/(zones/compute|sites/suggest|scenarios/[^/]+/evaluate|forecasts/compute|rounds/[^/]+/placement)$'}
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance

data_dir=$(mktemp -d -t schoolgis-schemathesis-XXXXXX)
port=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
unset DATABASE_URL SCHOOLGIS_DATABASE_URL
export SCHOOLGIS_DATA_DIR="$data_dir"

"$BIN/schoolgis" serve --host 127.0.0.1 --port "$port" >"$data_dir/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data_dir"' EXIT

for _ in $(seq 1 600); do
    if "$BIN/python" -c "import urllib.request as u; u.urlopen('$base/api/v1/health', timeout=2)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$data_dir/serve.log" >&2
        exit 1
    fi
    sleep 0.5
done
token=$("$BIN/schoolgis" keys create --name schemathesis --role admin)

# schemathesis keeps what it found under the working folder: the throwaway one
cd "$data_dir"
status=0
echo "== anonymous"
"$BIN/schemathesis" run "$base/openapi.json" --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" \
    --request-timeout 60 --seed 20 --generation-database none || status=$?
echo "== admin key"
"$BIN/schemathesis" run "$base/openapi.json" --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" \
    --request-timeout 60 --seed 20 --generation-database none --exclude-path-regex "$EXCLUDE" \
    --header "Authorization: Bearer $token" || status=$?
exit "$status"
