#!/usr/bin/env bash
# Run the official WBCSD PACT v3 conformance suite (github.com/wbcsd/pact-conformance-service) against a throwaway
# node served over HTTPS only, in CLI mode and in server mode (the asynchronous callback cases 13 and 14.B).
#
# Usage: scripts/pact-conformance.sh [SUITE_DIR]
#   SUITE_DIR (or $PACT_SUITE_DIR): a checkout of wbcsd/pact-conformance-service. Its npm packages are installed
#   with `npm ci` when node_modules is missing; nothing else is fetched from the network.
# Environment:
#   PACT_MODE            cli | server | both (default both)
#   PACT_NODE_PORT       HTTPS port of the node (default 8443)
#   PACT_SUITE_PORT      port of the suite's server and of its callback endpoints (default 8004)
#   PACT_SUITE_DB        PostgreSQL URL for server mode (default postgres://postgres@127.0.0.1:5432/pact_conformance;
#                        the database is created when missing)
#   PACT_NODE_DB         the node's database: sqlite (default, in the temp folder) or a PostgreSQL URL such as
#                        postgresql://postgres@127.0.0.1:5432/pact_node (dropped and created afresh)
#   PACT_NODE_WORKERS    worker processes of the node (connector serve --workers N, default 1; more than one needs
#                        a PostgreSQL PACT_NODE_DB)
#   PACT_PAGE_SIZE       the node's largest page (CONNECTOR_PAGE_SIZE_MAX, default 4): the 11 footprints set up
#                        take three pages even for a client that asks for no limit
#   PACT_FIXTURE         supply-chain file (default examples/nmc811-chain.json)
#   PACT_OPENAPI         official OpenAPI files (space-separated) to validate every footprint served against, with
#                        scripts/validate-pact.py (default: none)
#   PACT_KEEP=1          keep the temporary folder (node data, logs, JSON results)
# Exit status: 0 when every mandatory case passed in every mode run (no failure, nothing pending in server mode).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SUITE="${1:-${PACT_SUITE_DIR:-}}"
MODE="${PACT_MODE:-both}"
NODE_PORT="${PACT_NODE_PORT:-8443}"
SUITE_PORT="${PACT_SUITE_PORT:-8004}"
SUITE_DB="${PACT_SUITE_DB:-postgres://postgres@127.0.0.1:5432/pact_conformance}"
FIXTURE="${PACT_FIXTURE:-$ROOT/examples/nmc811-chain.json}"
NODE_DB="${PACT_NODE_DB:-sqlite}"
PAGE_SIZE="${PACT_PAGE_SIZE:-4}"
NODE_WORKERS="${PACT_NODE_WORKERS:-1}"

if [ -z "$SUITE" ] || [ ! -f "$SUITE/src/test-cases/v3-test-cases.ts" ]; then
  echo "usage: $0 SUITE_DIR   (a checkout of wbcsd/pact-conformance-service; or set PACT_SUITE_DIR)" >&2
  exit 2
fi
SUITE="$(cd "$SUITE" && pwd)"
case "$MODE" in cli|server|both) ;; *) echo "PACT_MODE must be cli, server or both" >&2; exit 2 ;; esac
case "$NODE_WORKERS" in ''|*[!0-9]*|0) echo "PACT_NODE_WORKERS must be a positive integer" >&2; exit 2 ;; esac

if [ -x "$ROOT/.venv/bin/connector" ]; then . "$ROOT/.venv/bin/activate"; fi
command -v connector >/dev/null || { echo "connector not installed (run scripts/test.sh or pip install -e .)" >&2; exit 2; }
PY="$(command -v python)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pact-conformance.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${PACT_KEEP:-}" = "1" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { printf '\n== %s\n' "$*"; }
json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
wait_for() {  # url, curl options...
  local url="$1"; shift
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$@" "$url" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "timed out waiting for $url" >&2
  return 1
}

