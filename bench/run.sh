#!/usr/bin/env bash
# bench/run.sh - the body of `make bench`: invite beside its floors and peers, in ONE run, written to
# bench/RESULTS.md (min/median/max of each, ratios and the issue's targets computed from this run).
#
#   bench/run.sh [--quick] [--out FILE]
#
# --quick   few iterations (one to two minutes), written to build/bench/RESULTS-quick.md unless --out
#           is given: for checking the harness, not for numbers.
# --out F   write the report to F (default: bench/RESULTS.md, or build/bench/RESULTS-quick.md).
#
# What runs (each script's header says how it measures):
#   signing    bench/sign.lua (lua5.4, luajit), build/bench/sign_floor, bench/sign_botocore.py,
#              bench/node/sign.js (npm aws4, @smithy/signature-v4; `npm ci` from the committed lock)
#   loopback   one nginx on a free port (own temp prefix, stopped by its pid) answering
#              200 {"unprocessedAccounts":[]}: bench/decline.lua (lua5.4, luajit),
#              bench/decline_boto3.py, build/bench/http_floor, `curl --aws-sigv4 -K` (N requests)
#   CLI        bin/invite decline vs /usr/bin/aws guardduty decline-invitations, against that nginx
#   startup    lua5.4/luajit require "invite" (+ first client) vs python3 import boto3 (+ client):
#              whole processes (build/bench/spawn) and in-process CPU time (bench/require.lua,
#              bench/require_boto3.py); peak RSS with /usr/bin/time -f %M, and over 2000 calls
#   sweep      bench/sweep.lua (invite.run, 51 scopes, simulator with latency=50) and
#              bin/invite list --concurrency 51/8/1 against a simulator started here
#   inventory  bench/inventory.lua (invite.run over the six kinds, 86 scopes, and the three old ones,
#              51, at latency=50) beside bench/inventory_boto3.py (python3's boto3: a loop, and 32 threads)
# Missing Debian peers are installed with apt-get (as root); anything that still cannot run is
# reported as "skipped (reason)". Network: loopback only (nginx, the simulator), plus the Debian
# and npm registries for installing peers. Raw lines: build/bench/raw.txt; full log:
# build/bench/run.log.
# shellcheck disable=SC2034  # the command arrays are used by name (interleave, namerefs)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset LD_PRELOAD

MODE=full
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MODE=quick ;;
    --out) OUT="${2:?--out needs a file}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ && !/shellcheck/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$OUT" ] || { [ "$MODE" = quick ] && OUT=build/bench/RESULTS-quick.md || OUT=bench/RESULTS.md; }

# iterations: full | quick
if [ "$MODE" = full ]; then
  SIGN_R=9;  SIGN_N=20000; BOTO_SIGN_N=2000; NODE_SIGN_N=5000
  DECL_R=9;  DECL_N=2000;  BOTO_DECL_N=300;  CURL_N=2000
  CLI_R=10;  START_R=20;   PY_START_R=10; RSS_R=3
  SWEEP_R=5; SWEEP_SEQ_R=2; LIST_R=5;        LIST_SEQ_R=2
  INV_R=5;   INV_SEQ_R=2
else
  SIGN_R=3;  SIGN_N=2000;  BOTO_SIGN_N=300;  NODE_SIGN_N=1000
  DECL_R=3;  DECL_N=300;   BOTO_DECL_N=50;   CURL_N=300
  CLI_R=3;   START_R=5;    PY_START_R=3;  RSS_R=1
  SWEEP_R=2; SWEEP_SEQ_R=1; LIST_R=2;        LIST_SEQ_R=1
  INV_R=1;   INV_SEQ_R=0
fi

