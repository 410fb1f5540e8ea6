#!/usr/bin/env bash
# make demo: start the simulator with the example organisation, run examples/policy.lua as a plan and
# then apply it as the "prod" member account, print both tables, and stop the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
lua5.4 bin/invite sim --fixtures examples/fixtures/org.json --port 0 --log "$work/requests.jsonl" > "$work/sim.out" &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q listening "$work/sim.out" 2>/dev/null && break; sleep 0.05; done
url=$(grep -o 'http://[0-9.:]*' "$work/sim.out" | head -n 1)
[ -n "$url" ] || { echo "demo: the simulator did not start" >&2; exit 1; }
echo "simulator: $url (pid $sim)"

# the "prod" member account's documented fake keys from examples/fixtures/org.json
export AWS_ACCESS_KEY_ID=AKIASIMPROD000000001
export AWS_SECRET_ACCESS_KEY=sim/prod/secret/1/FAKEFAKEFAKEFAKEFAKEFA
export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE

echo; echo "== invite plan examples/policy.lua"
lua5.4 bin/invite plan examples/policy.lua --endpoint-url "$url" || true
echo; echo "== invite apply examples/policy.lua"
rc=0
lua5.4 bin/invite apply examples/policy.lua --endpoint-url "$url" --audit-log "$work/audit.jsonl" || rc=$?
echo; echo "== audit log: $(wc -l < "$work/audit.jsonl") lines; exit code $rc"
echo; echo "== invite list after apply"
lua5.4 bin/invite list --regions us-east-1,eu-west-1 --endpoint-url "$url" || true
