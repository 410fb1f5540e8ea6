-- bench/require.lua - what `require "invite"` (and the first client) costs inside a fresh process.
--
--   lua5.4 bench/require.lua [runs]        (or: luajit bench/require.lua [runs])
--
-- Starts `runs` fresh interpreters of the same kind (`<interp> bench/require.lua --child`); each
-- measures, with os.clock (CPU time of the process: load on a shared machine adds little to it),
--   require "invite"                                   -> require
--   require("invite").guardduty.client{...} after it  -> client (the first client construction,
--                                                         where modules that require defers load)
-- and prints the milliseconds; this parent prints, over the runs,
--   result require-<vm>-require min=<ms> median=<ms> max=<ms> rounds=<runs> iterations=1
--   result require-<vm>-client  ...
-- bench/run.sh times whole processes separately (build/bench/spawn); this is the in-process part.
local vm = (rawget(_G, "jit") and "luajit") or _VERSION:match("%d+%.%d+")

if arg[1] == "--child" then
  package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
  package.cpath = "build/" .. vm .. "/?.so;" .. package.cpath
  local clock = os.clock
  local t0 = clock()
  local invite = require "invite"
  local t1 = clock()
  local c = invite.guardduty.client{ region = "us-east-1" }
  local t2 = clock()
  assert(c, "no client")
  io.write(("%.4f %.4f\n"):format((t1 - t0) * 1e3, (t2 - t1) * 1e3))
  os.exit(0)
end

local RUNS = tonumber(arg[1]) or 20
local interp = vm == "luajit" and "luajit" or ("lua" .. vm)
local req, cli = {}, {}
for i = 1, RUNS do
  local p = assert(io.popen("env -u LD_PRELOAD " .. interp .. " bench/require.lua --child", "r"))
  local out = p:read("*a")
  p:close()
  local a, b = out:match("^(%S+) (%S+)")
  if not a then
    io.stderr:write("bench/require.lua: child ", i, " printed: ", out, "\n")
    os.exit(1)
  end
  req[i], cli[i] = tonumber(a), tonumber(b)
end
for _, v in ipairs({ { "require", req }, { "client", cli } }) do
  local t = v[2]
  table.sort(t)
  print(("result require-%s-%s min=%.2f median=%.2f max=%.2f rounds=%d iterations=1"):format(vm, v[1], t[1],
    t[math.floor(#t / 2) + 1], t[#t], RUNS))
end
