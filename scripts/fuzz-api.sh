#!/usr/bin/env bash
# Fuzz a throwaway node's operator API, PACT peer API and Catena-X PCF API with schemathesis (property-based tests generated from the
# node's own OpenAPI) and fail on any server error (5xx) or response that does not match the documented schema.
#
# Usage: scripts/fuzz-api.sh [MAX_EXAMPLES]      (default 25 per operation; bounded, a few minutes on 2 cores)
# Environment:
#   FUZZ_PORT         port of the node (default 8790)
#   FUZZ_DB           database URL (default: SQLite in the temporary folder; e.g. postgresql://postgres@127.0.0.1/test)
#   FUZZ_SEED         schemathesis seed (default 1, so a run can be repeated)
#   FUZZ_KEEP=1       keep the temporary folder (node data, log, reports)
# schemathesis is installed into the project's .venv when missing (it is a tool of this script, not of the node).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MAX="${1:-25}"
PORT="${FUZZ_PORT:-8790}"
SEED="${FUZZ_SEED:-1}"
if [ -x "$ROOT/.venv/bin/connector" ]; then . "$ROOT/.venv/bin/activate"; fi
command -v connector >/dev/null || { echo "connector not installed (run scripts/test.sh or pip install -e .)" >&2; exit 2; }
command -v st >/dev/null || python -m pip install -q schemathesis

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-api.XXXXXX")"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ "${FUZZ_KEEP:-}" = "1" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

NODE="$WORK/node"
COMPANY="urn:pact:setouchi-cell.example:company:setouchi-cell"
DB_ARGS=()
if [ -n "${FUZZ_DB:-}" ]; then DB_ARGS=(--database-url "$FUZZ_DB"); fi
KEY="$(connector init --data-dir "$NODE" --company-id "$COMPANY" --company-name "Setouchi Cell" \
        --public-url "http://127.0.0.1:$PORT" "${DB_ARGS[@]}" | grep -oE 'ck_[A-Za-z0-9_-]+' | head -n1)"
[ -n "$KEY" ] || { echo "no API key from connector init" >&2; exit 1; }
connector import "$ROOT/examples/nmc811-chain.json" --data-dir "$NODE" --company "$COMPANY" >/dev/null
CONNECTOR_CATENAX__API_KEY=fuzz-proxy-secret CONNECTOR_CATENAX__BPNL=BPNL000000000001 \
  connector serve --data-dir "$NODE" --port "$PORT" --insecure-dev >"$WORK/node.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break; sleep 0.2; done

# a PACT client of the node, for a bearer token on the peer API (/3/...)
CLIENT="$(curl -fsS -X POST -H "X-API-Key: $KEY" -H 'content-type: application/json' \
  "http://127.0.0.1:$PORT/api/v1/pact-clients" \
  -d '{"companyId": "urn:pact:kyushu-pack.example:company:kyushu-pack"}')"
ID="$(printf '%s' "$CLIENT" | python -c 'import json,sys; print(json.load(sys.stdin)["clientId"])')"
SECRET="$(printf '%s' "$CLIENT" | python -c 'import json,sys; print(json.load(sys.stdin)["clientSecret"])')"
TOKEN="$(curl -fsS -u "$ID:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PORT/auth/token" \
  | python -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

COMMON=(--checks not_a_server_error,response_schema_conformance --max-examples "$MAX" --seed "$SEED"
        --request-timeout 10 --warnings off --report junit --report-dir "$WORK/reports")
status=0
echo "== operator API (/api/v1), $MAX examples per operation"
st run "http://127.0.0.1:$PORT/openapi.json" -H "X-API-Key: $KEY" --include-path-regex '^/api/v1/' \
   --exclude-path-regex '^/api/v1/(keys|pact-clients)' "${COMMON[@]}" || status=1
echo "== PACT peer API (/3/...), $MAX examples per operation"
st run "http://127.0.0.1:$PORT/openapi.json" -H "Authorization: Bearer $TOKEN" --include-path-regex '^/3/' \
   "${COMMON[@]}" || status=1
# a Catena-X partner with a grant on the first product, for the PCF API (/catenax/...) behind the data plane
curl -fsS -o /dev/null -X POST -H "X-API-Key: $KEY" -H 'content-type: application/json' \
  "http://127.0.0.1:$PORT/api/v1/partners" -d '{"companyId": "urn:pact:oem.example:company:oem", "name": "OEM",
  "isCustomer": true, "isSupplier": true, "protocol": "catenax", "bpnl": "BPNL00000000OEM1",
  "nodeUrl": "https://edc.oem.example/api/v1/dsp"}'
FIRST="$(curl -fsS -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/api/v1/products?limit=1" \
  | python -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
curl -fsS -o /dev/null -X POST -H "X-API-Key: $KEY" -H 'content-type: application/json' \
  "http://127.0.0.1:$PORT/api/v1/grants" -d "{\"productId\": \"$FIRST\", \"companyId\": \"urn:pact:oem.example:company:oem\"}"
echo "== Catena-X PCF API (/catenax/...), $MAX examples per operation"
st run "http://127.0.0.1:$PORT/openapi.json" -H "X-Api-Key: fuzz-proxy-secret" -H "Edc-Bpn: BPNL00000000OEM1" \
   --include-path-regex '^/catenax/' "${COMMON[@]}" || status=1
if grep -qE 'Traceback|Exception in ASGI' "$WORK/node.log"; then
  echo "the node logged a traceback:" >&2; grep -B2 -A20 -m3 -E 'Traceback|Exception in ASGI' "$WORK/node.log" >&2
  status=1
fi
exit "$status"