free_port() {  # a leftover server on the port would answer in place of the one started here
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then echo "port $1 is already in use" >&2; exit 1; fi
}

SUITE_COMMIT="$(git -C "$SUITE" rev-parse HEAD 2>/dev/null || echo unknown)"
log "suite $SUITE (commit $SUITE_COMMIT), work folder $WORK"
if [ ! -d "$SUITE/node_modules" ]; then
  (cd "$SUITE" && npm ci --no-audit --no-fund)
fi

# --- the node -------------------------------------------------------------------------------------------------------
COMPANY="urn:pact:andes-lithium.example:company:andes-lithium"
SUITE_COMPANY="urn:pact:conformance.carbon-transparency.example:company:pact-conformance-suite"
BASE="https://localhost:$NODE_PORT"
CALLBACK="http://localhost:$SUITE_PORT"

log "throwaway CA and TLS certificate for localhost and 127.0.0.1"
connector ca init --dir "$WORK/ca" --name "PACT conformance" >/dev/null
connector ca issue --dir "$WORK/ca" --tls-host localhost --tls-host 127.0.0.1 --out "$WORK/ca/tls" --stem tls >/dev/null
# and a company certificate: the node signs, so every footprint carries our extension (attestation), as in production
connector ca issue --dir "$WORK/ca" --company-id "$COMPANY" --name "Andes Lithium Refining S.A." --role supplier \
  --out "$WORK/ca/company" --stem company >/dev/null
export CONNECTOR_KEY_FILE="$WORK/ca/company/company.key" CONNECTOR_CERT_FILE="$WORK/ca/company/company.chain.pem"
export CONNECTOR_TRUST_ANCHOR_FILES="[\"$WORK/ca/root.pem\"]"

log "node for Andes Lithium at $BASE (database: $NODE_DB)"
NODE="$WORK/node"
if [ "$NODE_DB" != "sqlite" ]; then
  NODE_DB_NAME="${NODE_DB##*/}"
  NODE_DB_ADMIN="${NODE_DB%/*}/postgres"
  psql "$NODE_DB_ADMIN" -qc "drop database if exists \"$NODE_DB_NAME\"" -c "create database \"$NODE_DB_NAME\""
  export CONNECTOR_DATABASE_URL="$NODE_DB"
fi
export CONNECTOR_PAGE_SIZE_MAX="$PAGE_SIZE"
INIT_OUT="$(connector init --data-dir "$NODE" --company-id "$COMPANY" --company-name "Andes Lithium Refining S.A." \
  --public-url "$BASE")"
API_KEY="$(grep -o 'ck_[A-Za-z0-9_-]*' <<<"$INIT_OUT" | head -1)"
[ -n "$API_KEY" ] || { echo "no admin key in: $INIT_OUT" >&2; exit 1; }
connector import "$FIXTURE" --data-dir "$NODE" --company "$COMPANY"

export CONNECTOR_TLS_CERT_FILE="$WORK/ca/tls/tls.chain.pem" CONNECTOR_TLS_KEY_FILE="$WORK/ca/tls/tls.key"
export CONNECTOR_OUTGOING_BASIC_CREDENTIALS="{\"$CALLBACK\": [\"test_client_id\", \"test_client_secret\"]}"
export CONNECTOR_OUTBOX_MAX_DELAY=5
export CONNECTOR_ALLOW_PRIVATE_NETWORK_TARGETS=true  # the suite's callback receiver is on localhost
free_port "$NODE_PORT"
# --insecure-dev: TLS but no company certificate; the suite checks PACT, not our attestations
connector serve --data-dir "$NODE" --host 127.0.0.1 --port "$NODE_PORT" --insecure-dev --workers "$NODE_WORKERS" \
  >"$WORK/node.log" 2>&1 &
PIDS+=($!)
CURL=(--cacert "$WORK/ca/root.pem")
wait_for "$BASE/health" "${CURL[@]}"

