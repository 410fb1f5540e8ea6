-- Interruption: kill `invite apply` mid-run (SIGKILL, no chance to clean up); the audit log and
-- the simulator's state must agree: every change the simulator made was announced in the audit
-- log before the call, and every success the audit log records really happened.
local interp = require "support.interp"
local sim = require "support.sim"
local cjson = require "cjson"

local function key(service, region, inviter) return service .. "|" .. region .. "|" .. inviter end

local function snapshot(s, account)
  local t = {}
  for _, inv in ipairs(s:state().invitations) do
    if inv.account == account then t[key(inv.service, inv.region, inv.inviter)] = inv.status end
  end
  return t
end

describe("invite apply killed mid-run", function()
  it("leaves an audit log that agrees with what the simulator did", function()
    local prod = sim.keys.prod
    local s = sim.start{ fixtures = "examples/fixtures/org.json", faults = "always * latency=120" }
    local ok, err = pcall(function()
      local before = snapshot(s, "222222222222")
      local audit = os.tmpname()
      local pidfile = os.tmpname()
      local cmd = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null "
        .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID=" .. prod.access_key_id
        .. " AWS_SECRET_ACCESS_KEY='" .. prod.secret_access_key .. "' "
        .. interp.LUA .. " bin/invite apply examples/policy.lua --concurrency 1 --quiet --endpoint-url " .. s.endpoint
        .. " --audit-log " .. audit .. " >/dev/null 2>&1 & echo $! > " .. pidfile
      assert(0 == interp.execute(cmd))
      local pid = assert(io.open(pidfile)):read("*l")
      -- wait until some outcomes are on disk, then kill without warning
      local deadline = os.time() + 20
      repeat
        os.execute("sleep 0.1")
        local text = assert(io.open(audit)):read("*a")
        local _, outcomes = text:gsub('"event":"outcome"', "")
      until outcomes >= 3 or os.time() > deadline
      os.execute("kill -9 " .. pid)
      os.execute("sleep 0.3")

      local called, succeeded = {}, {}
      local lines = 0
      for line in io.lines(audit) do
        lines = lines + 1
        local e = cjson.decode(line) -- every line is complete JSON: written whole and fsync'd
        if e.event == "call" then
          for _, id in ipairs(e.account_ids) do called[key(e.service, e.region, id)] = true end
        elseif e.event == "outcome" and e.outcome ~= "error" and e.outcome ~= "unprocessed" then
          succeeded[key(e.service, e.region, e.account_id)] = e.outcome
        end
      end
      -- invite audit verify: unbroken, and incomplete with the cut run named (exit 1)
      local res = require("invite.audit").verify(audit)
      assert.is_true(res.unbroken, require("invite.audit").verify_text(res))
      assert.is_false(res.complete)
      assert.are.equal("incomplete", res.runs[1].status)
      local found = false
      for _, pr in ipairs(res.problems) do
        if pr.message:find("incomplete: run " .. res.runs[1].run_id .. " has no end; ", 1, true) then found = true end
      end
      assert.is_true(found, require("invite.audit").verify_text(res))
      assert.are.equal(1, interp.execute("env -u LD_PRELOAD " .. interp.LUA .. " bin/invite audit verify " .. audit
        .. " >/dev/null"))
      os.remove(audit); os.remove(pidfile)
      assert.is_true(lines > 0)
      local after = snapshot(s, "222222222222")
      local changed = 0
      for k, status in pairs(before) do
        if after[k] ~= status then
          changed = changed + 1
          assert.is_true(called[k], "the simulator changed " .. k .. " but the audit log never announced it")
        end
      end
      for k, outcome in pairs(succeeded) do
        assert.are_not.equal(before[k], after[k], "audit says " .. outcome .. " for " .. k .. " but nothing changed")
      end
      assert.is_true(changed > 0, "the run was killed before it changed anything")
      local total = 0
      for _ in pairs(before) do total = total + 1 end
      assert.is_true(changed < total, "the run finished before it was killed")
    end)
    s:stop()
    assert(ok, err)
  end)
end)
