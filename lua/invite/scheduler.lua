--- Cooperative scheduler: runs tasks as coroutines and multiplexes their HTTP
-- requests over the transport's concurrent (curl multi) interface, so N scopes
-- with latency L cost about L, not N*L. Within one task, calls stay ordered.
--
-- A task does I/O through `scheduler.request(http, req)` and `scheduler.sleep(s)`:
-- inside a task they yield to the scheduler; anywhere else they block, so the
-- same client code works with and without a scheduler.
--
-- Inside nginx (ngx_lua, in a phase where cosockets yield) `run` uses light
-- threads (ngx.thread.spawn/wait) with the same concurrency cap, `sleep` is
-- ngx.sleep and `request` calls the handle directly: the cosocket transport
-- yields to nginx by itself. The curl multi loop below is used only outside.
-- @module invite.scheduler
local _M = { _VERSION = "0.1.0" }

local coroutine, setmetatable, select, type, error = coroutine, setmetatable, select, type, error
local unpack = table.unpack or unpack -- luacheck: ignore 143

local core -- loaded on first use, never at require time

local function get_core()
  if not core then core = require "invite.core" end
  return core
end

-- coroutine -> true for coroutines that are tasks of a running scheduler
local tasks_of = setmetatable({}, { __mode = "k" })

--- True when the running coroutine is a scheduler task (its I/O will yield).
function _M.in_task()
  local co = coroutine.running()
  return co ~= nil and tasks_of[co] == true
end

--- Send one request through `http` (a core.http_new handle).
-- Yields to the scheduler inside a task, blocks otherwise.
-- @return res or nil, err as `http:request` does
function _M.request(http, req)
  local co = coroutine.running()
  if co ~= nil and tasks_of[co] == true then -- _M.in_task(), inlined: this runs per request
    return coroutine.yield("http", http, req)
  end
  return http:request(req)
end

-- the ngx table when running in an ngx_lua phase that can yield, else nil
local function in_nginx()
  if rawget(_G, "ngx") == nil then return nil end -- no nginx: no need to load invite.cosocket
  return require("invite.cosocket").yieldable()
end

--- Sleep `seconds`: yields inside a task (or to nginx), blocks otherwise.
function _M.sleep(seconds)
  if not seconds or seconds <= 0 then return end
  local ngx = in_nginx()
  if ngx then
    ngx.sleep(seconds)
    return
  end
  if _M.in_task() then
    coroutine.yield("sleep", seconds)
    return
  end
  get_core().sleep(seconds)
end

local function pack(...) return { n = select("#", ...), ... } end

local function task_result(r)
  if r[1] then
    local out = { ok = true, n = r.n - 1 }
    for i = 2, r.n do out[i - 1] = r[i] end
    return out
  end
  return { ok = false, error = r[2] }
end