api() {  # method path [json body]
  local args=(--fail-with-body -sS "${CURL[@]}" -X "$1" -H "X-API-Key: $API_KEY" -H "content-type: application/json")
  if [ $# -ge 3 ]; then args+=(-d "$3"); fi
  curl "${args[@]}" "$BASE/api/v1$2" || { echo " <- $1 $2 failed" >&2; return 1; }
}

# Varied data, so the suite meets what real nodes hold. Footprints are listed newest first; the suite draws its
# filter values from the first one, so the last product set up has a plant with a subdivision (case 22 filters by
# the subdivision, and a country-only footprint of the same country must not come back), no classification (case 23
# sends classification= and expects the full list) and several productIds. Before it: a product whose first version
# is Deprecated beside its Active one, products with and without classifications, a plant with no subdivision, no
# plant at all (global), other units: 11 footprints, three pages of PACT_PAGE_SIZE 4.
log "varied data: 10 products, 11 footprints, shared with the suite's client"
PRODUCTS=()
product() {  # JSON body (without declaredUnit defaults), then emissions as stage=value...
  local id
  id="$(api POST /products "$1" | json 'd["id"]')"; shift
  for emission in "$@"; do
    api POST "/products/$id/emissions" "{\"stage\": \"${emission%%=*}\", \"value\": \"${emission#*=}\"}" >/dev/null
  done
  PRODUCTS+=("$id")
  LAST="$id"
}
footprint() { api POST "/products/$1/footprints" >/dev/null; }
P="urn:pact:andes-lithium.example:product"
C="urn:pact:andes-lithium.example:classification"
LIOH="$(api GET '/products' | json 'd["items"][0]["id"]')"  # from the fixture: plant CL, no classification
PRODUCTS+=("$LIOH")
footprint "$LIOH"                                          # version 1, Deprecated below
product "{\"productIds\": [\"$P:li2co3-bg\"], \"name\": \"Lithium carbonate, battery grade\",
  \"declaredUnit\": \"kilogram\", \"massPerDeclaredUnit\": \"1\", \"primaryDataShare\": \"100\",
  \"plant\": {\"name\": \"Antofagasta refinery\", \"country\": \"CL\"},
  \"classifications\": [\"$C:battery-chemicals\", \"urn:pact:productclassification:un-cpc:34230\"]}" \
  raw_material_acquisition=9.4
footprint "$LAST"
for i in 1 2 3 4 5 6 7; do
  case $i in  # plants: a subdivision, a country alone, none (global); classifications or not; units
    1) plant='"plant": {"name": "Salar de Olaroz", "country": "AR", "subdivision": "AR-Y"},'; unit=kilogram ;;
    2) plant='"plant": {"name": "Salar de Atacama", "country": "CL", "subdivision": "CL-AN"},'; unit=kilogram ;;
    3) plant=''; unit=piece ;;
    4) plant='"plant": {"name": "Kwinana", "country": "AU", "subdivision": "AU-WA"},'; unit="kilowatt hour" ;;
    5) plant='"plant": {"name": "Mejillones", "country": "CL"},'; unit=kilogram ;;
    6) plant='"plant": {"name": "Freiberg", "country": "DE", "subdivision": "DE-SN"},'; unit=megajoule ;;
    7) plant='"plant": {"name": "Quebec", "country": "CA", "subdivision": "CA-QC"},'; unit=kilogram ;;
  esac
  classes='[]'; if [ $((i % 2)) = 1 ]; then classes="[\"$C:grade-$i\"]"; fi
  product "{\"productIds\": [\"$P:sample-$i\"], \"name\": \"Lithium sample $i\", \"declaredUnit\": \"$unit\",
    $plant \"classifications\": $classes, \"massPerDeclaredUnit\": \"0.$i\",
    \"dqr\": {\"technological\": \"1.$i\", \"geographical\": \"2\", \"temporal\": \"3\"}}" \
    raw_material_acquisition="$i.25" main_production="0.0$i" end_of_life="-0.0$i"
  footprint "$LAST"
