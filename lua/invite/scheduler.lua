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
local _M = {}

local coroutine, setmetatable, select, type, error, pcall = coroutine, setmetatable, select, type, error, pcall
local unpack = table.unpack or unpack -- luacheck: ignore 143

local core -- loaded on first use, never at require time

local function get_core()
  if not core then core = require "invite.native" end
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

local function pack(...) return { n = select("#", ...), ... } end

-- Lua 5.2+ and LuaJIT yield across pcall; Lua 5.1 raises "attempt to yield across
-- metamethod/C-call boundary".
local PCALL_YIELDS = rawget(_G, "jit") ~= nil or _VERSION ~= "Lua 5.1"

--- A protected call that code running in a coroutine may yield inside, on every Lua: `pcall`
-- where pcall can yield (5.2+, LuaJIT) or outside any coroutine. In a coroutine on Lua 5.1 (a
-- scheduler task, or any other coroutine whose transport yields), `f` runs in a coroutine of its
-- own whose yields this passes up and whose resumptions it passes back down; inside a task it is
-- a task too, so I/O in it still goes through the scheduler.
-- @return as pcall: true, f's values | false, the error value
function _M.pcall(f, ...)
  if PCALL_YIELDS then return pcall(f, ...) end
  local co = coroutine.running()
  if co == nil then return pcall(f, ...) end -- the main thread: nothing to yield to
  local inner = coroutine.create(f)
  tasks_of[inner] = tasks_of[co] -- true for a task, "unyielding" inside scheduler.unyielding
  local r = pack(coroutine.resume(inner, ...))
  while coroutine.status(inner) ~= "dead" do
    r = pack(coroutine.resume(inner, coroutine.yield(unpack(r, 2, r.n))))
  end
  return unpack(r, 1, r.n)
end

--- Runs `fn(...)` so that nothing in it yields: inside a task its requests, sleeps and waits
-- block as they do outside a scheduler (`in_task()` is false meanwhile). Other tasks wait.
function _M.unyielding(fn, ...)
  local co = coroutine.running()
  if co == nil or tasks_of[co] ~= true then return fn(...) end
  tasks_of[co] = "unyielding"
  local r = pack(pcall(fn, ...))
  tasks_of[co] = true
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, r.n)
end

--- Wraps an iterator function for use in `for ... in`: unchanged where a for iterator can
-- yield (5.2+, LuaJIT). On Lua 5.1, which cannot yield from a for iterator, a call made by a
-- `for` loop runs `unyielding` (its page is fetched blocking); a direct call still yields.
function _M.iterator(fn)
  if PCALL_YIELDS then return fn end
  local getinfo = debug.getinfo
  return function(...)
    local info = getinfo(1, "n")
    if info and info.name == "(for generator)" then return _M.unyielding(fn, ...) end
    return fn(...)
  end
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

--- Monotonic seconds: ngx.now() inside nginx, invite.core's monotime elsewhere.
function _M.now()
  local ngx = in_nginx()
  if ngx then
    ngx.update_time()
    return ngx.now()
  end
  return get_core().monotime()
end

