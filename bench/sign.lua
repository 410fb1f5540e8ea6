-- bench/sign.lua - nanoseconds per SigV4 signature from Lua, beside the C-only floor.
--
--   lua5.4 bench/sign.lua [rounds] [iterations] [--no-floor]      (or: luajit bench/sign.lua)
--
-- Signs a GuardDuty DeclineInvitations request (POST /invitation/decline, Host, Content-Type,
-- JSON body) with invite.sigv4.sign, with and without a session token, and prints
-- min/median/max ns per signature over several rounds. In the same run it starts
-- build/bench/sign_floor (bench/sign_floor.c linked with src/sigv4.c: sigv4_sign in a C loop)
-- so the Lua binding's cost reads as the difference. If that binary is missing or older than
-- its sources it is compiled here (the same command as the Makefile rule build/bench/sign_floor
-- would run; --no-floor skips it). Target: <= 1200 ns per signature from Lua, no token.
-- Besides the table, one machine-readable line per variant for bench/run.sh:
--   result sign-<vm>-<variant> min=<ns> median=<ns> max=<ns> rounds=<n> iterations=<n>
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local vm = (jit and "luajit") or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. (vm == "luajit" and "luajit" or vm) .. "/?.so;" .. package.cpath

local sigv4 = require "invite.sigv4"
local core = require "invite.core"
local clock = core.monotime

local ROUNDS = tonumber(arg and arg[1]) or 9
local ITERS = tonumber(arg and arg[2]) or 20000
local NO_FLOOR = arg and arg[3] == "--no-floor"
local TARGET_NS = 1200
local FLOOR = "build/bench/sign_floor"

local TOKEN = "FwoGZXIvYXdzEBYaDExampleSessionTokenValue0123456789abcdefghijklmnopqrstuvwxyz+/"
  .. "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz+/ABCDEFGHIJKLMNOP=="

local function opts(token)
  return {
    method = "POST", path = "/invitation/decline",
    headers = { { "Host", "guardduty.us-east-1.amazonaws.com" }, { "Content-Type", "application/json" } },
    body = '{"accountIds":["111122223333"]}',
    access_key = "AKIDEXAMPLE", secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    session_token = token, region = "us-east-1", service = "guardduty", time = 1440938160,
  }
end

local function stats(ns)
  table.sort(ns)
  return ns[1], ns[math.floor(#ns / 2) + 1], ns[#ns]
end

local function measure(fn)
  for _ = 1, 2000 do fn() end -- warm up (key cache, arena, JIT)
  local ns = {}
  for r = 1, ROUNDS do
    collectgarbage()
    local t0 = clock()
    for _ = 1, ITERS do fn() end
    ns[r] = (clock() - t0) * 1e9 / ITERS
  end
  return stats(ns)
end

local function file_exists(p)
  local f = io.open(p, "rb")
  if f then f:close() return true end
  return false
end

local function run_floor()
  -- (re)build when missing or older than its sources
  local fresh = file_exists(FLOOR) and os.execute("test " .. FLOOR .. " -nt src/sigv4.c -a " .. FLOOR
    .. " -nt src/sigv4.h -a " .. FLOOR .. " -nt bench/sign_floor.c")
  if not (fresh == true or fresh == 0) then
    os.execute("mkdir -p build/bench")
    local cc = "cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Werror=implicit-function-declaration"
      .. " -O2 -Isrc -o " .. FLOOR
      .. " bench/sign_floor.c src/sigv4.c -lcrypto"
    io.stderr:write("bench/sign.lua: building the C floor: ", cc, "\n")
    local ok = os.execute(cc)
    if not (ok == true or ok == 0) then return nil end
  end
  local p = io.popen("env -u LD_PRELOAD " .. FLOOR .. " " .. ROUNDS .. " " .. ITERS, "r")
  if not p then return nil end
  local res = {}
  for line in p:lines() do
    local name, mn, md, mx = line:match("^floor (%S+) min=(%d+) median=(%d+) max=(%d+)")
    if name then res[name] = { tonumber(mn), tonumber(md), tonumber(mx) } end
  end
  p:close()
  return res
end

local function row(label, mn, md, mx, key)
  print(("%-44s min %6.0f  median %6.0f  max %6.0f  ns/signature"):format(label, mn, md, mx))
  if key then
    print(("result %s min=%.0f median=%.0f max=%.0f rounds=%d iterations=%d"):format(key, mn, md, mx, ROUNDS,
      ITERS))
  end
end

print(("invite.sigv4 sign benchmark (%s, %d rounds x %d signatures)"):format(vm == "luajit" and "LuaJIT"
  or ("Lua " .. vm), ROUNDS, ITERS))

-- time the right thing: this request's signature is the one botocore gives (spec/core/sigv4_spec.lua)
local o_plain, o_token = opts(nil), opts(TOKEN)
assert(sigv4.sign(o_plain).signature == "dd6d5c74f53db1465edeb9b834d886e7e73d7e61bbb8b760b35b6e446f9b3388")

local sign = sigv4.sign
local mn, md, mx = measure(function() return sign(o_plain) end)
row("Lua sign(), no token", mn, md, mx, "sign-" .. vm .. "-no-token")
local lua_median = md
mn, md, mx = measure(function() return sign(o_token) end)
row("Lua sign(), session token", mn, md, mx, "sign-" .. vm .. "-token")
mn, md, mx = measure(function() return sign(opts(nil)) end)
row("Lua sign(), no token, opts table built per call", mn, md, mx, "sign-" .. vm .. "-no-token-fresh-opts")

-- sign_headers(): only the headers to send (what the service clients use), when this tree has it;
-- its Authorization must be the one sign() gives
local sign_headers = rawget(sigv4, "sign_headers")
if sign_headers then
  local function authorization(list)
    for _, h in ipairs(list) do if h[1]:lower() == "authorization" then return h[2] end end
  end
  assert(authorization(sign_headers(o_plain)) == sign(o_plain).authorization, "sign_headers disagrees with sign")
  assert(authorization(sign_headers(o_token)) == sign(o_token).authorization, "sign_headers disagrees with sign")
  mn, md, mx = measure(function() return sign_headers(o_plain) end)
  row("Lua sign_headers(), no token", mn, md, mx, "sign-" .. vm .. "-headers-no-token")
  mn, md, mx = measure(function() return sign_headers(o_token) end)
  row("Lua sign_headers(), session token", mn, md, mx, "sign-" .. vm .. "-headers-token")
end

if not NO_FLOOR then -- bench/run.sh runs the floor once itself
  local floor = run_floor()
  if floor and floor["no-token"] then
    local unpack = table.unpack or unpack -- luacheck: ignore 143
    row("C floor (sigv4_sign loop), no token", unpack(floor["no-token"]))
    row("C floor (sigv4_sign loop), session token", unpack(floor["token"]))
    print(("Lua binding overhead (median, no token): %.0f ns"):format(lua_median - floor["no-token"][2]))
  else
    print("C floor: not available (could not build " .. FLOOR .. ")")
  end
end
print(("target: <= %d ns per signature from Lua without a token: %s (median %.0f ns)"):format(TARGET_NS,
  lua_median <= TARGET_NS and "met" or "MISSED", lua_median))
