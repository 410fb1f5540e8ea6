# The rocks for every Lua: luarocks lint of the four rockspecs, then for each of 5.1, 5.2, 5.3 and 5.4
# a scratch tree of its own and, offline, `luarocks --lua-version X make` of invite-scm-1.rockspec (the
# library: the Makefile's rock-core target compiles invite.core into build/rock/, rock-install copies
# the Lua modules but the simulator's), the installed rock loaded and signing the get-vanilla vector
# under lua5.X (and under luajit from the 5.1 tree, which LuaJIT shares), the tree's `invite sim`
# refused with exit 2 and the words to install invite-sim; then make of invite-sim-scm-1.rockspec
# into the same tree (its dependency invite is the rock just installed there), after which the tree's
# `invite sim --help` works and `invite sim` serves (its /__sim/health answers). The invite rock also
# installs, in its own directory of the tree, the manual page, the example policies, the scheduler
# examples and the demo fixture, and the tree's `invite sim --example`, run outside the checkout,
# serves that fixture (the example organisation's "prod" keys are accepted). Last, the builds must
# have left no untracked or ignored file outside build/ (no invite/core.so in the checkout root, where
# package.cpath's ./?.so finds it; no src/*.o).
export LUAROCKS_CONFIG="$PWD/luarocks-config.lua"
VERSIONS="5.1 5.2 5.3 5.4"
trees=$(mktemp -d)
stamp=$(mktemp)
sim_pid=""
trap 'if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null; fi; rm -rf "$trees" "$stamp"' EXIT

# Untracked and ignored files outside build/, one per line (individual files, not collapsed dirs).
outputs() {
  git status --porcelain --ignored --untracked-files=all | grep -E '^(\?\?|!!) ' | grep -vE '^.. build/' | sort
}
before=$(outputs)
touch "$stamp"

echo "1..35"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; if [ -n "$2" ]; then printf '%s\n' "$2" | sed 's/^/# /'; fi; }

out=""; rc=0
for r in invite-scm-1.rockspec invite-0.1.0-1.rockspec invite-sim-scm-1.rockspec invite-sim-0.1.0-1.rockspec; do
  o=$(luarocks --lua-version 5.4 lint "$r" 2>&1) || { rc=1; out="$out$r: $o"$'\n'; }
done
if [ $rc = 0 ]; then ok "luarocks lint (the four rockspecs)"; else not_ok "luarocks lint" "$out"; fi

# sign.lua: the get-vanilla vector of the AWS SigV4 test suite through the installed rock only
# (package.path/cpath name the tree alone, and it runs outside the checkout).
sign_lua="local s = require('invite.sigv4').sign{method='GET', path='/', headers={{'Host','example.amazonaws.com'}},
  access_key='AKIDEXAMPLE', secret_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region='us-east-1',
  service='service', time=1440938160}
assert(s.signature == '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31', s.signature)"

