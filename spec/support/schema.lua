-- support.schema: the CLI's JSON output checked against docs/schema/invite-report-1.json (JSON
-- Schema draft 2020-12) by python3's jsonschema (there is no Lua validator in Debian): the first
-- of `python3` and /usr/bin/python3 that imports it (Debian: python3-jsonschema, in the
-- Makefile's DEB_PKGS).
--
--   local schema = require "support.schema"
--   local doc = schema.valid(out)                       -- one document: decoded, or an error naming the problems
--   schema.valid(out, { mode = "jsonl", def = "invitation" })  -- each line an invitation
--   local ok, problems = schema.check(text [, opts])    -- without raising
local cjson = require "cjson"

local _M = {}

local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/support/[^/]+$")) or "."
_M.SCHEMA = root .. "/docs/schema/invite-report-1.json"
local CHECKER = root .. "/spec/support/schema_check.py"

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.-)rc=(%d+)%s*$")
  return tonumber(rc), body or out
end

local python
--- The python3 that has jsonschema (found once), or raises saying what to install.
function _M.python()
  if python then return python end
  for _, py in ipairs{ "python3", "/usr/bin/python3" } do
    if run(py .. " -c 'import jsonschema'") == 0 then
      python = py
      return py
    end
  end
  error("support.schema: no python3 with jsonschema (apt-get install python3-jsonschema)", 2)
end

--- Whether `text` is valid: true, or false and the problems (one per line, with their paths).
-- @tparam string text
-- @tparam[opt] table opts `mode` ("json", the default, or "jsonl") and `def` (a name under
--   $defs: "invitation", "count_row", "error", ...)
function _M.check(text, opts)
  opts = opts or {}
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(text)
  f:close()
  local rc, out = run(_M.python() .. " " .. shell_quote(CHECKER) .. " " .. shell_quote(_M.SCHEMA) .. " "
    .. shell_quote(tmp) .. " " .. (opts.mode or "json") .. " " .. shell_quote(opts.def or ""))
  os.remove(tmp)
  if rc == 0 then return true end
  return false, out
end

--- Asserts `text` is valid (the error names each problem and shows the text's start) and returns
-- it decoded (for "json"; a list of the lines decoded for "jsonl").
function _M.valid(text, opts)
  local ok, problems = _M.check(text, opts)
  if not ok then
    error("output does not match " .. _M.SCHEMA .. ":\n" .. tostring(problems) .. "\noutput: "
      .. tostring(text):sub(1, 600), 2)
  end
  if opts and opts.mode == "jsonl" then
    local lines = {}
    for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = cjson.decode(line) end
    return lines
  end
  return cjson.decode(text)
end

return _M
