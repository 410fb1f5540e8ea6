# Documentation as TAP: every public function documented (tools/check_docs.lua, shown to fail on
# bad files), the LDoc API reference builds without a warning and covers every module and every
# service operation, and docs/invite.1 is exactly what the CLI's argparse definitions give (shown to
# fail on a drifted copy and on a flag without an example), renders with man, and names every flag
# that `invite <command> --help` shows.
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..10"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$tmp/out"; }
check() { local what=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$what"; else notok "$what"; fi; }

# 1. the real modules
check "check_docs: every public definition of the API-reference modules has a --- block" \
  lua5.4 tools/check_docs.lua

# 2-3. a bad file: each kind of miss is named; the same file documented passes
cat >"$tmp/bad.lua" <<'LUA'
local _M = {}
function _M.undocumented_function() end
-- a plain comment is not a doc comment
_M.undocumented_field = 1
-- a plain line right above a doc line makes the whole run plain (LDoc reads it so)
--- looks documented
function _M.plain_run() end
local Thing = {}
function Thing:undocumented_method() end
local lazy = {
  undocumented_entry = 1,
  --- documented entry
  fine = 2,
}
local function helper() end
function _M._private() end
--- documented
function _M.documented() return helper, Thing, lazy end
return _M
LUA
lua5.4 tools/check_docs.lua --tables lazy "$tmp/bad.lua" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "bad.lua:2: function _M.undocumented_function" "$tmp/out" \
   && grep -q "bad.lua:4: _M.undocumented_field" "$tmp/out" && grep -q "bad.lua:7: function _M.plain_run" "$tmp/out" \
   && grep -q "bad.lua:9: function Thing:undocumented_method" "$tmp/out" \
   && grep -q "bad.lua:11: lazy entry 'undocumented_entry'" "$tmp/out" \
   && grep -q "5 of 7 public definitions" "$tmp/out" && ! grep -q "documented()\|_private\|helper\|'fine'" "$tmp/out"; then
  ok "check_docs fails on a file with undocumented functions, fields, methods and table entries, naming each"
else notok "check_docs fails on a file with undocumented functions, fields, methods and table entries, naming each"; fi
sed -e 's/^function _M.undocumented_function/--- now documented\nfunction _M.undocumented_function/' \
    -e 's/^-- a plain comment is not a doc comment/--- a doc comment/' \
    -e 's/^-- a plain line right above a doc line.*$//' \
    -e 's/^function Thing:undocumented_method/--- documented\nfunction Thing:undocumented_method/' \
    -e 's/^  undocumented_entry = 1,/  --- documented\n  undocumented_entry = 1,/' "$tmp/bad.lua" >"$tmp/good.lua"
check "check_docs passes once the same file is documented" lua5.4 tools/check_docs.lua --tables lazy "$tmp/good.lua"

# 4-5. the API reference
if bash tools/docs.sh "$tmp/api" >"$tmp/out" 2>&1; then
  ok "tools/docs.sh builds the LDoc reference with no warning"
else notok "tools/docs.sh builds the LDoc reference with no warning"; fi
if lua5.4 - "$tmp/api" >"$tmp/out" 2>&1 <<'LUA'
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local dir = arg[1]
local function page(m)
  local f = io.open(dir .. "/modules/" .. m .. ".html")
  if not f then error("no page for " .. m) end
  local s = f:read("a"); f:close(); return s
end
for _, m in ipairs{ "invite", "invite.sigv4", "invite.client", "invite.runner", "invite.sim" } do page(m) end
local n = 0
for _, svc in ipairs{ "macie2", "securityhub", "guardduty" } do
  local html = page("invite." .. svc)
  local mod = require("invite").service_module(svc)
  for k, v in pairs(mod) do
    if type(v) == "function" then
      n = n + 1
      assert(html:find('name = "' .. k .. '"', 1, true), "invite." .. svc .. "." .. k .. " missing from its page")
    end
  end
  for _, op in ipairs(mod.operations) do
    local def = require("invite.model").service(svc).ops[op]
    -- this operation's entry: from its anchor to the next one
    local a = html:find('name = "' .. op .. '"', 1, true)
    local b = html:find('<dt>', a, true) or #html
    local entry = html:sub(a, b)
    assert(entry:find("<code>" .. def.name .. "</code>", 1, true), svc .. "." .. op .. " lacks the API name " .. def.name)
    for _, m in ipairs(def.input or {}) do
      assert(entry:find('<span class="parameter">' .. m.name .. "</span>", 1, true),
        svc .. "." .. op .. ": parameter " .. m.name .. " missing")
    end
    for _, m in ipairs(def.output or {}) do
      assert(entry:find("<code>" .. m.name .. "</code>", 1, true), svc .. "." .. op .. ": response field "
        .. m.name .. " missing")
    end
  end
end
local sim = page("invite.sim")
for _, f in ipairs{ "new", "Sim:listen", "Sim:run", "Sim:url", "Sim:handle", "Sim:stop" } do
  assert(sim:find('name = "' .. f .. '"', 1, true), "invite.sim: " .. f .. " missing")
end
print(n .. " service functions checked")
LUA
then ok "every module has a page; every function of each service module, every API name and parameter is on it"
else notok "every module has a page; every function of each service module, every API name and parameter is on it"; fi

# 6-8. the manual page
check "docs/invite.1 is what tools/manpage.lua makes from the argparse definitions" \
  lua5.4 tools/manpage.lua --check docs/invite.1
sed 's/Print the version and exit/Print the version/' docs/invite.1 >"$tmp/drift.1"
if ! lua5.4 tools/manpage.lua --check "$tmp/drift.1" >"$tmp/out" 2>&1 && grep -q "regenerate it" "$tmp/out"; then
  ok "a man page that differs from the CLI's definitions is refused"
else notok "a man page that differs from the CLI's definitions is refused"; fi
if ! lua5.4 -e '
  package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
  local cli = require "invite.cli"
  local parser = cli.parser
  cli.parser = function() local p = parser(); p:option("--no-example", "A flag with no example."); return p end
' tools/manpage.lua >/dev/null 2>"$tmp/out" && grep -q 'no "Example:" in the help of: invite --no-example' "$tmp/out"; then
  ok "tools/manpage.lua refuses a flag whose help has no example"
else notok "tools/manpage.lua refuses a flag whose help has no example"; fi

# 9. man renders it, groff has no warning
if MANWIDTH=100 man -l docs/invite.1 >"$tmp/man.txt" 2>"$tmp/out" && [ ! -s "$tmp/out" ] \
   && groff -man -ww -z docs/invite.1 >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ] \
   && grep -q "^NAME" "$tmp/man.txt" && grep -q "invite sim" "$tmp/man.txt"; then
  ok "man -l docs/invite.1 renders (no groff warning)"
