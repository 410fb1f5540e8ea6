-- invite.validate - the first pipeline stage: check a call's parameters
-- against the operation's declaration before anything is built or sent.
--
-- Rules: parameters is a table (or nil); no unknown members (the error names
-- the closest valid one); required members present; strings are strings,
-- integers are integers in range, lists are non-empty arrays within their
-- bounds; structures are tables of their own members, required ones present;
-- account IDs are 12-digit strings; strings hold no NUL byte and are
-- valid UTF-8; a string member with `matches` (a Lua function standing in
-- for the model's `pattern`, described by `rule`) must satisfy it. Every
-- problem is reported, each naming the operation, the field and the rule.
--
-- Two passes: `valid_*` below answer "is this input valid?" without building a
-- string or a table (the cost of every good call); only when they say no does
-- the second pass (`check_*`) walk the input again and write the messages.
-- The first pass must never accept what the second would reject.
local errors = require "invite.errors"

local type, pairs, ipairs, tostring, next, getmetatable = type, pairs, ipairs, tostring, next, getmetatable
local find, lower, format, sub, byte = string.find, string.lower, string.format, string.sub, string.byte
local min, floor, huge = math.min, math.floor, math.huge
local concat, sort = table.concat, table.sort

local _M = {}

-- Levenshtein distance, case-insensitive (for "did you mean").
local function distance(a, b)
  a, b = lower(a), lower(b)
  if a == b then return 0 end
  local la, lb = #a, #b
  local prev, cur = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ca = sub(a, i, i)
    for j = 1, lb do
      local cost = (ca == sub(b, j, j)) and 0 or 1
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[lb]
end
_M.distance = distance

-- The closest name in `names` to `given`, or nil when nothing is near.
function _M.closest(given, names)
  local best, best_d = nil, huge
  for _, n in ipairs(names) do
    local d = distance(given, n)
    if d < best_d then best, best_d = n, d end
  end
  if best and best_d <= math.max(3, floor(#given / 2)) then return best end
  return nil
end

local math_type = math.type

local function is_integer(v)
  if type(v) ~= "number" then return false end
  if math_type and math_type(v) == "integer" then return true end
  return v == floor(v) and v > -huge and v < huge
end
_M.is_integer = is_integer

-- An array: a table whose keys are exactly 1..n.
local function array_length(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= floor(k) then return nil end
    n = n + 1
  end
  for i = 1, n do if t[i] == nil then return nil end end
  return n
end
_M.array_length = array_length

-- The byte offset of the first invalid UTF-8 sequence in s, or nil (RFC 3629: no overlong
-- forms, no surrogates, nothing above U+10FFFF). JSON bodies and SigV4 canonical strings are
-- UTF-8; a string that is not cannot be sent as the caller meant it.
-- Lua 5.4's utf8.len is strict RFC 3629 in C (5.3's lets surrogates through)
local utf8_len = _VERSION >= "Lua 5.4" and type(utf8) == "table" and utf8.len or nil
local IS_JIT = type(jit) == "table"

-- The length and the bounds of the second byte of a UTF-8 sequence led by byte c (RFC 3629:
-- no overlong forms, no surrogates, nothing above U+10FFFF); nil for a byte that cannot lead.
local function utf8_lead(c)
  if c >= 0xC2 and c <= 0xDF then return 2, 0x80, 0xBF
  elseif c == 0xE0 then return 3, 0xA0, 0xBF
  elseif c == 0xED then return 3, 0x80, 0x9F
  elseif c >= 0xE1 and c <= 0xEF then return 3, 0x80, 0xBF
  elseif c == 0xF0 then return 4, 0x90, 0xBF
  elseif c >= 0xF1 and c <= 0xF3 then return 4, 0x80, 0xBF
  elseif c == 0xF4 then return 4, 0x80, 0x8F end
  return nil
end
_M.utf8_lead = utf8_lead

local function utf8_error(s)
  if utf8_len then
    local n, at = utf8_len(s)
    if n then return nil end
    return at
  end
  -- LuaJIT compiles the byte loop below (a pattern scan would end the trace); plain Lua 5.1
  -- interprets it, so there a C pattern scan first skips strings that are all ASCII
  if not IS_JIT and not find(s, "[\128-\255]") then return nil end
  local i, n = 1, #s
  while i <= n do
    local c = byte(s, i)
    if c < 0x80 then
      i = i + 1
    else
      local len, lo, hi = utf8_lead(c)
      if not len then return i end
      local c2 = byte(s, i + 1)
      if not c2 or c2 < lo or c2 > hi then return i end
      for j = i + 2, i + len - 1 do
        local cj = byte(s, j)
        if not cj or cj < 0x80 or cj > 0xBF then return i end
      end
      i = i + len
    end
  end
  return nil
end
_M.utf8_error = utf8_error

local function describe(v)
  if type(v) == "string" then
    local s = v
    if #s > 40 then s = sub(s, 1, 40) .. "..." end
    s = format("%q", s)
    -- keep the message itself valid UTF-8: show the bytes of a broken sequence as \ddd
    if utf8_error(s) then s = s:gsub("[\128-\255]", function(c) return "\\" .. byte(c) end) end
    return s
  elseif type(v) == "number" then
    return tostring(v) .. " (a number)"
  end
  return "a " .. type(v)
end
_M.describe = describe

local check_value

local function check_string(spec, v, path, problems)
  if type(v) ~= "string" then
    if spec.account_id and type(v) == "number" then
      problems[#problems + 1] = format("%s: must be a 12-digit account ID string, got %s; pass it as a string",
        path, describe(v))
    else
      problems[#problems + 1] = format("%s: must be a string, got %s", path, describe(v))
    end
    return
  end
  if spec.account_id then
    if not find(v, "^%d%d%d%d%d%d%d%d%d%d%d%d$") then
      problems[#problems + 1] = format("%s: must be a 12-digit account ID string, got %s", path, describe(v))
    end
    return
  end
  local nul = find(v, "\0", 1, true)
  if nul then
    problems[#problems + 1] = format("%s: must not contain a NUL byte (found at byte %d)", path, nul)
    return
  end
  local bad = utf8_error(v)
  if bad then
    problems[#problems + 1] = format("%s: must be valid UTF-8 (invalid byte sequence at byte %d)", path, bad)
    return
  end
  if spec.min and #v < spec.min then
    problems[#problems + 1] = format("%s: must be at least %d characters long, got %d", path, spec.min, #v)
  elseif spec.max and #v > spec.max then
    problems[#problems + 1] = format("%s: must be at most %d characters long, got %d", path, spec.max, #v)
  end
  if spec.nonblank and not find(v, "%S") then
    problems[#problems + 1] = format("%s: must not be empty or blank", path)
  end
  if spec.enum then
    local ok = false
    for _, e in ipairs(spec.enum) do if e == v then ok = true end end
    if not ok then
      problems[#problems + 1] = format("%s: must be one of %s, got %s", path, concat(spec.enum, ", "), describe(v))
    end
  end
  if spec.matches and not spec.matches(v) then
    problems[#problems + 1] = format("%s: must be %s (the pattern %s), got %s", path, spec.rule or "valid",
      spec.pattern or "?", describe(v))
  end
end

local function check_integer(spec, v, path, problems)
  local lo, hi = spec.min, spec.max
  if not is_integer(v) then
    if lo and hi then
      problems[#problems + 1] = format("%s: must be an integer between %d and %d, got %s", path, lo, hi, describe(v))
    else
      problems[#problems + 1] = format("%s: must be an integer, got %s", path, describe(v))
    end
    return
  end
  if (lo and v < lo) or (hi and v > hi) then
    problems[#problems + 1] = format("%s: must be an integer between %s and %s, got %s", path,
      tostring(lo or "-inf"), tostring(hi or "inf"), tostring(floor(v)))
  end
end

local function check_list(spec, v, path, problems, opts)
  if type(v) ~= "table" then
    problems[#problems + 1] = format("%s: must be a list (a Lua array), got %s", path, describe(v))
    return
  end
  local n = array_length(v)
  if not n then
    problems[#problems + 1] = format("%s: must be a list (a Lua array with keys 1..n), got a table with other keys",
      path)
    return
  end
  local lo = spec.min
  local hi = spec.max
  if opts and opts.batched then hi = nil end -- split into batches later
  if lo and n < lo then
    if lo == 1 then
      problems[#problems + 1] = format("%s: must be a non-empty list", path)
    else
      problems[#problems + 1] = format("%s: must have at least %d items, got %d", path, lo, n)
    end
  elseif hi and n > hi then
    problems[#problems + 1] = format("%s: must have at most %d items, got %d", path, hi, n)
  end
  local member = spec.member
  if member then
    local before = #problems
    for i = 1, n do
      check_value(member, v[i], path .. "[" .. i .. "]", problems)
      if #problems - before >= 5 then -- enough to see the pattern
        problems[#problems + 1] = format("%s: (further items not checked)", path)
        break
      end
    end
  end
end

-- a structure (STS Tags, Organizations' Filter): a table of its members only, required ones present
local function check_structure(spec, v, path, problems)
  if type(v) ~= "table" then
    problems[#problems + 1] = format("%s: must be a table of members, got %s", path, describe(v))
    return
  end
  local known, names = {}, {}
  for _, m in ipairs(spec.members) do
    known[m.name] = true
    names[#names + 1] = m.name
  end
  local unknown = {}
  for k in pairs(v) do
    if not (type(k) == "string" and known[k]) then unknown[#unknown + 1] = tostring(k) end
  end
  sort(unknown)
  for _, k in ipairs(unknown) do
    problems[#problems + 1] = format("%s: unknown member %q (members: %s)", path, k, concat(names, ", "))
  end
  for _, m in ipairs(spec.members) do
    local mv = v[m.name]
    if mv == nil then
      if m.required then problems[#problems + 1] = format("%s.%s: missing required member", path, m.name) end
    else
      check_value(m, mv, path .. "." .. m.name, problems)
    end
  end
end

function check_value(spec, v, path, problems, opts)
  local t = spec.type
  if t == "string" then check_string(spec, v, path, problems)
  elseif t == "integer" or t == "long" then check_integer(spec, v, path, problems)
  elseif t == "list" then check_list(spec, v, path, problems, opts)
  elseif t == "structure" then check_structure(spec, v, path, problems)
  elseif t == "boolean" then
    if type(v) ~= "boolean" then
      problems[#problems + 1] = format("%s: must be a boolean, got %s", path, describe(v))
    end
  else
    problems[#problems + 1] = format("%s: unsupported type %s in the declaration", path, tostring(t))
  end
end

-- The first pass: true when the check_* pass below would find nothing. No strings
-- are built and no tables made, and the loops are plain ones LuaJIT compiles.
-- Tables with a metatable (whose __index, __len or __pairs could answer
-- differently from their raw contents) are left to the second pass.

-- "^%d%d%d%d%d%d%d%d%d%d%d%d$" without a pattern (string.find with a pattern is not
-- compiled by LuaJIT; on Lua 5.4 this is also a little cheaper)
local function valid_account_id(v)
  if type(v) ~= "string" or #v ~= 12 then return false end
  local a, b, c, d, e, f, g, h, i, j, k, l = byte(v, 1, 12)
  return a >= 48 and a <= 57 and b >= 48 and b <= 57 and c >= 48 and c <= 57
    and d >= 48 and d <= 57 and e >= 48 and e <= 57 and f >= 48 and f <= 57
    and g >= 48 and g <= 57 and h >= 48 and h <= 57 and i >= 48 and i <= 57
    and j >= 48 and j <= 57 and k >= 48 and k <= 57 and l >= 48 and l <= 57
end

local function valid_string(spec, v)
  if spec.account_id then return valid_account_id(v) end
  if type(v) ~= "string" then return false end
  if find(v, "\0", 1, true) or utf8_error(v) then return false end
  local n, lo, hi = #v, spec.min, spec.max
  if (lo and n < lo) or (hi and n > hi) then return false end
  if spec.nonblank and not find(v, "%S") then return false end
  if spec.matches and not spec.matches(v) then return false end
  local enum = spec.enum
  if enum then
    for i = 1, #enum do
      if enum[i] == v then return true end
    end
    return false
  end
  return true
end

local function valid_integer(spec, v)
  if not is_integer(v) then return false end
  local lo, hi = spec.min, spec.max
  return not ((lo and v < lo) or (hi and v > hi))
end

local valid_value

local function valid_list(spec, v, batched)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return false end
  -- keys exactly 1..n: n keys in all, and v[1..n] all present (checked with the members)
  local n, keys = #v, 0
  for _ in next, v do keys = keys + 1 end
  if keys ~= n then return false end
  local lo, hi = spec.min, spec.max
  if batched then hi = nil end
  if (lo and n < lo) or (hi and n > hi) then return false end
  local member = spec.member
  if not member then
    for i = 1, n do
      if v[i] == nil then return false end
    end
  elseif member.account_id and member.type == "string" then
    for i = 1, n do -- valid_account_id inlined: a call per item is a fifth of this loop's cost on Lua 5.4
      local s = v[i]
      if type(s) ~= "string" or #s ~= 12 then return false end
      local a, b, c, d, e, f, g, h, j, k, l, m = byte(s, 1, 12)
      if not (a >= 48 and a <= 57 and b >= 48 and b <= 57 and c >= 48 and c <= 57
        and d >= 48 and d <= 57 and e >= 48 and e <= 57 and f >= 48 and f <= 57
        and g >= 48 and g <= 57 and h >= 48 and h <= 57 and j >= 48 and j <= 57
        and k >= 48 and k <= 57 and l >= 48 and l <= 57 and m >= 48 and m <= 57) then return false end
    end
  else
    for i = 1, n do
      if not valid_value(member, v[i], false) then return false end
    end
  end
  return true
end

local function valid_structure(spec, v)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return false end
  local members, given = spec.members, 0
  for i = 1, #members do
    local m = members[i]
    local mv = v[m.name]
    if mv == nil then
      if m.required then return false end
    else
      given = given + 1
      if not valid_value(m, mv, false) then return false end
    end
  end
  -- no other keys: as many keys as members given
  local keys = 0
  for _ in next, v do keys = keys + 1 end
  return keys == given
end

function valid_value(spec, v, batched)
  local t = spec.type
  if t == "string" then return valid_string(spec, v)
  elseif t == "list" then return valid_list(spec, v, batched)
  elseif t == "integer" or t == "long" then return valid_integer(spec, v)
  elseif t == "boolean" then return type(v) == "boolean"
  elseif t == "structure" then return valid_structure(spec, v)
  end
  return false
end

local NO_PARAMS = {}

local function valid_params(op, params, extra_allowed)
  if params == nil then
    params = NO_PARAMS
  elseif type(params) ~= "table" or getmetatable(params) ~= nil then
    return false
  end
  local by_name = op.by_name
  for k in next, params do
    if not (by_name[k] or (extra_allowed and type(k) == "string" and extra_allowed[k])) then return false end
  end
  local input = op.input
  local batch = op.batch
  local batch_member = batch and batch.member
  for i = 1, #input do
    local m = input[i]
    local name = m.name
    local v = params[name]
    if v == nil then
      if m.required then return false end
    elseif not valid_value(m, v, batch_member == name) then
      return false
    end
  end
  return true
end

local function by_string(a, b) return tostring(a) < tostring(b) end

-- The second pass: find every problem and say what it is.
local function explain(service_name, op, params, extra_allowed)
  local ctx = { service = service_name, operation = op.name }
  local where = service_name .. "." .. op.key
  if params == nil then params = {} end
  if type(params) ~= "table" then
    return nil, errors.client("ValidationError",
      format("%s: parameters must be a table, got %s", where, describe(params)), ctx)
  end
  local problems = {}
  local unknown = {}
  for k in pairs(params) do
    if not (type(k) == "string" and (op.by_name[k] or (extra_allowed and extra_allowed[k]))) then
      unknown[#unknown + 1] = k
    end
  end
  local names = {}
  if #unknown > 0 then
    for _, m in ipairs(op.input) do names[#names + 1] = m.name end
    sort(unknown, by_string)
  end
  for _, k in ipairs(unknown) do
    if type(k) ~= "string" then
      problems[#problems + 1] = format("parameters must be named, got a positional value at [%s]", tostring(k))
    else
      local hint = _M.closest(k, names)
      local valid = #names > 0 and concat(names, ", ") or "none"
      if hint then
        problems[#problems + 1] = format("unknown parameter %q (did you mean %q?)", k, hint)
      else
        problems[#problems + 1] = format("unknown parameter %q (valid parameters: %s)", k, valid)
      end
    end
  end
  for _, m in ipairs(op.input) do
    local v = params[m.name]
    if v == nil then
      if m.required then
        problems[#problems + 1] = format("%s: missing required parameter", m.name)
      end
    else
      check_value(m, v, m.name, problems, { batched = op.batch and op.batch.member == m.name })
    end
  end
  if #problems == 0 then return true end
  local msg = where .. ": invalid parameters: " .. concat(problems, "; ")
  return nil, errors.client("ValidationError", msg, ctx, { problems = problems })
end

-- validate.check(service_name, op_view, params[, extra_allowed]) -> true | nil, err
-- op_view comes from invite.model. extra_allowed names more top-level keys
-- accepted (e.g. PaginationConfig for paginators).
-- (kept free of closures: a function that makes one cannot be compiled through its
-- return by LuaJIT 2.1, so the slow pass is a function of its own)
function _M.check(service_name, op, params, extra_allowed)
  if valid_params(op, params, extra_allowed) then return true end
  return explain(service_name, op, params, extra_allowed)
end

-- Tables nested deeper than this are not copied (no declared shape comes near; a cycle stops here
-- and then fails validation as an empty table).
local SNAPSHOT_DEPTH = 16

local function has_metatable(t, depth)
  if getmetatable(t) ~= nil then return true end
  if depth >= SNAPSHOT_DEPTH then return true end
  for _, v in next, t do
    if type(v) == "table" and has_metatable(v, depth + 1) then return true end
  end
  return false
end

local function raw_copy(t, depth)
  local out = {}
  if depth >= SNAPSHOT_DEPTH then return out end
  for k, v in next, t do
    if type(v) == "table" then v = raw_copy(v, depth + 1) end
    out[k] = v
  end
  return out
end

--- The parameters as validation and the builder must see them: `params` itself when no table in
-- it has a metatable (no copy: the common case), else a deep copy of its raw contents, so an
-- `__index`, `__len` or `__pairs` cannot answer one thing to validation and another to the builder.
-- @param params anything (only tables are copied)
-- @return the snapshot
function _M.snapshot(params)
  if type(params) ~= "table" or not has_metatable(params, 0) then return params end
  return raw_copy(params, 0)
end

-- The message pass alone, for spec/pipeline/validate_passes_spec.lua: it must reject exactly what the first
-- pass rejects (the first pass answering "valid" for input the second refuses would let it be sent).
_M._explain = explain

return _M
