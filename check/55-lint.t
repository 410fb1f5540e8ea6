# Static checks as TAP: luacheck over every Lua file (.luacheckrc), cppcheck over src/*.c
# (tools/cppcheck.sh), and proof that each check fails on a file with a known defect.
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..4"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$tmp/out"; }

if luacheck --no-color --formatter=plain . >"$tmp/out" 2>&1; then ok "luacheck: no warnings in lua/ spec/ bin/ bench/ examples/ tools/"
else notok "luacheck: no warnings in lua/ spec/ bin/ bench/ examples/ tools/"; fi

# A global write and an unused local in a module must be reported, with the config in force
# (fed on stdin under a lua/ name, so nothing is written into the tree).
if ! printf 'local unused = 1\nleaked = 2\nreturn {}\n' \
     | luacheck --no-color --formatter=plain --filename lua/invite/zz_lint_probe.lua - >"$tmp/out" 2>&1 \
   && grep -q "unused variable 'unused'" "$tmp/out" && grep -q "setting non-standard global variable 'leaked'" "$tmp/out"; then
  ok "luacheck fails on a file with an unused local and a global write"
else notok "luacheck fails on a file with an unused local and a global write"; fi

if bash tools/cppcheck.sh >"$tmp/out" 2>&1; then ok "cppcheck: src/*.c clean against Lua 5.4, 5.1 and LuaJIT headers"
else notok "cppcheck: src/*.c clean against Lua 5.4, 5.1 and LuaJIT headers"; fi

printf '#include "lua.h"\nint f(void) { int a[2]; int i; for (i = 0; i <= 2; i++) a[i] = i; return a[0]; }\n' >"$tmp/bad.c"
if ! bash tools/cppcheck.sh "$tmp/bad.c" >"$tmp/out" 2>&1 && grep -q arrayIndexOutOfBounds "$tmp/out"; then
  ok "cppcheck fails on an out-of-bounds write"
else notok "cppcheck fails on an out-of-bounds write"; fi
