-- invite.scheduler: tasks as coroutines, I/O multiplexed over a handle's start/wait.
local scheduler = require "invite.scheduler"

-- A fake transport handle: every started transfer finishes at the next wait() call,
-- answering with the request's url; it records the order of starts and the peak
-- number in flight.
local function fake_http()
  local h = { started = {}, inflight = 0, peak = 0, next_id = 0, queue = {}, blocking = 0 }
  function h:start(req)
    if req.fail_start then return nil, { kind = "other", message = "setup failed" } end
    self.next_id = self.next_id + 1
    self.started[#self.started + 1] = req.url
    self.inflight = self.inflight + 1
    if self.inflight > self.peak then self.peak = self.inflight end
    self.queue[#self.queue + 1] = { id = self.next_id, res = { status = 200, body = req.url } }
    return self.next_id
  end
  function h:wait()
    local done = self.queue
    self.queue = {}
    self.inflight = self.inflight - #done
    return done
  end
  function h:request(req)
    self.blocking = self.blocking + 1
    return { status = 200, body = req.url }
  end
  return h
end

describe("invite.scheduler", function()
  it("runs every task and returns results in task order", function()
    local h = fake_http()
    local tasks = {}
    for i = 1, 5 do
      tasks[i] = function()
        local a = scheduler.request(h, { url = "t" .. i .. "/a" })
        local b = scheduler.request(h, { url = "t" .. i .. "/b" })
        return a.body .. "+" .. b.body
      end
    end
    local results = scheduler.run(tasks, { concurrency = 3 })
    for i = 1, 5 do
      assert.is_true(results[i].ok)
      assert.are.equal("t" .. i .. "/a+t" .. i .. "/b", results[i][1])
    end
    assert.are.equal(0, h.blocking)
    assert.are.equal(10, #h.started)
  end)

  it("keeps calls within a task ordered and caps concurrency", function()
    local h = fake_http()
    local tasks = {}
    for i = 1, 6 do
      tasks[i] = function()
        for k = 1, 3 do scheduler.request(h, { url = i .. ":" .. k }) end
      end
    end
    scheduler.run(tasks, { concurrency = 2 })
    assert.are.equal(2, h.peak)
    local last = {}
    for _, u in ipairs(h.started) do
      local t, k = u:match("^(%d+):(%d+)$")
      k = tonumber(k)
      assert.is_true((last[t] or 0) < k, "calls of task " .. t .. " out of order")
      last[t] = k
    end
  end)

  it("runs tasks concurrently: all first calls start before any second call", function()
    local h = fake_http()
    local tasks = {}
    for i = 1, 4 do
      tasks[i] = function()
        scheduler.request(h, { url = "first" .. i })
        scheduler.request(h, { url = "second" .. i })
      end
    end
    scheduler.run(tasks, { concurrency = 4 })
    for i = 1, 4 do assert.matches("^first", h.started[i]) end
  end)

  it("reports a task that raises without stopping the others", function()
    local h = fake_http()
    local results = scheduler.run({
      function() error("boom") end,
      function() return scheduler.request(h, { url = "ok" }).body end,
    })
    assert.is_false(results[1].ok)
    assert.matches("boom", results[1].error)
    assert.is_true(results[2].ok)
    assert.are.equal("ok", results[2][1])
  end)

  it("hands a start failure back to the task as nil, err", function()
    local h = fake_http()
    local results = scheduler.run({
      function()
        local res, err = scheduler.request(h, { url = "x", fail_start = true })
        return res, err.message
      end,
    })
    assert.is_nil(results[1][1])
    assert.are.equal("setup failed", results[1][2])
  end)

  it("sleeps inside tasks without blocking the others", function()
    local core = require "invite.core"
    local h = fake_http()
    local t0 = core.monotime()
    local tasks = {}
    for i = 1, 5 do
      tasks[i] = function()
        scheduler.sleep(0.1)
        return scheduler.request(h, { url = "after" .. i }).body
      end
    end
    local results = scheduler.run(tasks, { concurrency = 5 })
    local took = core.monotime() - t0
    for i = 1, 5 do assert.are.equal("after" .. i, results[i][1]) end
    assert.is_true(took >= 0.1, "slept " .. took)
    assert.is_true(took < 0.45, "five 0.1 s sleeps took " .. took .. " s: they ran one after another")
  end)

  it("blocks outside a task", function()
    local h = fake_http()
    assert.is_false(scheduler.in_task())
    assert.are.equal("plain", scheduler.request(h, { url = "plain" }).body)
    assert.are.equal(1, h.blocking)
  end)

  it("rejects misuse", function()
    assert.has_error(function() scheduler.run("x") end)
    assert.has_error(function() scheduler.run({}, { concurrency = 0 }) end)
    assert.has_error(function() scheduler.run({ 42 }) end)
  end)
end)

-- Lua 5.1 cannot yield across pcall or from a for iterator; LuaJIT and 5.2+ can. These must hold
-- on every Lua (make check runs the suite under each).
describe("invite.scheduler yields through protected calls and for loops", function()
  it("scheduler.pcall: a task's protected call still yields (the other task runs meanwhile)", function()
    local order = {}
    local results = scheduler.run({
      function()
        local ok, v = scheduler.pcall(function(x)
          scheduler.sleep(0.05)
          order[#order + 1] = "a"
          return x * 2, "two"
        end, 21)
        return ok, v
      end,
      function() order[#order + 1] = "b" end,
    }, { concurrency = 2 })
    assert.are.same({ "b", "a" }, order)
    assert.are.same({ ok = true, n = 2, true, 42 }, results[1])
  end)

  it("scheduler.pcall: returns false and the error value, after yielding, and the task goes on", function()
    local e = {}
    local results = scheduler.run({ function()
      local ok1, m1 = scheduler.pcall(function() scheduler.sleep(0.01); error("boom", 0) end)
      local ok2, m2 = scheduler.pcall(function() scheduler.sleep(0.01); error(e) end)
      local ok3, n3 = scheduler.pcall(function()
        return select("#", scheduler.pcall(function() scheduler.sleep(0.01); return nil, nil end))
      end)
      return ok1, m1, ok2, m2 == e, ok3, n3
    end })
    assert.are.same({ ok = true, n = 6, false, "boom", false, true, true, 3 }, results[1])
  end)

  it("scheduler.pcall: a coroutine that is not a task may yield inside it too", function()
    local co = coroutine.create(function()
      return scheduler.pcall(function(a) local b = coroutine.yield("out", a); return a + b end, 1)
    end)
    assert.are.same({ true, "out", 1 }, { coroutine.resume(co) })
    assert.are.same({ true, true, 11 }, { coroutine.resume(co, 10) })
  end)

  it("scheduler.iterator: a for loop over an iterator that does I/O works inside a task", function()
    local h = fake_http()
    local results = scheduler.run({ function()
      local n = 0
      local got = {}
      for body in scheduler.iterator(function()
        n = n + 1
        if n > 3 then return nil end
        return scheduler.request(h, { url = "p" .. n }).body
      end) do got[#got + 1] = body end
      return table.concat(got, ",")
    end })
    assert.are.same({ ok = true, n = 1, "p1,p2,p3" }, results[1])
  end)

  it("a paginator in a for loop inside a task walks every page (client:paginate)", function()
    local invite = require "invite"
    local pages = 0
    local t = { kind = "pages", request = function()
      scheduler.sleep(0.001) -- a transport that yields inside a task
      pages = pages + 1
      local next_token = pages < 3 and (',"NextToken":"t' .. pages .. '"') or ""
      return { status = 200, headers = {}, body = '{"Invitations":[{"AccountId":"11112222333' .. pages .. '"}]'
        .. next_token .. "}" }
    end }
    local c = invite.securityhub.client{ region = "us-east-1", endpoint = "http://127.0.0.1:1", transport = t,
      credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "x" } }
    local results = scheduler.run({
      function()
        local ids = {}
        for page, err in c:paginate("list_invitations", {}) do
          assert(page, tostring(err))
          ids[#ids + 1] = page.Invitations[1].AccountId
        end
        pages = 0
        local all = assert(c:list_all_invitations{})
        return table.concat(ids, ","), #all
      end,
    })
    assert.is_true(results[1].ok, tostring(results[1].error))
    assert.are.equal("111122223331,111122223332,111122223333", results[1][1])
    assert.are.equal(3, results[1][2])
  end)
end)
