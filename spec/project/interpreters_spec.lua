-- The README names five interpreters; on each, `invite plan` and then `invite apply` of
-- examples/policy.lua against a fresh simulator must print the same thing, byte for byte, and
-- leave the simulator in the same state. (make check also runs the whole suite under each.)
-- This compares the five with one another, so it runs once, from the lua5.4 pass of the suite.
local interp = require "support.interp"
local sim = require "support.sim"
local cjson = require "cjson"

local INTERPRETERS = { "lua5.1", "lua5.2", "lua5.3", "lua5.4", "luajit" }

local have, read = interp.have, sim.read_file

-- plan then apply under `lua` against simulator `s`, reset to the fixture's state first (one
-- simulator for all: the fixture's "now-155d" times are fixed when it loads)
-- -> { plan = output, apply = output, codes = "p a", state = rows, mutating = audit calls }
local function run_under(s, lua)
  local prod = sim.keys.prod
  s:reset()
  local out, audit = os.tmpname(), os.tmpname()
  local ok, res = pcall(function()
    local env = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_REGION -u AWS_DEFAULT_REGION "
      .. "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
      .. "AWS_ACCESS_KEY_ID=" .. prod.access_key_id
      .. " AWS_SECRET_ACCESS_KEY=" .. sim.shell_quote(prod.secret_access_key)
    local r = {}
    local code = interp.execute(env .. " " .. lua .. " bin/invite plan examples/policy.lua --endpoint-url "
      .. s.endpoint .. " >" .. out .. " 2>&1")
    r.plan = read(out)
    local code2 = interp.execute(env .. " " .. lua .. " bin/invite apply examples/policy.lua --endpoint-url "
      .. s.endpoint .. " --audit-log " .. audit .. " >" .. out .. " 2>&1")
    r.apply = read(out)
    r.codes = code .. " " .. code2
    local st = s:state().invitations
    table.sort(st, function(a, b)
      return (a.service .. a.region .. a.account .. a.inviter) < (b.service .. b.region .. b.account .. b.inviter)
    end)
    local rows = {}
    for i, inv in ipairs(st) do
      rows[i] = table.concat({ inv.service, inv.region, inv.account, inv.inviter, tostring(inv.status) }, " ")
    end
    r.state = table.concat(rows, "\n")
    local mutating = 0
    for line in io.lines(audit) do
      if cjson.decode(line).event == "call" then mutating = mutating + 1 end
    end
    r.mutating = mutating
    return r
  end)
  os.remove(out)
  os.remove(audit)
  assert(ok, res)
  return res
end

if interp.LUA == "lua5.4" then
  describe("examples/policy.lua on every interpreter", function()
    it("plan and apply print the same summaries and leave the same state on lua5.1-5.4 and luajit", function()
      -- the simulator always runs under lua5.4: only the client side differs
      local s = sim.start{ fixtures = "examples/fixtures/org.json", lua = "lua5.4" }
      finally(function() s:stop() end)
      local base = run_under(s, "lua5.4")
      assert.are.equal("0 0", base.codes, base.plan .. base.apply)
      assert.truthy(base.plan:find("decline", 1, true), base.plan)
      assert.is_true(base.mutating > 0, "apply made no mutating call")
      local compared = 0
      for _, lua in ipairs(INTERPRETERS) do
        if lua ~= "lua5.4" then
          assert.is_true(have(lua), lua .. " is not installed (make deps installs it)")
          local r = run_under(s, lua)
          assert.are.equal(base.codes, r.codes, lua .. ": exit codes\n" .. r.plan .. r.apply)
          assert.are.equal(base.plan, r.plan, lua .. ": invite plan printed something else")
          assert.are.equal(base.apply, r.apply, lua .. ": invite apply printed something else")
          assert.are.equal(base.state, r.state, lua .. ": the simulator ended in another state")
          assert.are.equal(base.mutating, r.mutating, lua .. ": another number of mutating calls")
          compared = compared + 1
        end
      end
      assert.are.equal(4, compared)
      print(("# examples/policy.lua: plan and apply identical on %d interpreters (%d mutating calls each)")
        :format(compared + 1, base.mutating))
    end)
  end)
end
