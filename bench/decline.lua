-- bench/decline.lua - microseconds per invite.guardduty decline_invitations call on loopback.
--
--   lua5.4 bench/decline.lua time ENDPOINT [rounds] [calls]    (or: luajit bench/decline.lua ...)
--   lua5.4 bench/decline.lua rss  ENDPOINT [calls]
--   lua5.4 bench/decline.lua headers ENDPOINT      (the headers of this call, for bench/run.sh)
--
-- ENDPOINT is a local responder that answers {"unprocessedAccounts":[]} (bench/run.sh starts
-- nginx for it). One client (invite.guardduty.client, endpoint pointing at ENDPOINT, static fake
-- credentials) makes every call, so the connection is kept alive as in real use.
--
-- time: after 200 warm-up calls, `rounds` rounds of `calls` calls; prints
--   result decline-<vm> min=<us> median=<us> max=<us> rounds=<n> iterations=<n>
-- and, for the same rounds, the parts of a call on their own (so hot spots read as differences):
--   result decline-<vm>-request ...   invite.core h:request of one pre-signed request (no pipeline)
--   result decline-<vm>-sign ...      signing that request (no I/O): invite.sigv4.sign_headers when the
--                                     tree has it (what the client calls), else invite.sigv4.sign
--   result decline-<vm>-pipeline ...  per round: the call minus those two parts (the client's own
--                                     Lua work: validation, building, retry wrapper, parsing)
-- rss: makes `calls` calls and prints the process's resident set before and after them
--   (VmRSS / VmHWM from /proc/self/status, kB), for bench/run.sh's peak-RSS row:
--   rss <vm> before_rss_kb=<n> after_rss_kb=<n> hwm_kb=<n> calls=<n>
-- Every response is checked (HTTP 200, empty UnprocessedAccounts); a failed call stops the run.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local vm = (rawget(_G, "jit") and "luajit") or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. vm .. "/?.so;" .. package.cpath

local MODE, ENDPOINT = arg[1], arg[2]
if (MODE ~= "time" and MODE ~= "rss" and MODE ~= "headers") or not ENDPOINT
  or not ENDPOINT:match("^http://127%.0%.0%.1:%d+$") then
  io.stderr:write("usage: bench/decline.lua time|rss|headers http://127.0.0.1:PORT [rounds] [calls]\n")
  os.exit(2)
end

local invite = require "invite"
local CREDS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
local PARAMS = { AccountIds = { "111122223333" } }

local function status_kb()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")), tonumber(s:match("VmHWM:%s*(%d+)"))
end

local gd = invite.guardduty.client{ region = "us-east-1", endpoint = ENDPOINT, credentials = CREDS }

local function call()
  local res, err = gd:decline_invitations(PARAMS)
  if not res then error("decline_invitations failed: " .. tostring(err), 0) end
  if res.ResponseMetadata.HTTPStatusCode ~= 200 or #res.UnprocessedAccounts ~= 0 then
    error("unexpected response from " .. ENDPOINT, 0)
  end
end

