-- bench/sim.lua - requests per second that `invite sim` serves: signed requests over keep-alive.
--
--   lua5.4 bench/sim.lua [seconds per scenario] [sim interpreter]   (e.g. 3 luajit)
--
-- Starts the simulator on the example organisation, then for each scenario keeps C requests in
-- flight through invite.core's libcurl client (h:start / h:wait, one keep-alive connection per
-- slot) for a few seconds. Each request is signed with invite.sigv4 (a fresh X-Amz-Date each
-- second, as a real client would) and fully verified by the simulator. Prints per scenario:
-- requests/s (wall clock) and requests per CPU-second of the simulator process (its own cost,
-- read from /proc/<pid>/stat), so the number says what the simulator can serve, not what this
-- client can send. Without invite.core it falls back to one LuaSocket keep-alive connection.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
local vm = (rawget(_G, "jit") and "luajit") or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. vm .. "/?.so;" .. package.cpath

local socket = require "socket"
local sigv4 = require "invite.sigv4"
local has_core, core = pcall(require, "invite.core")

local SECONDS = tonumber(arg and arg[1]) or 2
local SIM_LUA = arg and arg[2] or "lua5.4"
local KEY = { id = "AKIASIMPROD000000001", secret = "sim/prod/secret/1/FAKEFAKEFAKEFAKEFAKEFA" }

local function start_sim()
  local h = assert(io.popen("exec env -u LD_PRELOAD " .. SIM_LUA
    .. " bin/invite sim --fixtures examples/fixtures/org.json --port 0"))
  local line = h:read("*l") or ""
  local url, pid = line:match("listening on (http://%S+) %(pid (%d+)%)")
  assert(url, "the simulator did not start: " .. line)
  return h, url, tonumber(pid)
end

-- utime + stime of a process, in seconds
local function cpu_seconds(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local stat = f:read("*l")
  f:close()
  local fields = {}
  for x in stat:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  -- after "pid (comm) ": state is field 1, utime field 12, stime field 13
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

local SCENARIOS = {
  { name = "guardduty GetInvitationsCount", service = "guardduty", method = "GET", path = "/invitation/count" },
  { name = "macie2 ListInvitations (25 items)", service = "macie2", method = "GET", path = "/invitations",
    query = "maxResults=25" },
  { name = "securityhub DeclineInvitations", service = "securityhub", method = "POST",
    path = "/invitations/decline", body = '{"AccountIds":["123456789012","210987654321"]}' },
}

local function signed(url, host, sc, now)
  local headers = { { "Host", host } }
  if sc.body then headers[2] = { "Content-Type", "application/json" } end
  local out = assert(sigv4.sign{
    method = sc.method, path = sc.path, query = sc.query or "", headers = headers, body = sc.body or "",
    access_key = KEY.id, secret_key = KEY.secret, region = "us-east-1", service = sc.service, time = now,
  })
  return { method = sc.method, url = url .. sc.path .. (sc.query and ("?" .. sc.query) or ""),
           headers = out.headers, body = sc.body }
end

local function run_curl(url, host, sc, conc)
  local h = core.http_new{ max_connections = conc, timeout_ms = 10000 }
  local now = os.time()
  local req = signed(url, host, sc, now)
  local done, errors, inflight = 0, 0, 0
  local t0 = socket.gettime()
  local stop = t0 + SECONDS
  while true do
    local t = socket.gettime()
    if t < stop then
      if os.time() ~= now then now = os.time(); req = signed(url, host, sc, now) end
      while inflight < conc do
        assert(h:start(req))
        inflight = inflight + 1
      end
    elseif inflight == 0 then
      break
    end
    for _, r in ipairs(h:wait(1000)) do
      inflight = inflight - 1
      if r.res and r.res.status == 200 then done = done + 1 else errors = errors + 1 end
    end
  end
  local elapsed = socket.gettime() - t0
  h:close()
  return done, errors, elapsed
end

local function run_socket(url, host, sc)
  local sim = require "support.sim"
  local ip, port = url:match("^http://(.-):(%d+)$")
  local c = assert(socket.connect(ip, tonumber(port)))
  local done, errors = 0, 0
  local t0 = socket.gettime()
  while socket.gettime() - t0 < SECONDS do
    local req = signed(url, host, sc, os.time())
    local lines = { sc.method .. " " .. req.url:match("^http://[^/]+(.*)$") .. " HTTP/1.1" }
    for _, hd in ipairs(req.headers) do lines[#lines + 1] = hd[1] .. ": " .. hd[2] end
    lines[#lines + 1] = "Content-Length: " .. #(sc.body or "")
    c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (sc.body or ""))
    local status = sim.read_response(c)
    if status == 200 then done = done + 1 else errors = errors + 1 end
  end
  c:close()
  return done, errors, socket.gettime() - t0
end

local handle, url, pid = start_sim()
local host = url:match("^http://(.*)$")
io.write(string.format("invite sim (%s, pid %d) at %s; client %s, %s per scenario\n", SIM_LUA, pid, url,
  has_core and "invite.core (libcurl multi)" or "LuaSocket (one connection)", SECONDS .. " s"))
io.write(string.format("%-36s %6s %12s %16s %7s\n", "scenario", "conns", "requests/s", "req/sim-CPU-s",
  "errors"))
local ok, err = pcall(function()
  for _, sc in ipairs(SCENARIOS) do
    for _, conc in ipairs(has_core and { 1, 8, 32 } or { 1 }) do
      local cpu0 = cpu_seconds(pid)
      local done, errors, elapsed
      if has_core then
        done, errors, elapsed = run_curl(url, host, sc, conc)
      else
        done, errors, elapsed = run_socket(url, host, sc)
      end
      local cpu = cpu_seconds(pid) - cpu0
      io.write(string.format("%-36s %6d %12.0f %16.0f %7d\n", sc.name, conc, done / elapsed,
        cpu > 0 and done / cpu or 0, errors))
      io.flush()
    end
  end
end)
os.execute("kill -TERM " .. pid)
handle:close()
if not ok then error(err, 0) end