-- ngx_lua: up to `concurrency` light threads, each taking the next task in turn.
local function run_ngx(ngx, tasks, concurrency)
  local results, next_task, n = {}, 1, #tasks
  for i = 1, n do
    if type(tasks[i]) ~= "function" then error("scheduler.run: task " .. i .. " is not a function", 3) end
  end
  local function worker()
    while next_task <= n do
      local i = next_task
      next_task = i + 1
      results[i] = task_result(pack(pcall(tasks[i])))
    end
  end
  local threads = {}
  for _ = 1, math.min(concurrency, n) do
    local ok, th = pcall(ngx.thread.spawn, worker)
    if not ok or not th then
      -- cannot spawn here: finish the rest in this thread
      if #threads == 0 then worker() end
      break
    end
    threads[#threads + 1] = th
  end
  for i = 1, #threads do
    local ok, err = ngx.thread.wait(threads[i])
    if not ok then error("scheduler.run: light thread failed: " .. tostring(err), 3) end
  end
  return results
end

--- Run `tasks` (an array of functions) with at most `opts.concurrency` running at once.
-- @return an array, one entry per task in order: `{ok = true, n, ...values}` or
--   `{ok = false, error = message}` when the task raised.
function _M.run(tasks, opts)
  if type(tasks) ~= "table" then error("scheduler.run: tasks must be an array of functions", 2) end
  opts = opts or {}
  local concurrency = opts.concurrency or 8
  if type(concurrency) ~= "number" or concurrency < 1 then
    error("scheduler.run: concurrency must be a number >= 1", 2)
  end
  local ngx = in_nginx()
  if ngx then return run_ngx(ngx, tasks, concurrency) end
  local c = get_core()
  local now = c.monotime

  local results = {}
  local next_task, running = 1, 0
  local ready = {}        -- queue of { entry, pack(values to resume with) }
  local inflight = {}     -- http handle -> { [id] = entry }
  local handles = {}      -- array of http handles with transfers in flight
  local sleepers = {}     -- array of { at = deadline, entry = entry }

  local function finish(entry, r)
    running = running - 1
    if r[1] then
      local out = { ok = true, n = r.n - 1 }
      for i = 2, r.n do out[i - 1] = r[i] end
      results[entry.index] = out
    else
      results[entry.index] = { ok = false, error = r[2] }
    end
  end

  local function dispatch(entry, r)
    -- r: pack(coroutine.resume(...)); the task yielded a command or ended
    if not r[1] or coroutine.status(entry.co) == "dead" then
      return finish(entry, r)
    end
    local op = r[2]
    if op == "http" then
      local http, req = r[3], r[4]
      local id, err = http:start(req)
      if not id then
        ready[#ready + 1] = { entry, pack(nil, err) }
        return
      end
      local map = inflight[http]
      if not map then
        map = {}
        inflight[http] = map
        handles[#handles + 1] = http
      end
      map[id] = entry
    elseif op == "sleep" then
      sleepers[#sleepers + 1] = { at = now() + r[3], entry = entry }
    else
      -- a yield that is not ours: end the task with a clear error rather than hang
      finish(entry, { false, "scheduler: task yielded an unknown value (" .. tostring(op) .. ")", n = 2 })
    end
  end

  local function start_tasks()
    while running < concurrency and next_task <= #tasks do
      local fn = tasks[next_task]
      if type(fn) ~= "function" then error("scheduler.run: task " .. next_task .. " is not a function", 3) end
      local co = coroutine.create(fn)
      tasks_of[co] = true
      running = running + 1
      ready[#ready + 1] = { { co = co, index = next_task }, pack() }
      next_task = next_task + 1
    end
  end

  local function run_ready()
    while #ready > 0 do
      local batch = ready
      ready = {}
      for i = 1, #batch do
        local entry, args = batch[i][1], batch[i][2]
        dispatch(entry, pack(coroutine.resume(entry.co, unpack(args, 1, args.n))))
      end
      start_tasks()
    end
  end

  local function wake_sleepers()
    local t, keep = now(), {}
    local nearest
    for i = 1, #sleepers do
      local s = sleepers[i]
      if s.at <= t then
        ready[#ready + 1] = { s.entry, pack() }
      else
        keep[#keep + 1] = s
        if not nearest or s.at < nearest then nearest = s.at end
      end
    end
    sleepers = keep
    return nearest and (nearest - t) or nil
  end

  start_tasks()
  while true do
    run_ready()
    if running == 0 and next_task > #tasks then break end
    local until_sleeper = wake_sleepers()
    if #ready == 0 then
      local active = {}
      for i = 1, #handles do
        local h = handles[i]
        if next(inflight[h]) ~= nil then active[#active + 1] = h else inflight[h] = nil end
      end
      handles = active
      if #handles == 0 then
        if until_sleeper then c.sleep(until_sleeper) end
      else
        -- wait on the handles in turn; with one handle (the common case) this blocks
        -- until a transfer ends or the nearest sleeper is due
        local budget = until_sleeper and math.max(0, until_sleeper) or 1
        local per = (#handles == 1) and budget or math.min(budget, 0.005)
        for i = 1, #handles do
          local h = handles[i]
          local done = h:wait(math.floor(per * 1000 + 0.5))
          local map = inflight[h]
          for j = 1, #done do
            local d = done[j]
            local entry = map[d.id]
            if entry then
              map[d.id] = nil
              ready[#ready + 1] = { entry, pack(d.res, d.err) }
            end
          end
        end
      end
      wake_sleepers()
    end
  end
  return results
end

return _M