done
api POST "/products/$LIOH/emissions" '{"stage": "main_production", "value": "0.8"}' >/dev/null
footprint "$LIOH"                                          # version 2: Active, version 1 Deprecated
product "{\"productIds\": [\"$P:li-metal\", \"urn:pact:andes-lithium.example:gtin:07612345678900\",
  \"$P:li-metal-ingot-1kg\"], \"name\": \"Lithium metal\", \"declaredUnit\": \"kilogram\",
  \"plant\": {\"name\": \"Antofagasta metal plant\", \"country\": \"CL\", \"subdivision\": \"CL-AN\"}}" \
  raw_material_acquisition=31.5 main_production=12.25
footprint "$LAST"                                          # the newest: the suite's first footprint
# the answers to its requests go to the partner's registered node URL (the suite's callback receiver)
api POST /partners "{\"companyId\": \"$SUITE_COMPANY\", \"name\": \"PACT conformance suite\", \"isCustomer\": true,
  \"autoFulfil\": true, \"nodeUrl\": \"$CALLBACK\"}" >/dev/null
for pid in "${PRODUCTS[@]}"; do
  api POST /grants "{\"productId\": \"$pid\", \"companyId\": \"$SUITE_COMPANY\"}" >/dev/null
done
STATUS=0
CREDS="$(api POST /pact-clients "{\"companyId\": \"$SUITE_COMPANY\"}")"
CLIENT_ID="$(json 'd["clientId"]' <<<"$CREDS")"
CLIENT_SECRET="$(json 'd["clientSecret"]' <<<"$CREDS")"
if curl -s -o /dev/null --max-time 5 "http://localhost:$NODE_PORT/health"; then
  echo "the node answers plain HTTP: refusing to test" >&2; exit 1
fi

if [ -n "${PACT_OPENAPI:-}" ]; then
  log "every footprint served, against the official schema(s): $PACT_OPENAPI"
  # shellcheck disable=SC2086 # a space-separated list of paths
  "$PY" "$ROOT/scripts/validate-pact.py" $PACT_OPENAPI --url "$BASE" --client-id "$CLIENT_ID" \
    --client-secret "$CLIENT_SECRET" --cacert "$WORK/ca/root.pem" --quiet || STATUS=1
fi

# --- the suite ------------------------------------------------------------------------------------------------------
export NODE_ENV=development PORT="$SUITE_PORT" DB_CONNECTION_STRING="$SUITE_DB" CONFORMANCE_API="$CALLBACK"
export JWT_SECRET="conformance-$RANDOM$RANDOM" LOG_OUTPUT=console
export NODE_EXTRA_CA_CERTS="$WORK/ca/root.pem"

if [ "$MODE" != "cli" ]; then
  log "server mode (callbacks to $CALLBACK/3/events)"
  DB_NAME="${SUITE_DB##*/}"
  DB_ADMIN="${SUITE_DB%/*}/postgres"
  if ! psql "$DB_ADMIN" -tAc "select 1 from pg_database where datname = '$DB_NAME'" | grep -q 1; then
    psql "$DB_ADMIN" -qc "create database \"$DB_NAME\""
  fi
  (cd "$SUITE" && node_modules/.bin/ts-node src/data/migrate.ts >"$WORK/migrate.log" 2>&1) \
    || { cat "$WORK/migrate.log"; exit 1; }
  free_port "$SUITE_PORT"
  # ts-node itself, not through npx: npx would leave the server running when killed
  (cd "$SUITE" && exec node_modules/.bin/ts-node src/server.ts) >"$WORK/suite-server.log" 2>&1 &
  PIDS+=($!)
  wait_for "$CALLBACK/health-check"
  RUN_BODY="$("$PY" -c 'import json,sys; print(json.dumps({"baseUrl": sys.argv[1], "clientId": sys.argv[2],
    "clientSecret": sys.argv[3], "version": "V3.0", "organizationName": "Battery CFP connector",
    "adminEmail": "conformance@example.com", "adminName": "Conformance"}))' "$BASE" "$CLIENT_ID" "$CLIENT_SECRET")"
  RUN_ID="$(curl -fsS -X POST -H 'content-type: application/json' -d "$RUN_BODY" "$CALLBACK/testruns" \
    | json 'd["testRunId"]')"
  # the callbacks arrive through the node's outbox, usually within a second or two
  for _ in $(seq 1 60); do
    curl -fsS "$CALLBACK/testruns/$RUN_ID" >"$WORK/server-run.json"
    if [ "$(json 'd["status"]' <"$WORK/server-run.json")" != "PENDING" ]; then break; fi
    sleep 1
  done
  "$PY" - "$WORK/server-run.json" "$SUITE_COMMIT" <<'EOF' || STATUS=1
