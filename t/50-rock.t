# The rock for every Lua: luarocks lint, then for each of 5.1, 5.2, 5.3 and 5.4 an offline
# `luarocks --lua-version X make` of invite-scm-1.rockspec into one scratch tree (the rockspec's make
# build: the Makefile's rock-core target compiles invite.core into build/rock/), and the installed rock
# loaded and signing the get-vanilla vector under lua5.X (and under luajit from the 5.1 tree, which
# LuaJIT shares). Last, the builds must have left no untracked or ignored file outside build/ (no
# invite/core.so in the checkout root, where package.cpath's ./?.so finds it; no src/*.o).
export LUAROCKS_CONFIG="$PWD/luarocks-config.lua"
VERSIONS="5.1 5.2 5.3 5.4"
tree=$(mktemp -d)
stamp=$(mktemp)
trap 'rm -rf "$tree" "$stamp"' EXIT

# Untracked and ignored files outside build/, one per line (individual files, not collapsed dirs).
outputs() {
  git status --porcelain --ignored --untracked-files=all | grep -E '^(\?\?|!!) ' | grep -vE '^.. build/' | sort
}
before=$(outputs)
touch "$stamp"

echo "1..11"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; if [ -n "$2" ]; then printf '%s\n' "$2" | sed 's/^/# /'; fi; }

out=""; rc=0
for r in invite-scm-1.rockspec invite-0.1.0-1.rockspec; do
  o=$(luarocks --lua-version 5.4 lint "$r" 2>&1) || { rc=1; out="$out$r: $o"$'\n'; }
done
if [ $rc = 0 ]; then ok "luarocks lint (both rockspecs)"; else not_ok "luarocks lint" "$out"; fi

# sign.lua: the get-vanilla vector of the AWS SigV4 test suite through the installed rock only
# (package.path/cpath name the tree alone, and it runs outside the checkout).
sign_lua="local s = require('invite.sigv4').sign{method='GET', path='/', headers={{'Host','example.amazonaws.com'}},
  access_key='AKIDEXAMPLE', secret_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region='us-east-1',
  service='service', time=1440938160}
assert(s.signature == '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31', s.signature)"

load_test() { # lua-command lua-version
  local lv="$2" out
  if out=$(cd "$tree" && "$1" -e "package.path='$tree/share/lua/$lv/?.lua;$tree/share/lua/$lv/?/init.lua'
      package.cpath='$tree/lib/lua/$lv/?.so'
      $sign_lua" 2>&1); then
    ok "$1: installed rock (lib/lua/$lv) loads and signs get-vanilla"
  else
    not_ok "$1: installed rock (lib/lua/$lv) loads and signs get-vanilla" "$out"
  fi
}

for v in $VERSIONS; do
  t0=$(date +%s.%N)
  if out=$(luarocks --lua-version "$v" make --tree="$tree" invite-scm-1.rockspec 2>&1) \
     && [ -f "$tree/lib/lua/$v/invite/core.so" ] && [ -f "$tree/share/lua/$v/invite/native.lua" ] \
     && [ -x "$tree/bin/invite" ]; then
    ok "luarocks --lua-version $v make (offline) installs invite.core, the modules and the CLI"
  else
    not_ok "luarocks --lua-version $v make (offline)" "$out"
  fi
  echo "# luarocks --lua-version $v make: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
  load_test "lua$v" "$v"
  if [ "$v" = 5.1 ]; then load_test luajit 5.1; fi
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
