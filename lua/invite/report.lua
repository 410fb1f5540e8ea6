--- Rendering a runner report: an aligned table for terminals; JSON (one versioned document, or JSON
-- lines) and CSV for machines (docs/output.md).
-- @module invite.report
local _M = {}

local cjson = require "cjson"
local redact = require "invite.redact"
local concat, rep = table.concat, string.rep
local byte, find, format, sub = string.byte, string.find, string.format, string.sub

local utf8_lead = require("invite.validate").utf8_lead

--- Text made safe to print on a terminal, where a server-supplied string could otherwise retitle,
-- clear or reprogram it. Every C0 control character (bytes 0x00-0x1F, tab and line feed
-- included), DEL (0x7F) and every byte that is not part of valid UTF-8 (a lone 0x9B is an 8-bit
-- CSI to some terminals) is shown as `\xHH` (ESC is `\x1b`); a C1 control character encoded in
-- UTF-8 (U+0080-U+009F) is shown as `\u0080`-`\u009f`. Everything else - printable ASCII and
-- valid UTF-8 - is kept as it is, backslashes too (so `\x1b` in a table may also be those four
-- characters; --json shows the exact text). The result is printable ASCII and valid UTF-8.
-- @tparam any s (tostring'd)
-- @treturn string
function _M.escape(s)
  s = tostring(s)
  if not find(s, "[%z\1-\31\127-\255]") then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = byte(s, i)
    if c < 0x20 or c == 0x7F then
      out[#out + 1] = format("\\x%02x", c)
      i = i + 1
    elseif c < 0x80 then
      local j = find(s, "[%z\1-\31\127-\255]", i) or n + 1
      out[#out + 1] = sub(s, i, j - 1)
      i = j
    else
      local len, lo, hi = utf8_lead(c)
      local ok = len ~= nil and i + len - 1 <= n
      if ok then
        local c2 = byte(s, i + 1)
        ok = c2 >= lo and c2 <= hi
        for j = i + 2, i + len - 1 do
          local cj = byte(s, j)
          if cj < 0x80 or cj > 0xBF then ok = false end
        end
      end
      if not ok then
        out[#out + 1] = format("\\x%02x", c)
        i = i + 1
      elseif c == 0xC2 and byte(s, i + 1) <= 0x9F then
        out[#out + 1] = format("\\u%04x", byte(s, i + 1))
        i = i + 2
      else
        out[#out + 1] = sub(s, i, i + len - 1)
        i = i + len
      end
    end
  end
  return concat(out)
end

--- Server-supplied text as the CLI prints it: @{escape}d, and without the caller's own secrets
-- (invite.redact), whatever the server echoed into it.
-- @tparam any s (tostring'd)
-- @treturn string
function _M.printable(s)
  return redact.text(_M.escape(s))
end

--- The width of escaped text in terminal columns, counted as characters (UTF-8 code points; wide
-- East Asian characters and combining marks are not told apart).
-- @tparam string s text from @{escape}
-- @treturn int
function _M.width(s)
  local _, continuation = s:gsub("[\128-\191]", "")
  return #s - continuation
end
local width = _M.width

local COLUMNS = {
  { "SERVICE", "service" }, { "REGION", "region" }, { "ACCOUNT", "account" }, { "INVITER", "account_id" },
  { "WHAT", "label" }, -- a RAM share's name, a handshake's action type, a Detective invitation's type
  { "INVITED-AT", "invited_at" }, { "STATUS", "status" }, -- pending, declined, accepted, member, other
  { "ACTION", "action" }, { "REASON", "reason" }, { "OUTCOME", "outcome" },
}

local function cell(rec, key)
  local v = rec[key]
  if key == "outcome" and rec.detail then v = tostring(v) .. " (" .. rec.detail .. ")" end
  if v == nil then return "-" end
  return _M.escape(v)
end

--- The report's invitations as an aligned text table (one header line, one row each). Every
-- cell goes through @{escape}: no control character of a server's answer reaches the terminal,
-- and each row stays one line; columns are aligned by @{width}.
function _M.table(report)
  local rows, widths = {}, {}
  local header = {}
  for i, c in ipairs(COLUMNS) do header[i] = c[1]; widths[i] = #c[1] end
  for r, rec in ipairs(report.invitations) do
    local row = {}
    for i, c in ipairs(COLUMNS) do
      row[i] = cell(rec, c[2])
      local w = width(row[i])
      if w > widths[i] then widths[i] = w end
    end
    rows[r] = row
  end
  local out = {}
  local function line(row)
    local parts = {}
    for i = 1, #COLUMNS do
      parts[i] = (i < #COLUMNS) and (row[i] .. rep(" ", widths[i] - width(row[i]))) or row[i]
    end
    out[#out + 1] = concat(parts, "  ")
  end
  line(header)
  for _, row in ipairs(rows) do line(row) end
  return concat(out, "\n") .. "\n"
end

---------------------------------------------------------------------------------------------------
-- The JSON document (docs/output.md, docs/schema/invite-report-1.json)
---------------------------------------------------------------------------------------------------

--- The `schema` member of every JSON document the CLI prints: its name and version. A change
-- that only adds members keeps the version; removing, renaming or retyping one makes it 2.
_M.SCHEMA = "invite.report/1"

--- JSON null (cjson's), for a member that is always there but has no value.
_M.null = cjson.null

local array_mt, object_mt = { __name = "invite.report.array" }, { __name = "invite.report.object" }

--- Marks a table to be encoded as a JSON array, even when empty (lua-cjson 2.1.0 encodes an empty
-- table as `{}` and has no empty-array marker).
-- @tparam[opt] table t
-- @treturn table t
function _M.array(t) return setmetatable(t or {}, array_mt) end

--- Marks a table to be encoded as a JSON object, even when empty.
function _M.object(t) return setmetatable(t or {}, object_mt) end

-- Whether an unmarked table is a list: keys 1..n only (an empty one is a list: every list of a
-- document is an array; objects are marked with _M.object).
local function is_list(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k % 1 ~= 0 then return false end
    n = n + 1
  end
  return n == #t
end

local function encode_value(v, out, depth)
  local tv = type(v)
  if v == nil or v == cjson.null then
    out[#out + 1] = "null"
  elseif tv == "string" then
    -- lua-cjson escapes every "/" as "\/"; JSON does not need it (an escaped backslash is "\\")
    out[#out + 1] = (cjson.encode(v):gsub("\\/", "/"))
  elseif tv == "number" or tv == "boolean" then
    out[#out + 1] = cjson.encode(v)
  elseif tv == "table" then
    if depth > 32 then error("invite.report: a document nested deeper than 32 levels", 0) end
    local mt = getmetatable(v)
    local list
    if mt == array_mt then list = true elseif mt == object_mt then list = false else list = is_list(v) end
    if list then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k, x in pairs(v) do
        if type(x) ~= "function" and type(x) ~= "userdata" or x == cjson.null then keys[#keys + 1] = tostring(k) end
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = (cjson.encode(k):gsub("\\/", "/"))
        out[#out + 1] = ":"
        local x = v[k]
        if x == nil then x = v[tonumber(k)] end
        encode_value(x, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    error("invite.report: cannot encode a " .. tv .. " in a JSON document", 0)
  end
end

--- A value as JSON text: tables marked by @{array} or @{object} as such, other tables as an array
-- when their keys are 1..n (an empty one too), else as an object with its keys sorted.
-- @treturn string
function _M.encode(v)
  local out = {}
  encode_value(v, out, 0)
  return concat(out)
end

local function opt(v) if v == nil then return cjson.null end return v end

-- "Code (HTTP n)", or ": Code: " (a CamelCase word), in an error line (invite.errors' tostring:
-- "service Operation: Code (HTTP n): message [request-id x] (retryable)").
local function code_in(text)
  return text:match("(%u[%w]*) %(HTTP %d+%)") or text:match(": (%u%l[%w]*%u[%w]*): ")
    or text:match("^(%u%l[%w]*%u[%w]*): ")
end

--- An error object of the document: `scope` (`service`, `region`, `account`, each null when it
-- does not apply), `code`, `message`, `request_id` (null when none), `retryable`.
-- @tparam table scope `{service =, region =, account =}` (any may be nil)
-- @tparam string message the error as the report's line gives it (without the scope)
-- @tparam[opt] table info `{code =, request_id =, retryable =}` (a runner scope's `error_info`, an
--   invite.errors error); without it they are read from the message's text
-- @treturn table
function _M.error_object(scope, message, info)
  message = tostring(message)
  scope = scope or {}
  local code, request_id, retryable
  if type(info) == "table" then
    code, request_id, retryable = info.code, info.request_id, info.retryable == true
  else
    code = code_in(message)
    request_id = message:match("%[request%-id ([^%]]+)%]")
    retryable = message:find("(retryable)", 1, true) ~= nil
  end
  return _M.object{
    scope = _M.object{ service = opt(scope.service), region = opt(scope.region), account = opt(scope.account) },
    code = tostring(code or "Error"), message = message, request_id = opt(request_id), retryable = retryable,
  }
end

-- "service region[ account]: " as the runner writes a scope's error line
local function scope_line(s)
  return s.service .. " " .. s.region .. (s.account and (" " .. s.account) or "") .. ": "
end

--- The report's `errors` (lines) as error objects, in the same order: a scope's error carries its
-- scope and the runner's `error_info`; an account's ("account ID: ...") its account; any other
-- (the credentials, the organisation's accounts, the audit log) no scope.
-- @tparam table report from invite.run
-- @treturn table an @{array} of @{error_object}s
function _M.error_objects(report)
  local by_line = {}
  for _, s in ipairs(report.scopes or {}) do
    if s.error then by_line[scope_line(s) .. s.error] = s end
  end
  local out = _M.array()
  for _, line in ipairs(report.errors or {}) do
    local s = by_line[line]
    if s then
      out[#out + 1] = _M.error_object(s, s.error, s.error_info)
    else
      local account, rest = line:match("^account (%d+): (.*)$")
      out[#out + 1] = _M.error_object({ account = account }, account and rest or line)
    end
  end
  return out
end

local TIME_KEYS = { "invited_at", "expires_at" }
local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d"

-- A record's copy for the document: a time that is not ISO 8601 moves to raw_<key> (the key is
-- then null), lists are arrays.
local function invitation_of(rec)
  local o = _M.object()
  for k, v in pairs(rec) do
    if type(k) == "string" then o[k] = v end
  end
  for _, k in ipairs(TIME_KEYS) do
    local v = o[k]
    if v ~= nil then
      local ok = type(v) == "string" and v:find(ISO) and (v:find("Z$") or v:find("[+-]%d%d:?%d%d$"))
      if not ok then o[k], o["raw_" .. k] = cjson.null, tostring(v) end
    end
  end
  return o
end
_M.invitation_of = invitation_of

local function copy_object(t)
  local o = _M.object()
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

local function strings(list)
  local out = _M.array()
  for i, s in ipairs(list or {}) do out[i] = tostring(s) end
  return out
end

--- A runner report as the document of the JSON schema (invite.report/1): `schema`, `command`,
-- `apply`, `run_id`, `identity`, `partition`, `accounts`, `scopes`, `skipped`, `invitations`,
-- `errors` (@{error_object}s), `warnings`, `totals`; every list an array.
-- @tparam table report from invite.run
-- @tparam string command the CLI command (list, plan, apply, accept)
-- @treturn table the document (encode it with @{encode})
function _M.document(report, command)
  local id = report.identity
  local doc = _M.object{
    schema = _M.SCHEMA, command = command, apply = report.apply == true, run_id = opt(report.run_id),
    identity = type(id) == "table" and _M.object{ account = opt(id.account), arn = opt(id.arn),
                                                  user_id = opt(id.user_id), partition = opt(id.partition) }
      or cjson.null,
    partition = opt(report.partition),
    accounts = _M.array(), scopes = _M.array(), skipped = _M.array(), invitations = _M.array(),
    errors = _M.error_objects(report), warnings = strings(report.warnings),
  }
  for i, a in ipairs(report.accounts or {}) do
    doc.accounts[i] = _M.object{ id = opt(a.id), own = a.own == true, regions_source = opt(a.regions_source),
      error = a.error and _M.error_object({ account = a.id }, a.error) or cjson.null }
  end
  for i, s in ipairs(report.scopes or {}) do
    doc.scopes[i] = _M.object{ service = s.service, region = s.region, account = opt(s.account),
      invitations = s.invitations or 0,
      error = s.error and _M.error_object(s, s.error, s.error_info) or cjson.null }
  end
  for i, s in ipairs(report.skipped or {}) do
    doc.skipped[i] = _M.object{ service = s.service, region = s.region, account = opt(s.account),
                                reason = tostring(s.reason) }
  end
  for i, rec in ipairs(report.invitations or {}) do doc.invitations[i] = invitation_of(rec) end
  local t = report.totals or {}
  doc.totals = _M.object{ invitations = t.invitations or #doc.invitations, actions = copy_object(t.actions),
                          outcomes = copy_object(t.outcomes) }
  return doc
end

--- The report as one JSON document (@{document}), one line.
-- @tparam table report from invite.run
-- @tparam[opt="plan"] string command
function _M.json(report, command)
  return _M.encode(_M.document(report, command or (report.apply and "apply" or "plan"))) .. "\n"
end

--- The report's invitations as JSON lines: one @{document} invitation per line, nothing else.
function _M.jsonl(report)
  local out = {}
  for i, rec in ipairs(report.invitations or {}) do out[i] = _M.encode(invitation_of(rec)) .. "\n" end
  return concat(out)
end

--- One CSV cell (RFC 4180): @{printable} (no control character, no secret), a leading `=`, `+`,
-- `-` or `@` prefixed with `'` (a spreadsheet would run it as a formula), quoted when it holds a
-- quote, a comma or a line break.
-- @treturn string
function _M.csv_cell(v)
  if v == nil or v == cjson.null then return "" end
  local s = _M.printable(v)
  if s:find("^[=+%-@]") then s = "'" .. s end
  if s:find('[",\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- Rows as CSV (RFC 4180): a header row of `columns`, then one row per record, CRLF line ends.
-- @tparam {string,...} columns the keys (and header names)
-- @tparam {table,...} records
function _M.csv_rows(columns, records)
  local out = { concat(columns, ",") }
  for _, rec in ipairs(records) do
    local row = {}
    for i, k in ipairs(columns) do row[i] = _M.csv_cell(rec[k]) end
    out[#out + 1] = concat(row, ",")
  end
  return concat(out, "\r\n") .. "\r\n"
end

--- The columns of `--output csv` (the table's, by their record keys, and the invitation's ID).
_M.CSV_COLUMNS = { "service", "region", "account", "inviter", "invitation_id", "label", "invited_at", "status",
                   "raw_status", "action", "reason", "outcome", "detail" }

--- The report's invitations as CSV (@{csv_rows} of @{CSV_COLUMNS}).
function _M.csv(report)
  local recs = {}
  for i, rec in ipairs(report.invitations or {}) do
    local r = invitation_of(rec)
    r.inviter = r.inviter or rec.account_id
    recs[i] = r
  end
  return _M.csv_rows(_M.CSV_COLUMNS, recs)
end

--- Error lines for stderr, identical causes said once: errors whose message (the scope removed,
-- and any request ID) is the same are one line, `error (63 scopes: guardduty us-east-1
-- 222222222222, ... and 60 more): message`; a single one stays `error: scope: message`. Lines are
-- @{printable}; in the order of each cause's first error.
-- @tparam {table,...} objects @{error_object}s (e.g. @{error_objects}(report))
-- @tparam[opt=3] int shown scopes named before "and N more"
-- @treturn {string,...}
function _M.error_lines(objects, shown)
  shown = shown or 3
  local groups, order = {}, {}
  for _, e in ipairs(objects) do
    local key = tostring(e.message):gsub(" %[request%-id [^%]]*%]", "")
    local g = groups[key]
    if not g then
      g = { key = key, list = {} }
      groups[key] = g
      order[#order + 1] = g
    end
    g.list[#g.list + 1] = e
  end
  local lines = {}
  local function where(e)
    local s, parts = e.scope or {}, {}
    for _, k in ipairs{ "service", "region", "account" } do
      if s[k] ~= nil and s[k] ~= cjson.null then parts[#parts + 1] = tostring(s[k]) end
    end
    if #parts == 1 and (s.service == nil or s.service == cjson.null) then return "account " .. parts[1] end
    return #parts > 0 and concat(parts, " ") or nil
  end
  for _, g in ipairs(order) do
    if #g.list == 1 then
      local e = g.list[1]
      local w = where(e)
      lines[#lines + 1] = "error: " .. _M.printable((w and (w .. ": ") or "") .. e.message)
    else
      local names = {}
      for i = 1, math.min(shown, #g.list) do names[i] = where(g.list[i]) or "-" end
      local more = #g.list > shown and (" and " .. (#g.list - shown) .. " more") or ""
      lines[#lines + 1] = "error (" .. #g.list .. " scopes: " .. _M.printable(concat(names, ", ")) .. more .. "): "
        .. _M.printable(g.key)
    end
  end
  return lines
end

return _M
