-- Memory: 10,000 DeclineInvitations calls against the simulator (one client, keep-alive) and
-- 10,000 signatures leave a process's resident set (VmRSS in /proc/self/status) within a small
-- bound once warmed up. Both numbers are printed.
--
-- Each RSS loop runs in a fresh interpreter (the one running this spec, with the matching build
-- of invite.core): in the busted process, heap that earlier specs freed would absorb a leak and
-- hide it. The child runs without LD_PRELOAD, so under check/30-asan.t and valgrind it measures the
-- plain build. A shorter loop of both also runs inside this process, checking every call and the
-- Lua heap, so that AddressSanitizer and valgrind (which judge memory by their own means) see
-- those code paths too.
local interp = require "support.interp"
local sim = require "support.sim"
local invite = require "invite"
local sigv4 = require "invite.sigv4"

local CALLS = 10000
local SIGNINGS = 10000
local WARMUP = 1000
local BOUND_KB = 2048 -- allowed VmRSS growth over a loop, after warm-up

local REGION = "us-east-1"
local ME = "777700000001"
local KEY = { id = "AKIAMEMORYSPEC000001", secret = "memory/spec/secret/0123456789abcdefghij" }
local UNINVITED = "999988887777"

local function inviter(i) return string.format("5%011d", i) end

local function fixture()
  local invitations = {}
  for i = 1, 40 do
    invitations[#invitations + 1] = { service = "guardduty", region = REGION, account = ME, inviter = inviter(i),
      id = "memory-inv-" .. i, invited_at = "2026-03-01T00:00:00Z" }
  end
  return {
    accounts = { { id = ME, name = "memory", access_keys = { KEY } } },
    detectors = { { account = ME, region = REGION, id = "6d6f6d6f72790000000000000000abcd" } },
    invitations = invitations,
  }
end