-- The headers invite sends for this call, with a real signature: the signed set from
-- invite.sigv4.sign plus what the client adds (User-Agent, from a dry run of the same call).
local function request_headers()
  local dry = invite.guardduty.client{ region = "us-east-1", endpoint = ENDPOINT, credentials = CREDS, dry_run = true }
  local req = assert(dry:decline_invitations(PARAMS))
  local sigv4 = require "invite.sigv4"
  local host
  for _, h in ipairs(req.headers) do if h[1]:lower() == "host" then host = h[2] end end
  local signed = assert(sigv4.sign{
    method = "POST", path = "/invitation/decline",
    headers = { { "Host", host }, { "Content-Type", "application/json" } }, body = req.body,
    access_key = CREDS.access_key_id, secret_key = CREDS.secret_access_key, region = "us-east-1", service = "guardduty",
  })
  local out = {}
  for _, h in ipairs(signed.headers) do out[#out + 1] = h end
  for _, h in ipairs(req.headers) do
    local n = h[1]:lower()
    if n ~= "host" and n ~= "content-type" and n ~= "x-amz-date" and n ~= "authorization" then out[#out + 1] = h end
  end
  return out, req.body
end

if MODE == "headers" then -- "Name: value" lines, for bench/run.sh's bare libcurl loop
  for _, h in ipairs((request_headers())) do print(h[1] .. ": " .. h[2]) end
  os.exit(0)
end

if MODE == "rss" then
  local calls = tonumber(arg[3]) or 2000
  call() -- the first call resolves config and credentials and opens the connection
  local before = status_kb()
  for _ = 2, calls do call() end
  collectgarbage()
  local after, hwm = status_kb()
  print(("rss %s before_rss_kb=%d after_rss_kb=%d hwm_kb=%d calls=%d"):format(vm, before, after, hwm, calls))
  os.exit(0)
end

local core = require "invite.core"
local sigv4 = require "invite.sigv4"
local clock = core.monotime
local ROUNDS = tonumber(arg[3]) or 9
local CALLS = tonumber(arg[4]) or 2000

local function stats(us)
  table.sort(us)
  return us[1], us[math.floor(#us / 2) + 1], us[#us]
end

local function report(key, us)
  local mn, md, mx = stats(us)
  print(("result %s min=%.1f median=%.1f max=%.1f rounds=%d iterations=%d"):format(key, mn, md, mx, ROUNDS, CALLS))
end

-- the request a call sends, signed once, for the transport-only and sign-only rows
local host = ENDPOINT:match("^http://(.*)$")
local sign_opts = {
  method = "POST", path = "/invitation/decline",
  headers = { { "Host", host }, { "Content-Type", "application/json" } },
  body = '{"accountIds":["111122223333"]}',
  access_key = CREDS.access_key_id, secret_key = CREDS.secret_access_key,
  region = "us-east-1", service = "guardduty",
}
local raw_headers, raw_body = request_headers()
assert(raw_body == sign_opts.body, "the client sends another body than this benchmark signs")
local raw_req = { method = "POST", url = ENDPOINT .. "/invitation/decline", headers = raw_headers, body = raw_body }
local h = assert(core.http_new{ timeout_ms = 10000 })
local function raw_call()
  local res, err = h:request(raw_req)
  if not res or res.status ~= 200 then error("h:request failed: " .. tostring(err and err.message), 0) end
end
local sign = rawget(sigv4, "sign_headers") or sigv4.sign
local function sign_call() return sign(sign_opts) end

local VARIANTS = {
  { key = "decline-" .. vm, fn = call, us = {} },
  { key = "decline-" .. vm .. "-request", fn = raw_call, us = {} },
  { key = "decline-" .. vm .. "-sign", fn = sign_call, us = {} },
}
for _, v in ipairs(VARIANTS) do
  for _ = 1, 200 do v.fn() end
end
-- each round runs the variants in turn in batches of 50 calls (CALLS per variant in all), so a burst
-- of load on the machine falls on all of them alike and the per-round differences stay meaningful
local BATCH = 50
for r = 1, ROUNDS do
  collectgarbage()
  local total = {}
  for i = 1, #VARIANTS do total[i] = 0 end
  local done = 0
  while done < CALLS do
    local n = math.min(BATCH, CALLS - done)
    for i, v in ipairs(VARIANTS) do
      local fn = v.fn
      local t0 = clock()
      for _ = 1, n do fn() end
      total[i] = total[i] + (clock() - t0)
    end
    done = done + n
  end
  for i, v in ipairs(VARIANTS) do v.us[r] = total[i] * 1e6 / CALLS end
end
for _, v in ipairs(VARIANTS) do report(v.key, v.us) end
-- the client's own cost per call, round by round: the call minus its two parts measured in that round
local pipeline = {}
for r = 1, ROUNDS do pipeline[r] = VARIANTS[1].us[r] - VARIANTS[2].us[r] - VARIANTS[3].us[r] end
report("decline-" .. vm .. "-pipeline", pipeline)
h:close()
