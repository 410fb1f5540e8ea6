-- invite_nginx: request handlers and a periodic sweep for running invite inside nginx (ngx_lua).
-- Used by examples/nginx/nginx.conf and by spec/nginx/nginx_spec.lua.
--
-- Everything here runs in cosocket-capable phases (content_by_lua, ngx.timer), where invite
-- picks its cosocket transport and ngx light threads by itself: no call blocks the worker.
-- Requiring this module does no I/O, so it may be required in init_by_lua.
--
-- Configuration comes from the environment (each variable needs an `env NAME;` directive in
-- the main context of nginx.conf, or Lua does not see it):
--   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION ...
--   INVITE_ENDPOINT   send every call there (e.g. the simulator, http://127.0.0.1:PORT)
--   INVITE_REGIONS    comma-separated regions to sweep (default: AWS_REGION)
local cjson = require "cjson.safe"

local _M = {}

local getenv, tostring, type = os.getenv, tostring, type

-- One credential chain per worker (each nginx worker has its own Lua VM, so this module-level
-- value is per worker): resolved on the first call, cached, refreshed by one light thread while
-- the others wait (invite.credentials.provider).
local creds
function _M.credentials()
  if not creds then creds = require("invite.credentials").chain{} end
  return creds
end

local function endpoint()
  local e = getenv("INVITE_ENDPOINT")
  if e and e ~= "" then return e end
  return nil
end

local function regions()
  local r = getenv("INVITE_REGIONS") or getenv("AWS_REGION") or getenv("AWS_DEFAULT_REGION") or "us-east-1"
  local out = {}
  for name in r:gmatch("[^,%s]+") do out[#out + 1] = name end
  return out
end

-- A client of `service`; transport "cosocket" or "curl" may be forced with `transport`.
function _M.client(service, region, transport)
  return require("invite")[service].client{
    region = region or regions()[1], endpoint = endpoint(), credentials = _M.credentials(),
    transport = transport,
  }
end

local function err_table(err)
  if type(err) ~= "table" then return { message = tostring(err) } end
  return { code = err.code, message = err.message, status = err.status, retryable = err.retryable,
           request_id = err.request_id }
end

local function reply(status, t)
  local ngx = _G.ngx
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
  return ngx.exit(status)
end

-- GET /list?service=guardduty[&region=][&transport=]: every invitation of that service.
function _M.list()
  local args = _G.ngx.req.get_uri_args()
  local c = _M.client(args.service or "guardduty", args.region, args.transport)
  local res, err = c:list_all_invitations{}
  if not res then return reply(502, { error = err_table(err), transport = c.transport_kind }) end
  return reply(200, { transport = c.transport_kind, invitations = res })
end

-- POST /decline?service=guardduty&account=111122223333[,...]: decline those invitations.
function _M.decline()
  local args = _G.ngx.req.get_uri_args()
  local service = args.service or "guardduty"
  local ids = {}
  for id in tostring(args.account or ""):gmatch("%d+") do ids[#ids + 1] = id end
  local c = _M.client(service, args.region, args.transport)
  local key = service == "macie2" and "accountIds" or "AccountIds"
  local res, err = c:decline_invitations{ [key] = ids }
  if not res then return reply(502, { error = err_table(err), transport = c.transport_kind }) end
  return reply(200, { transport = c.transport_kind, result = res })
end

-- The policy the examples run: decline every invitation, delete those older than 30 days.
_M.policy = {
  decide = function(inv)
    if inv.age_days and inv.age_days > 30 then return "decline_and_delete", "stale stranger" end
    return "decline", "not our organisation"
  end,
}

-- Runs the policy once. -> report
function _M.sweep(apply)
  return require("invite.runner").run{
    policy = _M.policy, regions = regions(), endpoint = endpoint(), credentials = _M.credentials(),
    apply = apply == true, concurrency = 8,
  }
end

-- GET /policy[?apply=1]: runs the policy, answers with the report as JSON.
function _M.policy_handler()
  local args = _G.ngx.req.get_uri_args()
  local report = _M.sweep(args.apply == "1" or args.apply == "true")
  return reply(200, report)
end

-- Periodic sweep: ngx.timer.every from init_worker_by_lua. The last report is kept per worker
-- (GET /last-sweep shows it). Run it in one worker only (ngx.worker.id() == 0) so N workers do
-- not sweep N times.
_M.last_sweep = nil
function _M.start_sweeper(interval, apply)
  local ngx = _G.ngx
  if ngx.worker.id() ~= nil and ngx.worker.id() ~= 0 then return true end
  local function tick(premature)
    if premature then return end
    local ok, report = pcall(_M.sweep, apply)
    if ok then
      _M.last_sweep = { at = ngx.now(), totals = report.totals, errors = report.errors, count = (_M.last_sweep
        and _M.last_sweep.count or 0) + 1 }
      ngx.log(ngx.INFO, "invite sweep: ", report.totals.invitations, " invitations, ", #report.errors, " errors")
    else
      ngx.log(ngx.ERR, "invite sweep failed: ", tostring(report))
    end
  end
  -- a first sweep right away, then every `interval` seconds
  local ok, err = ngx.timer.at(0, tick)
  if not ok then return nil, err end
  return ngx.timer.every(interval, tick)
end

function _M.last_sweep_handler()
  return reply(200, _M.last_sweep or { count = 0 })
end

return _M