-- The loops, shared by the child processes and the in-process run.
-- decline_loop(client, n): n calls declining the same two IDs (the first is declined by the first
-- call and found declined later; the second was never invited and comes back unprocessed).
-- sign_loop(n): n signatures, every 10th with a secret never seen (the key cache misses, evicts).
local LOOPS = [==[
local invite = require "invite"
local sigv4 = require "invite.sigv4"
local L = {}
function L.decline_loop(gd, n, ids)
  local params = { AccountIds = ids }
  for i = 1, n do
    local res, err = gd:decline_invitations(params)
    if not res then error(("call %d failed: %s"):format(i, tostring(err))) end
    if res.ResponseMetadata.HTTPStatusCode ~= 200 or #res.UnprocessedAccounts < 1 then
      error(("call %d: unexpected response (HTTP %s, %d unprocessed)"):format(i,
        tostring(res.ResponseMetadata.HTTPStatusCode), #res.UnprocessedAccounts))
    end
  end
end
function L.sign_loop(n, key_id, secret)
  local opts = { method = "POST", path = "/invitation/decline",
    headers = { { "Host", "guardduty.us-east-1.amazonaws.com" }, { "Content-Type", "application/json" } },
    body = '{"accountIds":["111122223333","444455556666"]}', access_key = key_id,
    session_token = "memory-spec-session-token", region = "us-east-1", service = "guardduty" }
  for i = 1, n do
    opts.secret_key = (i % 10 == 0) and (secret .. i) or secret
    opts.time = 1700000000 + i
    local out, err = sigv4.sign(opts)
    if not out then error(("signature %d failed: %s"):format(i, tostring(err))) end
    if #out.signature ~= 64 then error(("signature %d: %q is not 64 hex digits"):format(i, out.signature)) end
  end
end
function L.settle() collectgarbage("collect"); collectgarbage("collect") end
function L.rss_kb()
  local f = assert(io.open("/proc/self/status", "r"))
  local status = f:read("*a")
  f:close()
  return assert(tonumber(status:match("VmRSS:%s*(%d+)%s*kB")), "no VmRSS line in /proc/self/status")
end
return L
]==]

-- The child: ROOT CPATH LOOPS_FILE MODE N WARMUP [ENDPOINT KEY_ID SECRET ID1 ID2]
-- prints "rss_before rss_after heap_before heap_after" (kB).
local CHILD = [==[
local root, cpath, loops_file, mode, n, warmup = arg[1], arg[2], arg[3], arg[4], tonumber(arg[5]), tonumber(arg[6])
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = cpath .. ";" .. package.cpath
local L = dofile(loops_file)
local run
if mode == "decline" then
  local gd = require("invite").guardduty.client{ region = "us-east-1", endpoint = arg[7],
    credentials = { access_key_id = arg[8], secret_access_key = arg[9] } }
  run = function(k) L.decline_loop(gd, k, { arg[10], arg[11] }) end
else
  run = function(k) L.sign_loop(k, arg[8], arg[9]) end
end
run(warmup)
L.settle()
local rss0, heap0 = L.rss_kb(), collectgarbage("count")
run(n)
L.settle()
io.write(("%d %d %.0f %.0f\n"):format(rss0, L.rss_kb(), heap0, collectgarbage("count")))
]==]

local shq, write_file = sim.shell_quote, sim.write_file

local function interpreter() return interp.LUA, interp.CPATH end

describe("memory", function()
  local tmp, loops_file, child_file
  local L

  setup(function()
    tmp = os.tmpname()
    loops_file, child_file = tmp .. ".loops.lua", tmp .. ".child.lua"
    write_file(loops_file, LOOPS)
    write_file(child_file, CHILD)
    L = dofile(loops_file)
  end)
  teardown(function()
    os.remove(tmp); os.remove(loops_file); os.remove(child_file)
  end)

  -- Runs a loop in a fresh interpreter; returns rss_before, rss_after, heap_before, heap_after.
  local function child(mode, n, warmup, extra)
    local lua, cpath = interpreter()
    local root = sim.ROOT
    local cmd = { "env -u LD_PRELOAD", lua, shq(child_file), shq(root), shq(root .. "/" .. cpath), shq(loops_file),
                  mode, n, warmup }
    for _, a in ipairs(extra) do cmd[#cmd + 1] = shq(a) end
    local p = assert(io.popen(table.concat(cmd, " ") .. " 2>&1", "r"))
    local out = p:read("*a")
    local ok = p:close()
    local a, b, c, d = out:match("^(%d+) (%d+) (%d+) (%d+)\n$")
    assert(ok and a, "the " .. mode .. " loop failed: " .. out)
    return tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  end

  local function judge(what, before, after, heap0, heap1)
    print(("# memory: %s in a fresh %s: VmRSS %d kB after warm-up, %d kB after the loop (growth %d kB, "
      .. "bound %d kB); Lua heap %d -> %d kB"):format(what, (interpreter()), before, after, after - before,
      BOUND_KB, heap0, heap1))
    assert.is_true(after - before < BOUND_KB, ("%s: VmRSS grew by %d kB (%d -> %d), bound %d kB")
      :format(what, after - before, before, after, BOUND_KB))
  end

  describe("with the simulator", function()
    local s
    setup(function() s = sim.start{ fixtures = fixture() } end)
    teardown(function() if s then s:stop() end end)

    it(("%d decline_invitations calls over keep-alive stay within the RSS bound"):format(CALLS), function()
      s:clear_requests()
      local before, after, heap0, heap1 = child("decline", CALLS, WARMUP,
        { s.endpoint, KEY.id, KEY.secret, inviter(1), UNINVITED })
      -- every call reached the simulator and succeeded, on one or two kept-alive connections
      local log = s:requests()
      assert.are.equal(WARMUP + CALLS, #log)
      local conns, n = {}, 0
      for _, e in ipairs(log) do
        assert.are.equal("DeclineInvitations", e.operation)
        assert.are.equal(200, e.status)
        if not conns[e.conn] then conns[e.conn] = true; n = n + 1 end
      end
      assert.is_true(n <= 2, ("%d connections for %d calls: keep-alive is not working"):format(n, #log))
      judge(("%d decline_invitations calls"):format(CALLS), before, after, heap0, heap1)
    end)

    it("a shorter decline loop in this process checks every call and leaves the Lua heap as it was", function()
      local gd = invite.guardduty.client{ region = REGION, endpoint = s.endpoint,
        credentials = { access_key_id = KEY.id, secret_access_key = KEY.secret } }
      local ids = { inviter(2), UNINVITED }
      L.decline_loop(gd, 200, ids)
      L.settle()
      local heap0 = collectgarbage("count")
      L.decline_loop(gd, 1000, ids)
      L.settle()
      local heap1 = collectgarbage("count")
      print(("# memory: 1000 decline_invitations calls in this process: Lua heap %.0f -> %.0f kB"):format(heap0, heap1))
      assert.is_true(heap1 - heap0 < 64, ("the Lua heap grew by %.0f kB"):format(heap1 - heap0))
    end)
  end)

  it(("%d signatures (one key, and a new secret every 10th) stay within the RSS bound"):format(SIGNINGS), function()
    local hits0, misses0 = sigv4.cache_stats()
    local before, after, heap0, heap1 = child("sign", SIGNINGS, WARMUP, { "-", KEY.id, KEY.secret })
    judge(("%d signatures"):format(SIGNINGS), before, after, heap0, heap1)
    -- a shorter loop here: every signature made, the new secrets derived (cache misses)
    L.sign_loop(2000, KEY.id, KEY.secret)
    local hits, misses = sigv4.cache_stats()
    assert.are.equal(2000, (hits - hits0) + (misses - misses0))
    assert.is_true(misses - misses0 >= 200, "the new secrets were not derived")
  end)
end)
