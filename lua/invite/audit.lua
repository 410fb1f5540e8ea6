--- Audit log: JSON lines, one per decision and per outcome, flushed and fsync'd as
-- they are written, so a run interrupted at any point shows exactly what was done.
-- Lines carry account IDs, invitation IDs, actions and outcomes; never credentials.
-- @module invite.audit
local _M = {}
local mt = { __index = _M }

local cjson = require "cjson"
local redact = require "invite.redact"

local function iso_now()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

--- Open (append) an audit log at `path`. `sync = false` skips fsync (tests, benchmarks).
-- @return log or nil, err
function _M.open(path, opts)
  if type(path) ~= "string" then error("audit.open: path must be a string", 2) end
  local f, err = io.open(path, "a")
  if not f then return nil, "cannot open audit log: " .. tostring(err) end
  opts = opts or {}
  return setmetatable({ file = f, path = path, sync = opts.sync ~= false, run_id = opts.run_id }, mt)
end

--- A log that writes nothing (no audit file asked for).
function _M.null()
  return setmetatable({}, mt)
end

--- Write one event (a flat table); adds time and run id.
function _M:write(event)
  if not self.file then return true end
  event.time = event.time or iso_now()
  event.run_id = self.run_id
  local ok, line = pcall(cjson.encode, event)
  if not ok then return nil, "audit: cannot encode event: " .. tostring(line) end
  -- a server may have echoed the caller's secrets into any field: they never reach the log
  local w, err = self.file:write(redact.text(line), "\n")
  if not w then return nil, "audit: write failed: " .. tostring(err) end
  if self.sync then
    local s, serr = require("invite.native").fsync(self.file)
    if not s then return nil, "audit: fsync failed: " .. tostring(serr) end
  else
    -- a buffered write only fails when the buffer reaches the file: flush now and say so
    local f, ferr = self.file:flush()
    if not f then return nil, "audit: write failed: " .. tostring(ferr) end
  end
  return true
end

--- Closes the log. -> true | nil, err (the last buffered bytes could not be written).
function _M:close()
  local f = self.file
  self.file = nil
  if not f then return true end
  local ok, err = f:close()
  if not ok then return nil, "audit: close failed: " .. tostring(err) end
  return true
end

return _M