else notok "man -l docs/invite.1 renders (no groff warning)"; fi

# 10. every flag of every command's --help is in the page, with its example
fails=0 seen=0
: >"$tmp/out"
for cmd in "" plan apply list count decline delete audit sim; do
  help=$(env -u LD_PRELOAD lua5.4 bin/invite $cmd --help 2>&1)
  for flag in $(printf '%s\n' "$help" | grep -oE '^   (-h, )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u); do
    seen=$((seen + 1))
    if ! grep -qF -- "$flag" "$tmp/man.txt"; then echo "invite $cmd: $flag not in the man page" >>"$tmp/out"; fails=1; fi
  done
  nopt=$(printf '%s\n' "$help" | grep -cE '^   --[a-z]')
  nex=$(printf '%s\n' "$help" | grep -cE '^ +Example: ')
  if [ "$nex" -lt "$nopt" ]; then echo "invite $cmd --help: $nopt flags, $nex examples" >>"$tmp/out"; fails=1; fi
done
# 7 commands and the root: well over 40 flags, so a help format this loop misreads fails too
if [ "$seen" -lt 40 ]; then echo "only $seen flags found in the --help outputs" >>"$tmp/out"; fails=1; fi
if [ $fails -eq 0 ]; then ok "every flag shown by invite [<command>] --help has an example and is in the man page"
else notok "every flag shown by invite [<command>] --help has an example and is in the man page"; fi
