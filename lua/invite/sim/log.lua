-- invite.sim.log: the request log. Every request the simulator receives becomes one entry; entries
-- are kept in memory (for GET /__sim/requests) and, when a path is given, appended to a file as
-- JSON lines, flushed after each line so nothing is lost if the process is killed.
-- Entries never hold secrets: no secret keys, session tokens, signatures or Authorization headers.
local util = require "invite.sim.util"

local _M = {}

local Log = {}
Log.__index = Log

-- Field order of a log line (other fields follow, sorted).
_M.FIELDS = { "time", "seq", "id", "conn", "method", "path", "query", "service", "operation", "region",
              "account", "access_key_id", "arn", "auth", "status", "error", "account_ids", "fault",
              "latency_ms", "duration_ms", "message" }

-- opts: path (file to append to, "-" for stderr, nil for memory only), keep (entries kept in
-- memory, default 20000; older ones are dropped first).
function _M.new(opts)
  opts = opts or {}
  local self = setmetatable({ entries = {}, first = 1, last = 0, seq = 0, keep = opts.keep or 20000 }, Log)
  if opts.path == "-" then
    self.file = io.stderr
  elseif opts.path then
    local f, err = io.open(opts.path, "a")
    if not f then return nil, "cannot open request log " .. opts.path .. ": " .. tostring(err) end
    f:setvbuf("line")
    self.file, self.owned = f, true
  end
  return self
end

-- Strings longer than this are cut in the log (a hostile or broken peer must not make one line
-- hold megabytes); the cut says how much was left out.
_M.MAX_STRING = 2048

local function bounded(v)
  if type(v) == "string" and #v > _M.MAX_STRING then
    return v:sub(1, _M.MAX_STRING) .. "...(" .. (#v - _M.MAX_STRING) .. " more bytes)"
  elseif type(v) == "table" then
    for i, x in ipairs(v) do v[i] = bounded(x) end
  end
  return v
end

function Log:write(entry)
  for k, v in pairs(entry) do entry[k] = bounded(v) end
  self.seq = self.seq + 1
  entry.seq = self.seq
  local n = self.last + 1
  self.entries[n], self.last = entry, n
  if n - self.first + 1 > self.keep then
    self.entries[self.first] = nil
    self.first = self.first + 1
  end
  if self.file then
    self.file:write(util.json_encode_ordered(entry, _M.FIELDS), "\n")
    self.file:flush()
  end
end

-- Entries with seq > since (default: all kept), oldest first.
function Log:list(since)
  since = since or 0
  local out = {}
  for i = self.first, self.last do
    local e = self.entries[i]
    if e and e.seq > since then out[#out + 1] = e end
  end
  return out
end

function Log:clear()
  self.entries, self.first, self.last = {}, 1, 0
end

function Log:close()
  if self.owned and self.file then self.file:close() end
  self.file = nil
end

return _M
