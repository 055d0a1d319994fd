#!/usr/bin/env bash
# Fuzz a throwaway node's Ouranos data-transport API with schemathesis, from the OFFICIAL DTS OpenAPI (docs/openapi.yaml
# of ouranos-ecosystem-idi/data-transaction-system, API 3.0.0; never copied into this repository), and fail on any
# server error, undocumented status code or response that does not match the official schema.
#
# Usage: scripts/ouranos-conformance.sh SPEC_PATH [MAX_EXAMPLES]     (default 20 per operation; bounded, a few minutes)
# Environment:
#   OURANOS_PORT      port of the node (default 8791)
#   OURANOS_DB        database URL (default: SQLite in the temporary folder)
#   OURANOS_SEED      schemathesis seed (default 1, so a run can be repeated)
#   OURANOS_KEEP=1    keep the temporary folder (node data, log, the per-operation specs, reports)
#
# The official paths embed their query (/api/v1/datatransport?dataTarget=cfp&traceIds={uuid}), which no OpenAPI tool
# takes as a path; so each operation is written to its own spec in the temporary folder, at its real path with
# dataTarget fixed to its value, and run on its own. schemathesis is installed into .venv when missing.
set -euo pipefail

SPEC="${1:?usage: scripts/ouranos-conformance.sh SPEC_PATH [MAX_EXAMPLES]}"
MAX="${2:-20}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${OURANOS_PORT:-8791}"
SEED="${OURANOS_SEED:-1}"
[ -f "$SPEC" ] || { echo "no such file: $SPEC" >&2; exit 2; }
if [ -x "$ROOT/.venv/bin/connector" ]; then . "$ROOT/.venv/bin/activate"; fi
command -v connector >/dev/null || { echo "connector not installed (run scripts/test.sh or pip install -e .)" >&2; exit 2; }
command -v st >/dev/null || python -m pip install -q schemathesis

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ouranos-conformance.XXXXXX")"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ "${OURANOS_KEEP:-}" = "1" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

NODE="$WORK/node"
COMPANY="urn:pact:setouchi-cell.example:company:setouchi-cell"
DB_ARGS=()
if [ -n "${OURANOS_DB:-}" ]; then DB_ARGS=(--database-url "$OURANOS_DB"); fi
export CONNECTOR_CORPORATE_NUMBER=2222222222222 CONNECTOR_COMPANY_ADDRESS="1-1 Setouchi" \
       CONNECTOR_HOLD_UNMATCHED_REQUESTS=true
KEY="$(connector init --data-dir "$NODE" --company-id "$COMPANY" --company-name "Setouchi Cell" \
        --public-url "http://127.0.0.1:$PORT" "${DB_ARGS[@]}" | grep -oE 'ck_[A-Za-z0-9_-]+' | head -n1)"
[ -n "$KEY" ] || { echo "no API key from connector init" >&2; exit 1; }
connector import "$ROOT/examples/nmc811-chain.json" --data-dir "$NODE" --company "$COMPANY" >/dev/null
PASSWORD="Fuzz1ng0nly!pass"
printf '%s\n' "$PASSWORD" | connector user add fuzz@example.com --role editor --password-stdin --data-dir "$NODE" >/dev/null
connector serve --data-dir "$NODE" --port "$PORT" --insecure-dev >"$WORK/node.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break; sleep 0.2; done

login() {
  curl -fsS -X POST -H "apiKey: $KEY" -H 'content-type: application/json' "http://127.0.0.1:$PORT/auth/login" \
    -d "{\"operatorAccountId\": \"fuzz@example.com\", \"accountPassword\": \"$PASSWORD\"}" \
    | python -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])'
}

# one spec per operation, at its real path, dataTarget fixed
python - "$SPEC" "$WORK/specs" <<'PY'
import copy, json, pathlib, sys
import yaml

spec = yaml.safe_load(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
out = pathlib.Path(sys.argv[2])
out.mkdir()
merged = {}  # (path, method, dataTarget) -> operation
for key, ops in spec["paths"].items():
    path, _, query = key.partition("?")
    fixed = dict(p.split("=", 1) for p in query.split("&") if p) if query else {}
    for method, op in ops.items():
        op = copy.deepcopy(op)
        for param in op.get("parameters", []):
            if param["in"] == "query" and param["name"] == "dataTarget" and "dataTarget" in fixed:
                param["schema"] = {"type": "string", "enum": [fixed["dataTarget"]]}
        slot = (path, method, fixed.get("dataTarget", ""))
        if slot not in merged:
            merged[slot] = op
            continue
        # two official operations on one URL (GET operator, and GET operator&operatorIds=...): one operation whose
        # parameters are both sets (optional unless required by both) and whose answers are either one's
        first = merged[slot]
        names = {p["name"] for p in first.get("parameters", [])}
        for param in first.get("parameters", []):
            if param["name"] not in {p["name"] for p in op.get("parameters", [])}:
                param["required"] = False
        for param in op.get("parameters", []):
            if param["name"] not in names:
                first.setdefault("parameters", []).append(dict(param, required=False))
            elif not param.get("required"):
                next(p for p in first["parameters"] if p["name"] == param["name"])["required"] = False
        for status, answer in op["responses"].items():
            if status not in first["responses"]:
                first["responses"][status] = answer
                continue
            mine, theirs = first["responses"][status].get("content"), answer.get("content")
            if mine and theirs and mine["application/json"]["schema"] != theirs["application/json"]["schema"]:
                a, b = mine["application/json"]["schema"], theirs["application/json"]["schema"]
                mine["application/json"] = {"schema": {"oneOf": [a, b]}}
n = 0
for (path, method, target), op in merged.items():
    one = {k: v for k, v in spec.items() if k != "paths"}
    one["paths"] = {path: {method: op}}
    n += 1
    name = f"{n:02d}-{method}-{path.strip('/').replace('/', '_')}-{target}"
    if path == "/auth/change":  # last: it changes the password the other runs log in with
        name = "99-" + name
    (out / f"{name}.json").write_text(json.dumps(one, ensure_ascii=False), encoding="utf-8")
print(f"{n} operations")
PY

status=0
for one in "$WORK"/specs/*.json; do
  TOKEN="$(login)"
  echo "== $(basename "$one" .json)"
  st run "$one" --url "http://127.0.0.1:$PORT" -H "apiKey: $KEY" -H "Authorization: Bearer $TOKEN" \
     --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
     --max-examples "$MAX" --seed "$SEED" --request-timeout 10 --warnings off \
     --report junit --report-dir "$WORK/reports/$(basename "$one" .json)" || status=1
done
if grep -qE 'Traceback|Exception in ASGI' "$WORK/node.log"; then
  echo "the node logged a traceback:" >&2; grep -B2 -A20 -m3 -E 'Traceback|Exception in ASGI' "$WORK/node.log" >&2
  status=1
fi
exit "$status"