mkdir -p build/bench
RAW=build/bench/raw.txt
LOG=build/bench/run.log
: >"$RAW"
: >"$LOG"
TMP=$(mktemp -d /tmp/invite-bench.XXXXXX)
NGINX_PID=""
SIM_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '== [%3ds] %s\n' "$(( $(date +%s) - T0 ))" "$*" | tee -a "$LOG" >&2; }
info() { printf 'info %s %s\n' "$1" "$2" >>"$RAW"; }
skip() { printf 'skip %s %s\n' "$1" "$2" >>"$RAW"; say "skipped $1: $2"; }

# run CMD, keep its output in the log, its result/rss lines in RAW; on failure: skip KEY
collect() {
  local key="$1"; shift
  local out rc
  out=$("$@" 2>>"$LOG"); rc=$?
  printf '%s\n' "$out" >>"$LOG"
  printf '%s\n' "$out" | grep -E '^(result|rss) ' >>"$RAW"
  if [ $rc -ne 0 ]; then
    skip "$key" "failed with exit code $rc: $(tail -n 1 "$LOG" | cut -c1-200)"
    return 1
  fi
}

# rcollect KEY CMD...: collect, in a loop of interleaved rounds; after a failure KEY is not run again
declare -A DEAD=()
rcollect() {
  local key="$1"; shift
  [ -n "${DEAD[$key]:-}" ] && return 1
  collect "$key" "$@" || { DEAD[$key]=1; return 1; }
}

