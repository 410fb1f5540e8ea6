--- Rendering a runner report: an aligned table for terminals, JSON for machines.
-- @module invite.report
local _M = { _VERSION = "0.1.0" }

local cjson = require "cjson"
local concat, rep = table.concat, string.rep

local COLUMNS = {
  { "SERVICE", "service" }, { "REGION", "region" }, { "ACCOUNT", "account" }, { "INVITER", "account_id" },
  { "INVITED-AT", "invited_at" }, { "ACTION", "action" }, { "REASON", "reason" }, { "OUTCOME", "outcome" },
}

local function cell(rec, key)
  local v = rec[key]
  if key == "outcome" and rec.detail then v = tostring(v) .. " (" .. rec.detail .. ")" end
  if v == nil then return "-" end
  return tostring(v)
end

--- The report's invitations as an aligned text table (one header line, one row each).
function _M.table(report)
  local rows, width = {}, {}
  local header = {}
  for i, c in ipairs(COLUMNS) do header[i] = c[1]; width[i] = #c[1] end
  for r, rec in ipairs(report.invitations) do
    local row = {}
    for i, c in ipairs(COLUMNS) do
      row[i] = cell(rec, c[2])
      if #row[i] > width[i] then width[i] = #row[i] end
    end
    rows[r] = row
  end
  local out = {}
  local function line(row)
    local parts = {}
    for i = 1, #COLUMNS do
      parts[i] = (i < #COLUMNS) and (row[i] .. rep(" ", width[i] - #row[i])) or row[i]
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
