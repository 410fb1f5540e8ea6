-- Single-flight credential refresh: while one scope's refresh (an AssumeRole, say) is in
-- flight, the account's other scopes wait for it instead of failing with a retryable
-- RefreshInProgress and backing off.
--   (1) invite.scheduler: wait(key, timeout) parks a task until signal(key) or its timeout; a
--       run whose only live tasks are parked wakes them ("deadlock") instead of hanging;
--   (2) invite.credentials.provider under the scheduler: 50 tasks, one fetch, everyone gets its
--       result (keys, the fetch's own error, or a non-retryable RefreshTimeout when it is stuck);
--   (3) inside nginx (light threads, ngx.semaphore): the same;
--   (4) invite.run over 20 accounts x 3 services x 4 regions at concurrency 64 against the
--       simulator with latency: one AssumeRole per account, no retry, every invitation declined.
local scheduler = require "invite.scheduler"
local provider = require "invite.credentials.provider"
local common = require "invite.credentials.common"

local SECRET = "single/flight/spec/secret/0123456789abcdef"

describe("scheduler.wait / scheduler.signal", function()
  it("parks tasks on a key until it is signalled, then wakes every one of them", function()
    local key, woken, signalled = {}, {}, nil
    local tasks = {}
    for i = 1, 10 do
      tasks[i] = function()
        local ok, why = scheduler.wait(key, 5)
        woken[#woken + 1] = { ok = ok, why = why }
      end
    end
    tasks[11] = function()
      scheduler.sleep(0.02)
      signalled = scheduler.signal(key)
    end
    local results = scheduler.run(tasks, { concurrency = 11 })
    for i = 1, 11 do assert.is_true(results[i].ok, tostring(results[i].error)) end
    assert.are.equal(10, signalled)
    assert.are.equal(10, #woken)
    for _, w in ipairs(woken) do assert.are.same({ ok = true }, w) end
    assert.are.equal(0, scheduler.signal(key)) -- nobody left parked
  end)

  it("wakes a parked task by its timeout when nothing signals it", function()
    local key = {}
    local results = scheduler.run({
      function() return scheduler.wait(key, 0.02) end,
      function() scheduler.sleep(0.2); return scheduler.signal(key) end,
    }, { concurrency = 2 })
    assert.are.same({ ok = true, n = 2, nil, "timeout" }, results[1])
    assert.are.same({ ok = true, n = 1, 0 }, results[2]) -- the timed-out task is no longer parked
  end)

  it("does not hang when only parked tasks remain: nothing could signal them", function()
    local results = scheduler.run({
      function() return scheduler.wait("never", 30) end,
      function() return scheduler.wait("never") end,
    }, { concurrency = 2 })
    assert.are.same({ ok = true, n = 2, nil, "deadlock" }, results[1])
    assert.are.same({ ok = true, n = 2, nil, "deadlock" }, results[2])
    assert.are.equal(0, scheduler.signal("never"))
  end)

  it("cannot park outside a task (a blocking caller) and says so", function()
    local ok, why = scheduler.wait({}, 1)
    assert.is_nil(ok)
    assert.are.equal("not in a task", why)
    assert.is_false(scheduler.can_wait())
    local inside = scheduler.run({ function() return scheduler.can_wait() end })
    assert.is_true(inside[1][1])
  end)
end)

describe("provider:get() single-flight under the scheduler", function()
  local N = 50

  -- a provider whose fetch yields (a scheduler sleep stands in for the STS request)
  local function slow_provider(result, opts)
    local counter = { fetches = 0 }
    local p = provider.new("slow", function()
      counter.fetches = counter.fetches + 1
      scheduler.sleep(opts and opts.fetch_time or 0.05)
      return result(counter.fetches)
    end, opts)
    return p, counter
  end

  local function get_all(p, n)
    local tasks = {}
    for i = 1, n do
      tasks[i] = function()
        local ok, a, b = p:get()
        if ok then return { key = a, secret = b } end
        return { err = a }
      end
    end
    local out = {}
    for i, r in ipairs(scheduler.run(tasks, { concurrency = n })) do
      assert.is_true(r.ok, tostring(r.error))
      out[i] = r[1]
    end
    return out
  end

  it("fetches once; every concurrent caller gets the refreshed keys, none RefreshInProgress", function()
    local p, counter = slow_provider(function(n)
      return { access_key_id = "ASIAFRESH" .. n, secret_access_key = SECRET, session_token = "tok",
               expiration = os.time() + 3600, source = "slow" }
    end)
    local out = get_all(p, N)
    assert.are.equal(1, counter.fetches)
    for i = 1, N do
      assert.is_nil(out[i].err and out[i].err.code, "task " .. i .. ": " .. tostring(out[i].err))
      assert.are.same({ key = "ASIAFRESH1", secret = SECRET }, out[i])
    end
  end)

  it("gives every concurrent caller the fetch's own error (not retryable), after one fetch", function()
    local p, counter = slow_provider(function()
      return nil, common.new_error("AccessDenied", "not authorized to perform sts:AssumeRole",
        { status = 403, retryable = false })
    end)
    local out = get_all(p, N)
    assert.are.equal(1, counter.fetches)
    for i = 1, N do
      local e = out[i].err
      assert.is_table(e, "task " .. i .. " got keys")
      assert.are.equal("AccessDenied", e.code)
      assert.are.equal(403, e.status)
      assert.is_false(e.retryable)
    end
    assert.are_not.equal(out[1].err, out[2].err) -- each caller its own copy (clients annotate them)
  end)

  it("gives every caller the refresh's failure when the fetch raises, after one fetch", function()
    local counter = { fetches = 0 }
    local p = provider.new("raises", function()
      counter.fetches = counter.fetches + 1
      scheduler.sleep(0.02)
      error("source bug")
    end)
    local out = get_all(p, N)
    assert.are.equal(1, counter.fetches)
    for i = 1, N do
      assert.are.equal("CredentialsError", out[i].err and out[i].err.code)
      assert.matches("source bug", out[i].err.message)
    end
  end)

  it("ends a wait for a refresh stuck past its bound in a non-retryable RefreshTimeout", function()
    local p, counter = slow_provider(function()
      return { access_key_id = "ASIASTUCK", secret_access_key = SECRET, expiration = os.time() + 3600 }
    end, { fetch_time = 0.4, refresh_wait = 0.05 })
    local out = get_all(p, 10)
    assert.are.equal(1, counter.fetches)
    local got_keys, timeouts = 0, 0
    for i = 1, 10 do
      if out[i].key then
        got_keys = got_keys + 1
      else
        assert.are.equal("RefreshTimeout", out[i].err.code)
        assert.is_false(out[i].err.retryable)
        assert.matches("slow", out[i].err.message)
        timeouts = timeouts + 1
      end
    end
    assert.are.same({ 1, 9 }, { got_keys, timeouts })
    assert.are.equal("ASIASTUCK", select(2, p:get())) -- the refresh itself completed
  end)

  it("does not hang on a refresh suspended outside the scheduler (nothing can finish it)", function()
    local p = provider.new("foreign", function()
      coroutine.yield()
      return { access_key_id = "ASIAFOREIGN", secret_access_key = SECRET, expiration = os.time() + 3600 }
    end)
    local foreign = coroutine.create(function() return p:get() end)
    assert.is_true(coroutine.resume(foreign)) -- suspended inside the refresh
    local results = scheduler.run({ function() return p:get() end })
    local ok, err = results[1][1], results[1][2]
    assert.is_nil(ok)
    assert.are.equal("RefreshTimeout", err.code)
    assert.is_false(err.retryable)
    assert.same({ true, true, "ASIAFOREIGN", SECRET }, { coroutine.resume(foreign) })
  end)
end)

describe("the default chain's resolution is single-flight too", function()
  local envh = require "support.env"
  local credentials = require "invite.credentials"
  local cjson = require "cjson"
  after_each(function() envh.cleanup() end)

  it("resolves once (one container request) for 50 concurrent tasks, all get the keys", function()
    local e = envh.new{ AWS_EC2_METADATA_DISABLED = "true",
                        AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://127.0.0.1:1/creds" }
    local requests = 0
    local chain = credentials.chain{ env = e.vars, http = function(req)
      requests = requests + 1
      assert.are.equal("http://127.0.0.1:1/creds", req.url)
      scheduler.sleep(0.05) -- the endpoint's latency: the resolving task yields here
      return { status = 200, headers = { { "content-type", "application/json" } }, body = cjson.encode{
        AccessKeyId = "ASIACHAIN", SecretAccessKey = SECRET, Token = "tok", Expiration = "2099-01-01T00:00:00Z" } }
    end }
    local tasks = {}
    for i = 1, 50 do
      tasks[i] = function()
        local ok, a = chain:get()
        return ok and a or tostring(a and a.code)
      end
    end
    local counts = {}
    for _, r in ipairs(scheduler.run(tasks, { concurrency = 50 })) do
      local v = r.ok and r[1] or r.error
      counts[v] = (counts[v] or 0) + 1
    end
    assert.are.same({ ASIACHAIN = 50 }, counts)
    assert.are.equal(1, requests)
  end)
end)

describe("provider:get() single-flight inside nginx", function()
  local nginx = require "support.nginx"
  local core = require "invite.core"
  local cjson = require "cjson"
  local server

  setup(function()
    assert(nginx.available())
    server = nginx.start{ server = [[
      location = /get { content_by_lua_block {
        local provider = require "invite.credentials.provider"
        local scheduler = require "invite.scheduler"
        local mode = ngx.var.arg_mode
        local fetches = 0
        local p = provider.new("ngx", function()
          fetches = fetches + 1
          ngx.sleep(mode == "stuck" and 0.5 or 0.05)
          if mode == "fail" then
            return nil, { code = "AccessDenied", message = "denied", status = 403 }
          end
          return { access_key_id = "ASIANGX", secret_access_key = "s", expiration = ngx.time() + 3600 }
        end, { refresh_wait = mode == "stuck" and 0.1 or nil })
        local tasks = {}
        for i = 1, 20 do
          tasks[i] = function()
            local ok, a = p:get()
            if ok then return a end
            return a.code .. (a.retryable and " retryable" or "")
          end
        end
        local out = {}
        for i, r in ipairs(scheduler.run(tasks, { concurrency = 20 })) do out[i] = r.ok and r[1] or r.error end
        ngx.say(require("cjson").encode{ fetches = fetches, results = out })
      } }
    ]] }
  end)

  teardown(function() if server then server:stop() end end)

  local function get(mode)
    local http = core.http_new{ timeout_ms = 10000, connect_timeout_ms = 1000 }
    local res = assert(http:request{ method = "GET", url = server.url .. "/get?mode=" .. mode, headers = {} })
    assert.are.equal(200, res.status, res.body .. "\n" .. server:error_log())
    local doc = cjson.decode(res.body)
    local counts = {}
    for _, v in ipairs(doc.results) do counts[v] = (counts[v] or 0) + 1 end
    return doc.fetches, counts
  end

  it("shares one fetch among 20 light threads", function()
    local fetches, counts = get("ok")
    assert.are.equal(1, fetches)
    assert.are.same({ ASIANGX = 20 }, counts)
  end)

  it("gives every light thread the fetch's own error", function()
    local fetches, counts = get("fail")
    assert.are.equal(1, fetches)
    assert.are.same({ AccessDenied = 20 }, counts)
  end)

  it("ends a wait past its bound in a non-retryable RefreshTimeout", function()
    local fetches, counts = get("stuck")
    assert.are.equal(1, fetches)
    assert.are.same({ ASIANGX = 1, RefreshTimeout = 19 }, counts)
  end)
end)

describe("invite.run across accounts: one AssumeRole per account, no RefreshInProgress", function()
  local sim = require "support.sim"
  local invite = require "invite"
  local retry = require "invite.retry"

  local ADMIN = "111111111111"
  local ADMIN_KEY = { id = "AKIASINGLEFLIGHTADMIN1", secret = "single/flight/admin/secret/0123456789" }
  local SERVICES = { "macie2", "securityhub", "guardduty" }
  local REGIONS = { "us-east-1", "eu-west-1", "ap-south-1", "sa-east-1" }
  local INVITER = "999999999999"
  local N_ACCOUNTS = 20

  local function fixture()
    local members = {}
    for i = 1, N_ACCOUNTS do members[i] = ("2100000000%02d"):format(i) end
    return sim.org_fixture{ admin = ADMIN, key = ADMIN_KEY, inviter = INVITER, members = members,
      services = SERVICES, regions = REGIONS }
  end

  it("sweeps 20 accounts x 12 scopes at concurrency 64 with simulator latency", function()
    local fx, members = fixture()
    local s = sim.start{ fixtures = fx, faults = "always * latency=30" }
    local retries, real_run = {}, retry.run
    -- count every retry any client makes (the runner's clients take no on_retry option)
    retry.run = function(fn, opts, ...)
      if not opts._spec_counted then
        local prev = opts.on_retry
        opts.on_retry = function(err, attempt, delay)
          local code = type(err) == "table" and tostring(err.code) or tostring(err)
          retries[code] = (retries[code] or 0) + 1
          if prev then return prev(err, attempt, delay) end
        end
        opts._spec_counted = true
      end
      return real_run(fn, opts, ...)
    end
    local ok, err = pcall(function()
      local report = invite.run{
        endpoint = s.endpoint, sts_endpoint = s.endpoint,
        credentials = { access_key_id = ADMIN_KEY.id, secret_access_key = ADMIN_KEY.secret },
        accounts = members, role = "InviteManager", services = SERVICES, regions = REGIONS,
        concurrency = 64, apply = true, policy = function() return "decline", "stranger" end,
      }
      assert.are.same({}, retries)
      assert.are.same({}, report.errors)
      assert.are.equal(N_ACCOUNTS * #SERVICES * #REGIONS, #report.scopes)
      for _, sc in ipairs(report.scopes) do assert.is_nil(sc.error, sc.account .. " " .. tostring(sc.error)) end
      local outcomes = {}
      for _, r in ipairs(report.invitations) do outcomes[r.outcome] = (outcomes[r.outcome] or 0) + 1 end
      assert.are.same({ declined = #fx.invitations }, outcomes)

      local assumed = {}
      for _, r in ipairs(s:requests()) do
        if r.operation == "AssumeRole" then
          local role_account = r.account_ids and r.account_ids[1]
          assumed[role_account] = (assumed[role_account] or 0) + 1
        end
      end
      for _, id in ipairs(members) do assert.are.equal(1, assumed[id], "AssumeRole calls for " .. id) end

      local still_invited = {}
      for _, inv in ipairs(s:state().invitations) do
        if inv.status == "Invited" then still_invited[#still_invited + 1] = inv.id or inv.account end
      end
      assert.are.same({}, still_invited)
    end)
    retry.run = real_run
    s:stop()
    assert(ok, err)
  end)
end)