# interleave ROUNDS KEY ARRAYNAME [KEY ARRAYNAME ...]: one untimed run of each command, then ROUNDS
# rounds in which each command runs once (build/bench/spawn -n 1), the commands in turn
interleave() {
  local rounds="$1" r i; shift
  local pairs=("$@")
  for ((r = 0; r <= rounds; r++)); do
    for ((i = 0; i < ${#pairs[@]}; i += 2)); do
      local key="${pairs[i]}"
      [ -n "${DEAD[$key]:-}" ] && continue
      declare -n cmd="${pairs[i + 1]}"
      if [ "$r" = 0 ]; then
        "${cmd[@]}" >/dev/null 2>>"$LOG" || { DEAD[$key]=1; skip "$key" "failed: ${cmd[*]}"; }
      else
        rcollect "$key" "$SPAWN" -n 1 -w 0 -k "$key" -- "${cmd[@]}"
      fi
      unset -n cmd
    done
  done
}

# peak RSS (kB) of one command, the median of RSS_R runs, as "rss KEY kb=N runs=..."
peak_rss() {
  local key="$1"; shift
  local i kb all=()
  if [ ! -x /usr/bin/time ]; then skip "$key" "/usr/bin/time missing"; return 1; fi
  for ((i = 0; i < RSS_R; i++)); do
    if ! kb=$(/usr/bin/time -f '%M' -o "$TMP/rss" "$@" 2>>"$LOG" >"$TMP/rss.out"); then
      skip "$key" "command failed: $*"; return 1
    fi
    cat "$TMP/rss.out" >>"$LOG"
    all+=("$(tail -n 1 "$TMP/rss")")
  done
  kb=$(printf '%s\n' "${all[@]}" | sort -n | sed -n "$(( (${#all[@]} + 2) / 2 ))p")
  local extra
  extra=$(grep -E '^rss ' "$TMP/rss.out" | sed -E 's/^rss [^ ]+ //')
  printf 'rss %s kb=%s runs=%s %s\n' "$key" "$kb" "$(IFS=,; echo "${all[*]}")" "$extra" >>"$RAW"
}

fresh() { # fresh TARGET SOURCES...: TARGET exists and is newer than every source
  local t="$1"; shift
  [ -e "$t" ] || return 1
  local s; for s in "$@"; do [ "$t" -nt "$s" ] || return 1; done
}

# ---------------------------------------------------------------------------------------------
say "bench/run.sh ($MODE) -> $OUT"

# Debian peers and tools: install what is missing (needs root), else they are skipped later
want=(nginx time python3-boto3 python3-botocore awscli curl lua5.4 luajit2 gcc libcurl4-openssl-dev libssl-dev
      lua-cjson lua-socket util-linux)
have node || want+=(nodejs)
have npm || want+=(npm)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing from Debian: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"; } >>"$LOG" 2>&1 || say "apt-get failed (see $LOG)"
  else
    say "not root: cannot apt-get install ${missing[*]}"
  fi
fi

# npm peers, from the committed package-lock.json
NODE_OK=1
if ! have node || ! have npm; then
  NODE_OK=0; skip node-aws4 "node/npm not installed"; skip node-smithy "node/npm not installed"
elif [ ! -d bench/node/node_modules/aws4 ] || [ ! -d bench/node/node_modules/@smithy/signature-v4 ] \
     || [ bench/node/package-lock.json -nt bench/node/node_modules ]; then
  say "npm ci in bench/node"
  if ! (cd bench/node && npm ci --no-audit --no-fund) >>"$LOG" 2>&1; then
    NODE_OK=0; skip node-aws4 "npm ci failed (see $LOG)"; skip node-smithy "npm ci failed (see $LOG)"
  fi
fi

# the C core and the C helpers
if ! fresh build/5.4/invite/core.so src/*.c src/*.h || ! fresh build/luajit/invite/core.so src/*.c src/*.h; then
  say "building invite.core (lua5.4, luajit)"
  make --no-print-directory build/5.4/invite/core.so build/luajit/invite/core.so >>"$LOG" 2>&1 \
    || { echo "bench/run.sh: building invite.core failed (see $LOG)" >&2; exit 1; }
fi
CC=${CC:-cc}
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Werror=implicit-function-declaration -O2"
build_tool() { # name sources... -- libs
  local name="$1"; shift
  local srcs=() libs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do srcs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  libs=("$@")
  fresh "build/bench/$name" "${srcs[@]}" src/sigv4.h && return 0
  # shellcheck disable=SC2086  # CC and CFLAGS are word lists
  $CC $CFLAGS -Isrc -o "build/bench/$name" "${srcs[@]}" "${libs[@]}" >>"$LOG" 2>&1
}
build_tool sign_floor bench/sign_floor.c src/sigv4.c -- -lcrypto || { echo "bench/run.sh: building sign_floor failed" >&2; exit 1; }
build_tool http_floor bench/http_floor.c -- -lcurl || { echo "bench/run.sh: building http_floor failed" >&2; exit 1; }
build_tool spawn bench/spawn.c -- || { echo "bench/run.sh: building spawn failed" >&2; exit 1; }
SPAWN=build/bench/spawn

# ---------------------------------------------------------------------------------------------
say "machine and versions"
info mode "$MODE"
info date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
info cpu "$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
info cores "$(nproc) online ($(lscpu 2>/dev/null | sed -n 's/^CPU(s):[[:space:]]*//p' | head -n 1) CPU(s) per lscpu)"
info kernel "$(uname -srm)"
info load_start "$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average when the run started)"
info lua54 "$(lua5.4 -v 2>&1 | head -n 1)"
info luajit "$(luajit -v 2>&1 | head -n 1)"
info python3 "$(/usr/bin/python3 --version 2>&1) (/usr/bin/python3)"
info botocore "$(/usr/bin/python3 -c 'import boto3, botocore; print("boto3", boto3.__version__, "/ botocore", botocore.__version__)' 2>&1 | tail -n 1)"
info aws "$(/usr/bin/aws --version 2>&1 | head -n 1)"
info curl "$(curl --version 2>&1 | head -n 1)"
info nginx "$(nginx -v 2>&1 | head -n 1)"
if have node; then info node "$(node --version)"; fi
if have npm; then info npm "$(npm --version 2>/dev/null)"; fi
if [ "$NODE_OK" = 1 ]; then
  info node_aws4 "aws4 $(node -p 'require("./bench/node/node_modules/aws4/package.json").version')"
  info node_smithy "@smithy/signature-v4 $(node -p 'require("./bench/node/node_modules/@smithy/signature-v4/package.json").version'), @smithy/hash-node $(node -p 'require("./bench/node/node_modules/@smithy/hash-node/package.json").version')"
fi
info openssl "$(openssl version 2>&1)"
info cc "$($CC --version 2>&1 | head -n 1)"
info git "$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src lua bin 2>/dev/null || echo ' (src/lua/bin modified)')"

# a clean AWS environment: fake static keys, no shared files, no IMDS, no configured endpoints
for v in $(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
: >"$TMP/aws-config"
export AWS_CONFIG_FILE="$TMP/aws-config" AWS_SHARED_CREDENTIALS_FILE="$TMP/aws-config"
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

# ---------------------------------------------------------------------------------------------
HAVE_BOTOCORE=0; HAVE_BOTO3=0
if /usr/bin/python3 -c 'import botocore' 2>/dev/null; then HAVE_BOTOCORE=1
else skip botocore "python3-botocore not importable by /usr/bin/python3"; fi
if /usr/bin/python3 -c 'import boto3' 2>/dev/null; then HAVE_BOTO3=1; fi
# interleaved rounds: one process per signer per round, the signers in turn
for ((r = 1; r <= SIGN_R; r++)); do
  say "signing, round $r of $SIGN_R"
  rcollect sign-5.4 lua5.4 bench/sign.lua 1 "$SIGN_N" --no-floor
  rcollect sign-luajit luajit bench/sign.lua 1 "$SIGN_N" --no-floor
  rcollect sign-floor bash -o pipefail -c "build/bench/sign_floor 1 $SIGN_N | sed -E 's/^floor (no-token|token) /result sign-floor-\\1 /'"
  [ "$HAVE_BOTOCORE" = 1 ] && rcollect botocore /usr/bin/python3 bench/sign_botocore.py 1 "$BOTO_SIGN_N"
  if [ "$NODE_OK" = 1 ]; then
    rcollect node-aws4 node bench/node/sign.js 1 "$NODE_SIGN_N" || { skip node-smithy "bench/node/sign.js failed"; NODE_OK=0; }
  fi
done

# ---------------------------------------------------------------------------------------------
say "loopback responder (nginx)"
free_port() { lua5.4 -e 'local s = require("socket").bind("127.0.0.1", 0); local _, p = s:getsockname(); print(p); s:close()'; }
start_nginx() {
  local port="$1" p="$TMP/nginx"
  mkdir -p "$p/logs"
  cat >"$p/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $p/logs/error.log warn;
pid $p/logs/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $p/body;
  proxy_temp_path $p/proxy;
  fastcgi_temp_path $p/fastcgi;
  uwsgi_temp_path $p/uwsgi;
  scgi_temp_path $p/scgi;
  server {
    listen 127.0.0.1:$port;
    location / {
      default_type application/json;
      return 200 '{"unprocessedAccounts":[]}';
    }
  }
}
EOF
  nginx -p "$p" -c "$p/nginx.conf" -e "$p/logs/error.log" >>"$LOG" 2>&1 &
  NGINX_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    if curl -fsS -o /dev/null -X POST "http://127.0.0.1:$port/invitation/decline" 2>/dev/null; then return 0; fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; NGINX_PID=""
  return 1
}
EP=""
if have nginx; then
  for _ in 1 2 3; do
    port=$(free_port) || break
    if start_nginx "$port"; then EP="http://127.0.0.1:$port"; break; fi
  done
fi
if [ -z "$EP" ]; then
  for k in decline-5.4 decline-luajit decline-boto3 http-floor-signed curl-cli cli-invite-5.4 cli-invite-luajit \
           cli-aws calls2000-5.4 calls2000-luajit calls2000-boto3; do skip "$k" "nginx could not be started"; done
else
  info nginx_note "$(nginx -v 2>&1 | sed 's/^nginx version: //'), master_process off, 1 worker, pid $NGINX_PID, $EP"
  say "loopback decline ($EP)"
  # the bare libcurl loop sends the headers of a real invite-signed request, byte sizes included
  hdrs=()
  while IFS= read -r h; do hdrs+=(-H "$h"); done < <(lua5.4 bench/decline.lua headers "$EP" 2>>"$LOG")
  if [ ${#hdrs[@]} -lt 10 ]; then
    DEAD[http-floor-signed]=1; skip http-floor-signed "could not get invite's request headers (see $LOG)"
  fi

  # curl --aws-sigv4: N requests in one process through a config file (`next` between them)
  if have curl; then
    mkcfg() { # N FILE [write-out]
      local n="$1" f="$2" wo="${3:-}" i
      : >"$f"
      for ((i = 1; i <= n; i++)); do
        {
          echo "url = \"$EP/invitation/decline\""
          echo 'aws-sigv4 = "aws:amz:us-east-1:guardduty"'
          echo "user = \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\""
          echo 'header = "Content-Type: application/json"'
          echo 'data = "{\"accountIds\":[\"111122223333\"]}"'
          echo 'output = "/dev/null"'
          [ -n "$wo" ] && echo "write-out = \"$wo\""
          [ "$i" -lt "$n" ] && echo next
        } >>"$f"
      done
      chmod 600 "$f"
    }
    mkcfg "$CURL_N" "$TMP/curl-n.cfg"
    mkcfg 1 "$TMP/curl-1.cfg"
    mkcfg "$CURL_N" "$TMP/curl-check.cfg" '%{http_code} %{num_connects}\n'
    check=$(curl -s -K "$TMP/curl-check.cfg" 2>>"$LOG")
    ok200=$(printf '%s\n' "$check" | grep -c '^200 ')
    conns=$(printf '%s\n' "$check" | awk '{s += $2} END {print s + 0}')
    info curl_reuse "$ok200 of $CURL_N responses were 200, over $conns new connection(s)"
    info curl_n "$CURL_N"
    if [ "$ok200" != "$CURL_N" ]; then
      DEAD[curl-cli]=1
      skip curl-cli "curl --aws-sigv4 check failed: $ok200 of $CURL_N responses were 200"
    fi
  else
    DEAD[curl-cli]=1
    skip curl-cli "curl not installed"
  fi
  [ "$HAVE_BOTO3" = 1 ] || skip decline-boto3 "python3-boto3 not importable by /usr/bin/python3"

  # interleaved rounds: one process per client per round, the clients in turn
  for ((r = 1; r <= DECL_R; r++)); do
    say "loopback decline, round $r of $DECL_R"
    rcollect decline-5.4 lua5.4 bench/decline.lua time "$EP" 1 "$DECL_N"
    rcollect decline-luajit luajit bench/decline.lua time "$EP" 1 "$DECL_N"
    [ "$HAVE_BOTO3" = 1 ] && rcollect decline-boto3 /usr/bin/python3 bench/decline_boto3.py time "$EP" 1 "$BOTO_DECL_N"
    rcollect http-floor-signed bash -o pipefail -c 'build/bench/http_floor post "$@" | sed -E "s/^floor http /result http-floor-signed /"' \
      sh "$EP/invitation/decline" "$DECL_N" '{"accountIds":["111122223333"]}' -r 1 "${hdrs[@]}"
    rcollect curl-cli "$SPAWN" -n 1 -k curl-cli-ms -- curl -s -K "$TMP/curl-n.cfg" &&
      rcollect curl-cli-1 "$SPAWN" -n 1 -k curl-cli-1 -- curl -s -K "$TMP/curl-1.cfg"
  done
  # curl: per request = wall ms of the N-request process / N, in us (one line per round)
  grep '^result curl-cli-ms ' "$RAW" | awk -v n="$CURL_N" '{
      printf "result curl-cli"; for (i = 3; i <= NF; i++) { split($i, kv, "=");
        if (kv[1] == "min" || kv[1] == "median" || kv[1] == "max") printf " %s=%.1f", kv[1], kv[2] * 1000 / n;
        else if (kv[1] == "iterations") printf " iterations=%d", n; else printf " %s", $i }
      print "" }' >"$TMP/curl-per-request"
  cat "$TMP/curl-per-request" >>"$RAW"

  say "one-shot CLI"
  CLI_54=(lua5.4 bin/invite decline --service guardduty --region us-east-1 --endpoint-url "$EP" 111122223333)
  CLI_JIT=(luajit bin/invite decline --service guardduty --region us-east-1 --endpoint-url "$EP" 111122223333)
  CLI_AWS=(/usr/bin/aws guardduty decline-invitations --account-ids 111122223333 --endpoint-url "$EP" --region us-east-1)
  [ -x /usr/bin/aws ] || { DEAD[cli-aws]=1; skip cli-aws "/usr/bin/aws (Debian awscli) not installed"; }
  interleave "$CLI_R" cli-invite-5.4 CLI_54 cli-invite-luajit CLI_JIT cli-aws CLI_AWS

  say "peak RSS over 2000 decline calls"
  peak_rss calls2000-5.4 lua5.4 bench/decline.lua rss "$EP" 2000
  peak_rss calls2000-luajit luajit bench/decline.lua rss "$EP" 2000
  if /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
    peak_rss calls2000-boto3 /usr/bin/python3 bench/decline_boto3.py rss "$EP" 2000
  else
    skip calls2000-boto3 "python3-boto3 not importable"
  fi
  kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; NGINX_PID=""
fi

# ---------------------------------------------------------------------------------------------
say "startup"
LP='package.path = "lua/?.lua;lua/?/init.lua;" .. package.path'
CP54='package.cpath = "build/5.4/?.so;" .. package.cpath'
CPJIT='package.cpath = "build/luajit/?.so;" .. package.cpath'
CLIENT='require("invite").guardduty.client{ region = "us-east-1" }'
S54_EMPTY=(lua5.4 -e '')
S54_REQUIRE=(lua5.4 -e "$LP $CP54" -e 'require "invite"')
S54_CLIENT=(lua5.4 -e "$LP $CP54" -e "assert($CLIENT)")
SJIT_EMPTY=(luajit -e '')
SJIT_REQUIRE=(luajit -e "$LP $CPJIT" -e 'require "invite"')
SJIT_CLIENT=(luajit -e "$LP $CPJIT" -e "assert($CLIENT)")
SPY_EMPTY=(/usr/bin/python3 -c pass)
SPY_BOTO3=(/usr/bin/python3 -c 'import boto3')
SPY_CLIENT=(/usr/bin/python3 -c 'import boto3; boto3.client("guardduty", region_name="us-east-1")')
interleave "$START_R" start-5.4-empty S54_EMPTY start-5.4-require S54_REQUIRE start-5.4-client S54_CLIENT \
  start-luajit-empty SJIT_EMPTY start-luajit-require SJIT_REQUIRE start-luajit-client SJIT_CLIENT
if [ "$HAVE_BOTO3" = 1 ]; then
  interleave "$PY_START_R" start-python-empty SPY_EMPTY start-python-boto3 SPY_BOTO3 start-python-client SPY_CLIENT
  collect require-boto3 /usr/bin/python3 bench/require_boto3.py "$PY_START_R"
else
  interleave "$PY_START_R" start-python-empty SPY_EMPTY
  for k in start-python-boto3 start-python-client require-boto3; do
    DEAD[$k]=1; skip "$k" "python3-boto3 not importable"
  done
fi
collect require-5.4 lua5.4 bench/require.lua "$START_R"
collect require-luajit luajit bench/require.lua "$START_R"
say "peak RSS at startup"
for p in start-5.4-empty:S54_EMPTY start-5.4-require:S54_REQUIRE start-5.4-client:S54_CLIENT \
         start-luajit-empty:SJIT_EMPTY start-luajit-require:SJIT_REQUIRE start-luajit-client:SJIT_CLIENT \
         start-python-empty:SPY_EMPTY start-python-boto3:SPY_BOTO3 start-python-client:SPY_CLIENT; do
  [ -n "${DEAD[${p%%:*}]:-}" ] && continue
  declare -n cmd="${p#*:}"
  peak_rss "${p%%:*}" "${cmd[@]}"
  unset -n cmd
done
peak_rss core-5.4 lua5.4 -e "$CP54" -e 'require "invite.core"'

# ---------------------------------------------------------------------------------------------
say "51-scope sweep against the simulator (latency=50)"
collect sweep-5.4 lua5.4 bench/sweep.lua "$SWEEP_R" 51,32
collect sweep-5.4-seq lua5.4 bench/sweep.lua "$SWEEP_SEQ_R" 1
collect sweep-luajit luajit bench/sweep.lua "$SWEEP_R" 51,32
if [ "$MODE" = full ]; then
  collect sweep-luajit-seq luajit bench/sweep.lua "$SWEEP_SEQ_R" 1
else
  skip sweep-luajit-c1 "quick mode"
fi
read -r SERVICES REGIONS FAULTS SIM_AK SIM_SK < <(lua5.4 bench/sweep.lua --args)
lua5.4 bin/invite sim --fixtures examples/fixtures/org.json --port 0 --faults "$FAULTS" >"$TMP/sim.out" 2>>"$LOG" &
SIM_PID=$!
SIM_EP=""
for ((i = 0; i < 50; i++)); do
  SIM_EP=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$TMP/sim.out" | head -n 1)
  [ -n "$SIM_EP" ] && break
  kill -0 "$SIM_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$SIM_EP" ]; then
  for c in 51 8 1; do
    n=$LIST_R; [ "$c" = 1 ] && n=$LIST_SEQ_R
    AWS_ACCESS_KEY_ID=$SIM_AK AWS_SECRET_ACCESS_KEY=$SIM_SK collect "sweep-cli-c$c" "$SPAWN" -n "$n" \
      -k "sweep-cli-c$c" -- lua5.4 bin/invite list --services "$SERVICES" --regions "$REGIONS" \
      --endpoint-url "$SIM_EP" --concurrency "$c" --quiet
  done
else
  for c in 51 8 1; do skip "sweep-cli-c$c" "the simulator did not start"; done
fi
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""

# ---------------------------------------------------------------------------------------------
say "six-kind inventory against the simulator (latency=50)"
collect inventory-5.4 lua5.4 bench/inventory.lua "$INV_R" "$INV_SEQ_R" six,three,boto3
if [ "$MODE" = full ]; then
  collect inventory-luajit luajit bench/inventory.lua "$INV_R" "$INV_SEQ_R" six,three
else
  skip inventory-luajit "quick mode"
  skip inventory-c1 "quick mode (the one-at-a-time sweeps: invite.run at concurrency 1, boto3's loop)"
fi

# ---------------------------------------------------------------------------------------------
info load_end "$(cut -d' ' -f1-3 /proc/loadavg) (when the run ended, $(( $(date +%s) - T0 )) s later)"
mkdir -p "$(dirname "$OUT")"
if lua5.4 bench/report.lua "$RAW" >"$OUT.tmp"; then
  mv "$OUT.tmp" "$OUT"
  say "wrote $OUT in $(( $(date +%s) - T0 )) s (raw lines: $RAW, log: $LOG)"
else
  rm -f "$OUT.tmp"
  echo "bench/run.sh: bench/report.lua failed" >&2
  exit 1
fi
if grep -q '^skip ' "$RAW"; then
  say "skipped: $(grep '^skip ' "$RAW" | cut -d' ' -f2 | tr '\n' ' ')"
fi
