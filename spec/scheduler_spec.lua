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
