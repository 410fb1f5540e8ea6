-- support.botocore: botocore's models and code as the Pythons here have them (`python3`, and
-- Debian's /usr/bin/python3 with botocore 1.29), for the specs that hold invite's declarations and
-- wire forms to botocore's.
--
--   local botocore = require "support.botocore"
--   botocore.PYTHONS                              -- { "python3", "/usr/bin/python3" }
--   botocore.json(python, code, stdin)            -- runs a Python script: its output decoded as JSON (a table), or nil
--   botocore.first(code, stdin, pythons)          -- the first Python (of PYTHONS) that answers: result, python | nil
--   botocore.dir(python)                         -- that Python's botocore package directory (data/ below it) | nil
--   botocore.version_number("1.43.11")            -- 1043011, so that versions compare as numbers
--   botocore.model("ec2"[, "DescribeRegions"])    -- the newest botocore's (that has the operation):
--     -- { version, python, model (service-2, documentation dropped), paginators (by operation name),
--     --   endpoints (partition -> endpoints.json's entry for the endpoint prefix) } | nil; cached
--   botocore.compare(where, declared, shapes, shape, input, checks[, struct])  -- a declaration's members
--     -- against a shape (struct: the structure's declaration, whose `recursion` names members left off)
--   botocore.operation(b, op, checks)             -- an operation's method, URI, input and output against b.model
local cjson = require "cjson"
local interp = require "support.interp"
local assert = require "luassert" -- busted's, with its assertions

local _M = {}

_M.PYTHONS = { "python3", "/usr/bin/python3" }

local function tmpfile(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

--- Runs `code` under `python` with `stdin`; its standard output decoded as JSON when that is a table,
-- else nil (no such Python, no botocore, a failure).
function _M.json(python, code, stdin)
  if not interp.have(python) then return nil end
  local script, input = tmpfile(code), tmpfile(stdin or "")
  local p = io.popen("env -u LD_PRELOAD " .. python .. " " .. script .. " < " .. input .. " 2>/dev/null")
  local out = p and p:read("*a") or ""
  if p then p:close() end
  os.remove(script)
  os.remove(input)
  local ok, v = pcall(cjson.decode, out)
  if ok and type(v) == "table" then return v end
  return nil
end

--- The answer of the first Python (of `pythons`, else PYTHONS) that gives one, and that Python.
function _M.first(code, stdin, pythons)
  for _, python in ipairs(pythons or _M.PYTHONS) do
    local v = _M.json(python, code, stdin)
    if v then return v, python end
  end
  return nil
end

--- The directory of `python`'s botocore package, or nil.
function _M.dir(python)
  local got = _M.json(python, "import json, os, botocore; print(json.dumps([os.path.dirname(botocore.__file__)]))")
  return got and got[1]
end

function _M.version_number(v)
  local a, b, c = tostring(v):match("^(%d+)%.(%d+)%.(%d+)")
  return a and (tonumber(a) * 1e6 + tonumber(b) * 1e3 + tonumber(c)) or 0
end

local PY_MODEL = [=[
import json, sys, botocore, botocore.session
name = sys.stdin.read().strip()
s = botocore.session.get_session()
def strip(d):
    if isinstance(d, dict): return {k: strip(v) for k, v in d.items() if k != "documentation"}
    if isinstance(d, list): return [strip(x) for x in d]
    return d
m = s.get_service_model(name)
try:
    pag = s.get_paginator_model(name)._paginator_config
except Exception:
    pag = {}
prefix = m.metadata["endpointPrefix"]
eps = {p["partition"]: p["services"].get(prefix) for p in s.get_data("endpoints")["partitions"]}
print(json.dumps({"version": botocore.__version__, "model": strip(m._service_description), "paginators": pag,
                  "endpoints": eps}))
]=]

local versions -- { { python, version number } }, the newest botocore first

local function by_version()
  if versions then return versions end
  versions = {}
  for _, python in ipairs(_M.PYTHONS) do
    local got = _M.json(python, "import json, botocore; print(json.dumps([botocore.__version__]))")
    if got then versions[#versions + 1] = { python, _M.version_number(got[1]) } end
  end
  table.sort(versions, function(a, b) return a[2] > b[2] end)
  return versions
end

local models = {}

--- `service`'s model from the newest botocore among PYTHONS (the newest that has `operation`, when
-- given): { version, python, model, paginators, endpoints }, or nil when none has it.
function _M.model(service, operation)
  local key = service .. " " .. (operation or "")
  if models[key] ~= nil then return models[key] or nil end
  models[key] = false
  for _, v in ipairs(by_version()) do
    local got = _M.json(v[1], PY_MODEL, service)
    if got and (not operation or got.model.operations[operation]) then
      got.python = v[1]
      models[key] = got
      break
    end
  end
  return models[key] or nil
end

--- Compares the declared members (invite's { name, wire, type, required, min, max, members, member })
-- with botocore's structure `shape`, nested structures and lists included: the same member names,
-- each one's wire name and type, a list item's type; for an input (`input` true) also required, min
-- and max. `checks` adds a spec's own: checks.member(where, m, s, input) for each member (m declared,
-- s its shape), checks.item(where, item, ms, ref, input) for each list's item (ref = the list's member).
--
-- A recursive shape (Organizations' HandshakeResource holds a list of HandshakeResource) is declared
-- to a fixed depth: the deepest structure lists in `recursion` the members it leaves off, and each
-- must be the shape's own recursion (a list of that very shape); pass that structure's
-- declaration as `struct`.
function _M.compare(where, declared, shapes, shape, input, checks, struct)
  checks = checks or {}
  local names, want = {}, {}
  local cut = {}
  for _, name in ipairs(struct and struct.recursion or {}) do
    local ref = shape.members and shape.members[name]
    assert.is_table(ref, where .. "." .. name .. ": left off but not in the model")
    local ls = shapes[ref.shape]
    assert.is_true(ls.type == "list" and shapes[ls.member.shape] == shape,
      where .. "." .. name .. ": left off, but it is not the shape's own recursion")
    cut[name] = true
  end
  for _, m in ipairs(declared) do names[#names + 1] = m.name end
  for k in pairs(shape.members or {}) do
    if not cut[k] then want[#want + 1] = k end
  end
  table.sort(names)
  table.sort(want)
  assert.same(want, names, where .. ": members")
  local required = {}
  for _, r in ipairs(shape.required or {}) do required[r] = true end
  for _, m in ipairs(declared) do
    local ref = shape.members[m.name]
    local s = shapes[ref.shape]
    local w = where .. "." .. m.name
    assert.equal(ref.locationName or m.name, m.wire, w .. ": wire name")
    assert.equal(s.type, m.type, w .. ": type")
    if input then
      assert.equal(required[m.name] == true, m.required == true, w .. ": required")
      assert.equal(s.min, m.min, w .. ": min")
      assert.equal(s.max, m.max, w .. ": max")
    end
    if checks.member then checks.member(w, m, s, input) end
    if s.type == "structure" then _M.compare(w, m.members, shapes, s, input, checks, m) end
    if s.type == "list" then
      local ms = shapes[s.member.shape]
      assert.equal(ms.type, m.member.type, w .. "[]: type")
      if checks.item then checks.item(w .. "[]", m.member, ms, s.member, input) end
      if ms.type == "structure" then _M.compare(w .. "[]", m.member.members, shapes, ms, input, checks, m.member) end
    end
  end
end

--- The operation `op` (of invite.model's service view) against `b` (botocore.model's): it exists,
-- has the model's HTTP method and request URI, and its input (none: no members) and output members
-- compare (botocore.compare with `checks`). Returns botocore's operation.
function _M.operation(b, op, checks)
  local mop = b.model.operations[op.name]
  assert.is_table(mop, op.name .. " in botocore " .. b.version)
  assert.same({ mop.http.method, mop.http.requestUri }, { op.method, op.uri }, op.name)
  local shapes = b.model.shapes
  local input = mop.input and shapes[mop.input.shape] or { members = {} }
  _M.compare(op.name .. " input (botocore " .. b.version .. ")", op.input, shapes, input, true, checks)
  _M.compare(op.name .. " output", op.output, shapes, shapes[mop.output.shape], false, checks)
  return mop
end

return _M