import json, re, sys
run = json.load(open(sys.argv[1]))
def key(r):
    m = re.match(r"TESTCASE#(\d+)(.*)", r["testKey"])
    return (int(m.group(1)), m.group(2)) if m else (999, r["testKey"])
marks = {"SUCCESS": "pass", "FAILURE": "FAIL", "PENDING": "pending"}
for r in sorted(run["results"], key=key):
    line = f'{r["testKey"]:15} {marks.get(r["status"], r["status"]):8} {"mandatory" if r["mandatory"] else "optional ":9} {r["name"]}'
    print(line)
    if r["status"] != "SUCCESS" and r.get("errorMessage"):
        print("    " + r["errorMessage"][:600].replace("\n", " "))
mand = [r for r in run["results"] if r["mandatory"]]
bad = [r for r in mand if r["status"] != "SUCCESS"]
print(f'server mode: suite {sys.argv[2][:12]}, test run {run["testRunId"]}: status {run["status"]}, '
      f'passingPercentage {run.get("passingPercentage")}, {len(mand) - len(bad)}/{len(mand)} mandatory passed, '
      f'{sum(1 for r in run["results"] if r["status"] == "SUCCESS")}/{len(run["results"])} cases passed')
sys.exit(1 if bad or run["status"] != "PASS" else 0)
EOF
fi

if [ "$MODE" != "server" ]; then
  log "CLI mode (no callbacks: 13 and 14.B stay pending)"
  set +e
  (cd "$SUITE" && node_modules/.bin/ts-node src/scripts/run-tests-cli.ts --baseUrl "$BASE" --clientId "$CLIENT_ID" \
    --clientSecret "$CLIENT_SECRET" --version V3.0 --organizationName "Battery CFP connector") >"$WORK/cli.log" 2>&1
  set -e
  # the CLI exits 1 and prints "Status: FAIL" even when everything passed (a known defect of ConsoleTestStorage);
  # the verdict is read from the per-case lines and the "Failed:" count instead
  sed -e 's/\x1b\[[0-9;]*m//g' "$WORK/cli.log" | sed -n '/TEST RESULTS SUMMARY/,$p' | grep -vE '^\s*Request:' || true
  # the second "Failed:" line of the statistics block counts the mandatory cases
  FAILED="$(sed -e 's/\x1b\[[0-9;]*m//g' "$WORK/cli.log" | grep -oE 'Failed: *[0-9]+' | grep -oE '[0-9]+' | tail -1)"
  if [ -z "$FAILED" ]; then
    echo "could not read the CLI result:"; tail -40 "$WORK/cli.log"; STATUS=1
  elif [ "$FAILED" != "0" ]; then
    STATUS=1
  fi
  echo "CLI mode: suite ${SUITE_COMMIT:0:12}: failed ${FAILED:-?}"
fi

if [ "$STATUS" = 0 ]; then log "PASS: every mandatory case passed"; else log "FAIL (logs in $WORK with PACT_KEEP=1)"; fi
exit "$STATUS"