load_test() { # lua-command lua-version
  local lv="$2" out tree="$trees/$2"
  if out=$(cd "$tree" && "$1" -e "package.path='$tree/share/lua/$lv/?.lua;$tree/share/lua/$lv/?/init.lua'
      package.cpath='$tree/lib/lua/$lv/?.so'
      $sign_lua" 2>&1); then
    ok "$1: installed rock (lib/lua/$lv) loads and signs get-vanilla"
  else
    not_ok "$1: installed rock (lib/lua/$lv) loads and signs get-vanilla" "$out"
  fi
}

took() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# `invite sim` of the tree serves: start it on a free port, read its "listening on" line, ask
# /__sim/health, stop it by its pid (the luarocks wrapper execs the interpreter).
sim_serves() { # tree lua-version
  local tree="$1" v="$2" out="$1/sim.out" url="" health=""
  (cd "$tree" && exec ./bin/invite sim --fixtures "$OLDPWD/examples/fixtures/org.json" --port 0 >"$out" 2>&1) &
  sim_pid=$!
  for _ in $(seq 100); do
    url=$(sed -n 's/^invite sim listening on \(http:[^ ]*\) (pid .*/\1/p' "$out")
    if [ -n "$url" ] || ! kill -0 "$sim_pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  if [ -n "$url" ]; then health=$(curl -s --max-time 5 "$url/__sim/health"); fi
  kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null; sim_pid=""
  if printf '%s' "$health" | grep -q '"ok":true'; then
    ok "lua$v: invite sim from the tree serves ($url/__sim/health: $health)"
  else
    not_ok "lua$v: invite sim from the tree serves" "$(cat "$out"; echo "health: $health")"
  fi
}

# `invite sim --example` of the tree, run in the tree (no checkout, no --fixtures): it says which
# fixture it serves (the invite rock's copy), and the tree's `invite whoami` with the example
# organisation's documented "prod" keys gets prod's account from it.
sim_example() { # tree lua-version
  local tree="$1" v="$2" out="$1/sim-example.out" err="$1/sim-example.err" url="" who="" rockdir
  rockdir="$tree/lib/luarocks/rocks-$v/invite/scm-1"
  (cd "$tree" && exec ./bin/invite sim --example --port 0 >"$out" 2>"$err") &
  sim_pid=$!
  for _ in $(seq 100); do
    url=$(sed -n 's/^invite sim listening on \(http:[^ ]*\) (pid .*/\1/p' "$out")
    if [ -n "$url" ] || ! kill -0 "$sim_pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  if [ -n "$url" ]; then
    who=$(cd "$tree" && env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
          AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIASIMPROD000000001 \
          AWS_SECRET_ACCESS_KEY=sim/prod/secret/1/FAKEFAKEFAKEFAKEFAKEFA ./bin/invite whoami --json --endpoint-url "$url" 2>&1)
  fi
  kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null; sim_pid=""
  if grep -qxF "invite sim: serving the example fixture $rockdir/examples/fixtures/org.json" "$err" \
     && printf '%s' "$who" | grep -q '"222222222222"'; then
    ok "lua$v: invite sim --example from the tree serves the rock's example fixture (whoami: prod)"
  else
    not_ok "lua$v: invite sim --example from the tree serves the rock's example fixture" \
      "$(cat "$out" "$err"; echo "whoami: $who")"
  fi
}

# The invite rock's own directory holds the manual page, the example policies, the scheduler examples
# and the demo fixture, each the checkout's file byte for byte.
rock_data() { # tree lua-version
  local rockdir="$1/lib/luarocks/rocks-$2/invite/scm-1" missing="" f
  for f in examples/*.lua examples/deploy/* examples/fixtures/org.json; do
    cmp -s "$f" "$rockdir/$f" || missing="$missing $rockdir/$f"
  done
  cmp -s docs/invite.1 "$rockdir/man/man1/invite.1" || missing="$missing $rockdir/man/man1/invite.1"
  if [ -z "$missing" ] && man -l "$rockdir/man/man1/invite.1" 2>/dev/null | grep -q 'invite sim'; then
    ok "lua$2: the rock installs the manual page, the example policies, examples/deploy/ and the fixture"
  else
    not_ok "lua$2: the rock installs the manual page, the examples and the fixture" "missing or different:$missing"
  fi
}

for v in $VERSIONS; do
  tree="$trees/$v"
  mkdir -p "$tree"
  t0=$(date +%s.%N)
  if out=$(luarocks --lua-version "$v" make --tree="$tree" invite-scm-1.rockspec 2>&1) \
     && [ -f "$tree/lib/lua/$v/invite/core.so" ] && [ -f "$tree/share/lua/$v/invite/native.lua" ] \
     && [ -f "$tree/share/lua/$v/invite/util.lua" ] && [ -x "$tree/bin/invite" ] \
     && [ ! -e "$tree/share/lua/$v/invite/sim" ] && [ ! -e "$tree/share/lua/$v/invite/cli/sim.lua" ]; then
    ok "luarocks --lua-version $v make (offline) installs invite.core, the modules but the simulator's, and the CLI"
  else
    not_ok "luarocks --lua-version $v make (offline)" "$out"
  fi
  echo "# luarocks --lua-version $v make invite-scm-1.rockspec: $(took "$t0") s"
  rock_data "$tree" "$v"
  load_test "lua$v" "$v"
  if [ "$v" = 5.1 ]; then load_test luajit 5.1; fi

  want="invite: \`invite sim\` needs the invite-sim rock, which is not installed beside invite: install it into the same tree (from a source checkout: luarocks make invite-sim-scm-1.rockspec)"
  rc=0; out=$(cd "$tree" && ./bin/invite sim --help 2>&1) || rc=$?
  if [ "$rc" = 2 ] && [ "$out" = "$want" ]; then
    ok "lua$v: the library's invite sim without invite-sim exits 2 and says to install invite-sim"
  else
    not_ok "lua$v: the library's invite sim without invite-sim exits 2 and says to install invite-sim" "rc=$rc: $out"
  fi

  t0=$(date +%s.%N)
  if out=$(luarocks --lua-version "$v" make --tree="$tree" invite-sim-scm-1.rockspec 2>&1) \
     && [ -f "$tree/share/lua/$v/invite/sim/init.lua" ] && [ -f "$tree/share/lua/$v/invite/cli/sim.lua" ] \
     && [ -f "$tree/share/lua/$v/invite/cli.lua" ]; then
    ok "luarocks --lua-version $v make invite-sim (offline, invite from the same tree) installs the simulator"
  else
    not_ok "luarocks --lua-version $v make invite-sim (offline)" "$out"
  fi
  echo "# luarocks --lua-version $v make invite-sim-scm-1.rockspec: $(took "$t0") s"

  rc=0; out=$(cd "$tree" && ./bin/invite sim --help 2>&1) || rc=$?
  if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q '^Usage: invite sim .*--fixtures <file>'; then
    ok "lua$v: invite sim --help from the tree with invite-sim"
  else
    not_ok "lua$v: invite sim --help from the tree with invite-sim" "rc=$rc: $out"
  fi
  sim_serves "$tree" "$v"
  sim_example "$tree" "$v"
done

# New untracked/ignored files outside build/, and ignored files outside build/ rewritten by the run
# (untracked sources may be someone's work in progress; build output is ignored by .gitignore).
new=$(comm -13 <(printf '%s\n' "$before") <(outputs) | sed '/^$/d')
rewritten=$(git ls-files --others --ignored --exclude-standard -z | xargs -0 -r find 2>/dev/null -maxdepth 0 -newer "$stamp" \
            | grep -v '^build/' | sed 's/^/rewritten: /')
stale=$(for f in invite/core.so src/*.o; do if [ -e "$f" ]; then echo "present: $f"; fi; done)
if [ -z "$new$rewritten$stale" ]; then
  ok "no build output outside build/ (no invite/core.so, no src/*.o)"
else
  not_ok "no build output outside build/" "$(printf '%s\n' "$new" "$rewritten" "$stale" | sed '/^$/d')"
fi
