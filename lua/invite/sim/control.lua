-- invite.sim.control: the simulator's own endpoints for tests and demos, under /__sim/ on the same
-- port, outside the AWS namespace. Unsigned, answered only to loopback peers, never logged in the
-- request log.
--
--   GET    /__sim/health             {"ok": true, "pid": N, "port": N}
--   GET    /__sim/state              invitations, administrators, detectors, sessions (no secrets)
--   POST   /__sim/reset              back to the fixture's initial state (log and faults untouched)
--   GET    /__sim/requests?since=N   request-log entries with seq > N (all kept ones by default)
--   DELETE /__sim/requests           forget the logged entries (seq keeps counting)
--   GET    /__sim/faults             the current rules with how often each matched and fired
--   POST   /__sim/faults             replace the rules: body is a spec (text), or JSON
--                                    {"spec": "...", "seed": N}; an empty spec removes all rules
--   POST   /__sim/clock              JSON {"advance": SECONDS}: move the simulator's clock (signing
--                                    window, session expiry, issued expirations, log times)
--   POST   /__sim/stop               stop serving (the process exits cleanly)
local util = require "invite.sim.util"
local faults = require "invite.sim.faults"
local log_fields = require("invite.sim.log").FIELDS

local _M = {}

local tonumber, type = tonumber, type

local function reply(status, tbl)
  return {
    status = status,
    headers = { { "Content-Type", "application/json" }, { "Cache-Control", "no-store" } },
    body = util.json_encode(tbl),
  }
end

-- a peer address: 127.0.0.0/8, ::1, or 127.x mapped into IPv6 (::ffff:127.0.0.1)
local is_loopback = require("invite.util").is_loopback
_M.is_loopback = is_loopback

function _M.handle(sim, req)
  if not is_loopback(req.peer) then
    return reply(403, { message = "the control endpoints answer loopback clients only" })
  end
  local path, method = req.path:gsub("/+$", ""), req.method
  local _, q = util.parse_query(req.query)
  if path == "/__sim/health" and method == "GET" then
    return reply(200, { ok = true, pid = sim.pid, port = sim.port })
  elseif path == "/__sim/state" and method == "GET" then
    return reply(200, sim.state:snapshot(sim:now()))
  elseif path == "/__sim/reset" and method == "POST" then
    sim.state:reset()
    return reply(200, { ok = true })
  elseif path == "/__sim/requests" and method == "GET" then
    local lines = {}
    for i, e in ipairs(sim.log:list(tonumber(q.since or "0") or 0)) do
      lines[i] = util.json_encode_ordered(e, log_fields)
    end
    return { status = 200, headers = { { "Content-Type", "application/json" }, { "Cache-Control", "no-store" } },
             body = "[" .. table.concat(lines, ",\n") .. "]" }
  elseif path == "/__sim/requests" and method == "DELETE" then
    sim.log:clear()
    return reply(200, { ok = true })
  elseif path == "/__sim/faults" and method == "GET" then
    return reply(200, sim.faults:describe())
  elseif path == "/__sim/faults" and (method == "POST" or method == "PUT") then
    local spec, seed = req.body or "", nil
    if spec:find("^%s*{") then
      local t = util.json_decode(spec)
      if type(t) ~= "table" then return reply(400, { message = "body is not valid JSON" }) end
      spec, seed = t.spec or "", t.seed
      if type(spec) ~= "string" then return reply(400, { message = "spec must be a string" }) end
      if seed ~= nil and type(seed) ~= "number" then return reply(400, { message = "seed must be a number" }) end
    end
    local rules, err = faults.parse(spec)
    if not rules then return reply(400, { message = err }) end
    sim.faults:set(rules, seed)
    return reply(200, sim.faults:describe())
  elseif path == "/__sim/clock" and method == "POST" then
    local t = util.json_decode(req.body or "")
    local adv = type(t) == "table" and t.advance
    if type(adv) ~= "number" then return reply(400, { message = 'body must be {"advance": SECONDS}' }) end
    sim.clock_offset = sim.clock_offset + adv
    return reply(200, { offset = sim.clock_offset, now = util.iso8601(sim:now()) })
  elseif path == "/__sim/stop" and method == "POST" then
    sim:stop()
    return reply(200, { ok = true })
  end
  return reply(404, { message = "no such control endpoint: " .. method .. " " .. req.path })
end

return _M