---------------------------------------------------------------------------------------------------
-- Parking on a key: wait(key, timeout) / signal(key)
--
-- A task parks with `wait(key, timeout)` until another task (or any code) calls `signal(key)`,
-- or `timeout` seconds pass: -> true when signalled, nil, "timeout", or nil, "deadlock" when
-- the scheduler found nothing else alive that could signal (every remaining task parked, no
-- transfer, no sleeper), or nil, "not in a task" for a caller that cannot yield (a blocking
-- caller outside nginx and outside a scheduler task: check `can_wait()` first). Signals are not
-- remembered: a signal with nobody parked is lost, so waiters park on a condition they recheck
-- (`while busy do wait(key, t) end`), and the code that clears the condition signals after.
-- Inside nginx the same calls use an ngx.semaphore per key (or, without lua-resty-core, a short
-- ngx.sleep poll of the key's signal count). Keys are any non-nil values (tables, strings).
---------------------------------------------------------------------------------------------------

-- key -> array of parked records of scheduler runs (outside nginx); module-wide so a signal
-- reaches tasks of any run (nested runs included)
local parked = {}
-- nginx: key -> { sem = ngx.semaphore, n = waiters } and, without ngx.semaphore, key -> count
local ngx_waits = setmetatable({}, { __mode = "k" })
local ngx_counts = setmetatable({}, { __mode = "k" })
local semaphore -- require "ngx.semaphore" or false, looked up on first use in nginx
local POLL_STEP, FOREVER = 0.005, 86400 * 7 -- (ngx.semaphore takes int milliseconds)

--- True when the caller can park with wait(): a scheduler task, or nginx code that may yield.
function _M.can_wait()
  return _M.in_task() or in_nginx() ~= nil
end

local function wait_ngx(ngx, key, timeout)
  if semaphore == nil then
    local ok, m = pcall(require, "ngx.semaphore")
    semaphore = ok and type(m) == "table" and m or false
  end
  if semaphore then
    local w = ngx_waits[key]
    if not w then
      w = { sem = semaphore.new(0), n = 0 }
      ngx_waits[key] = w
    end
    w.n = w.n + 1
    local ok, err = w.sem:wait(timeout or FOREVER)
    w.n = w.n - 1
    if w.n == 0 and ngx_waits[key] == w then ngx_waits[key] = nil end
    if ok then return true end
    return nil, err == "timeout" and "timeout" or tostring(err)
  end
  local seen = ngx_counts[key] or 0
  local deadline = ngx.now() + (timeout or FOREVER)
  while (ngx_counts[key] or 0) == seen do
    if ngx.now() >= deadline then return nil, "timeout" end
    ngx.sleep(POLL_STEP)
  end
  return true
end

--- Park the running task on `key` for at most `timeout` seconds (nil: until signalled).
-- @return true when signalled; nil, "timeout" | "deadlock" | "not in a task"
function _M.wait(key, timeout)
  if key == nil then error("scheduler.wait: key is nil", 2) end
  if timeout ~= nil and (type(timeout) ~= "number" or timeout < 0) then
    error("scheduler.wait: timeout must be a number >= 0", 2)
  end
  local ngx = in_nginx()
  if ngx then return wait_ngx(ngx, key, timeout) end
  if not _M.in_task() then return nil, "not in a task" end
  return coroutine.yield("wait", key, timeout)
end

--- Wake every task parked on `key` (they resume in the order they parked).
-- @return how many were woken (outside nginx; inside nginx, how many semaphore waiters)
function _M.signal(key)
  if key == nil then return 0 end
  local n = 0
  local list = parked[key]
  if list then
    parked[key] = nil
    for i = 1, #list do
      local rec = list[i]
      if not rec.done then
        rec.done = true
        rec.wake(true)
        n = n + 1
      end
    end
  end
  local w = ngx_waits[key]
  if w then
    ngx_waits[key] = nil -- later waiters get a fresh semaphore; this one's spare posts are dropped
    if w.n > 0 then
      w.sem:post(w.n)
      n = n + w.n
    end
  end
  if rawget(_G, "ngx") ~= nil then ngx_counts[key] = (ngx_counts[key] or 0) + 1 end
  return n
end

local function unpark(rec)
  local list = parked[rec.key]
  if not list then return end
  for i = 1, #list do
    if list[i] == rec then
      table.remove(list, i)
      break
    end
  end
  if #list == 0 then parked[rec.key] = nil end
end

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
  local waiting = {}      -- array of this run's parked records { key, at = deadline|nil, entry, done }

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
    elseif op == "wait" then
      local key, timeout = r[3], r[4]
      local rec = { key = key, at = timeout and now() + timeout or nil, entry = entry }
      rec.wake = function(ok, why) ready[#ready + 1] = { entry, pack(ok, why) } end
      local list = parked[key]
      if not list then
        list = {}
        parked[key] = list
      end
      list[#list + 1] = rec
      waiting[#waiting + 1] = rec
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

  -- wakes due sleepers and parked tasks whose timeout passed; drops signalled records.
  -- -> seconds until the next deadline (nil: none)
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
    if #waiting > 0 then
      local still = {}
      for i = 1, #waiting do
        local w = waiting[i]
        if not w.done then
          if w.at and w.at <= t then
            w.done = true
            unpark(w)
            w.wake(nil, "timeout")
          else
            still[#still + 1] = w
            if w.at and (not nearest or w.at < nearest) then nearest = w.at end
          end
        end
      end
      waiting = still
    end
    return nearest and (nearest - t) or nil
  end

  -- nothing ready, no transfer, no sleeper: no task of this run can ever signal the parked
  -- ones (and code outside the run cannot run while it blocks), so wake them rather than hang
  local function wake_deadlocked()
    for i = 1, #waiting do
      local w = waiting[i]
      if not w.done then
        w.done = true
        unpark(w)
        w.wake(nil, "deadlock")
      end
    end
    waiting = {}
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
        if #sleepers == 0 and #waiting > 0 then
          wake_deadlocked()
        elseif until_sleeper then
          c.sleep(until_sleeper)
        end
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
