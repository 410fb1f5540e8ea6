--- Rendering a runner report: an aligned table for terminals, JSON for machines.
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

--- The report as one JSON document.
function _M.json(report)
  return cjson.encode(report) .. "\n"
end

return _M
