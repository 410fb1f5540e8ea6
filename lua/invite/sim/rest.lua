-- invite.sim.rest: what the three rest-json services (macie2, securityhub, guardduty) share:
-- routing by method and path, JSON responses, each service's error style, the front door's
-- authentication errors (and front_door for the rest-json modules in their own style: Account,
-- Detective), fault responses, streamed list answers, pagination tokens and the invitation operations
-- themselves, parameterised by each service's member names and wording (see macie2.lua,
-- securityhub.lua, guardduty.lua).
local util = require "invite.sim.util"

local _M = {}

local ipairs, pairs, type, tonumber, format, floor, concat = ipairs, pairs, type, tonumber, string.format, math.floor,
  table.concat

---------------------------------------------------------------------------------------------------
-- Responses
---------------------------------------------------------------------------------------------------

function _M.json(status, tbl, rid, raw)
  return {
    status = status,
    headers = { { "Content-Type", "application/json" }, { "x-amzn-RequestId", rid } },
    body = raw or util.json_encode(tbl or {}),
  }
end

-- A service error in the service's own style (svc.error_style(code, message, status) returns the
-- x-amzn-ErrorType header value and the body table).
function _M.error(svc, status, code, message, rid, extra_headers)
  local header, body = svc.error_style(code, message, status)
  local res = _M.json(status, body, rid)
  res.headers[#res.headers + 1] = { "x-amzn-ErrorType", header }
  for _, h in ipairs(extra_headers or {}) do res.headers[#res.headers + 1] = h end
  res.error_code = code
  return res
end

-- Authentication failures come from AWS's front door, the same for every rest-json service:
-- x-amzn-ErrorType plus {"message": ...} (lower case, even for Security Hub).
local AUTH = {
  missing = { 403, "MissingAuthenticationTokenException" },
  incomplete = { 400, "IncompleteSignatureException" },
  unknown_key = { 403, "UnrecognizedClientException" },
  bad_token = { 403, "UnrecognizedClientException" },
  expired_token = { 403, "ExpiredTokenException" },
  expired_sig = { 403, "InvalidSignatureException" },
  signature = { 403, "InvalidSignatureException" },
}
_M.AUTH = AUTH

function _M.auth_error(svc, failure, rid)
  local m = AUTH[failure.kind] or AUTH.signature
  local res = _M.json(m[1], { message = failure.message }, rid)
  local suffix = svc and svc.auth_error_suffix or ""
  res.headers[#res.headers + 1] = { "x-amzn-ErrorType", m[2] .. suffix }
  res.error_code = m[2]
  return res
end

-- Injected faults that replace the response (throttle, 500, 503).
function _M.fault(svc, kind, retry_after, rid)
  local extra = retry_after and { { "Retry-After", tostring(retry_after) } } or nil
  if kind == "throttle" then
    return _M.error(svc, 429, svc.throttle_code, svc.throttle_message or "Rate exceeded", rid, extra)
  elseif kind == "500" then
    return _M.error(svc, 500, svc.internal_code, svc.internal_message or "Internal server error", rid, extra)
  else
    return _M.error(svc, 503, "ServiceUnavailableException", "Service unavailable, please retry", rid, extra)
  end
end

--- Gives a rest-json module answering in its own style (`mod`, with mod.error(status, code, message,
-- rid, extra_headers)) the hooks invite.sim calls: mod.auth_error(failure, rid) (the front door's
-- table above), mod.fault(kind, retry_after, rid) (_M.fault in the style `style`: error_style,
-- throttle_code, internal_code and their messages) and mod.operation(req) (_M.route over `routes`).
function _M.front_door(mod, style, routes)
  function mod.auth_error(failure, rid) return _M.auth_error(nil, failure, rid) end
  function mod.fault(kind, retry_after, rid) return _M.fault(style, kind, retry_after, rid) end
  function mod.operation(req) return _M.route(routes, req.method, req.path) end
end

---------------------------------------------------------------------------------------------------
-- Routing
---------------------------------------------------------------------------------------------------

-- routes: list of { method, pattern (Lua pattern with captures, anchored), operation, names of
-- the captures }. Returns operation, params.
function _M.route(routes, method, path)
  for _, r in ipairs(routes) do
    if r[1] == method then
      local caps = { path:match(r[2]) }
      if caps[1] ~= nil then
        local params = {}
        for i, name in ipairs(r[4] or {}) do params[name] = util.percent_decode(caps[i]) end
        return r[3], params
      end
    end
  end
  return nil
end

---------------------------------------------------------------------------------------------------
-- Streaming: a long list answer (the bigpage fault) sent a few hundred entries at a time
---------------------------------------------------------------------------------------------------

--- Makes `res` stream `prefix`, then entry(1) .. entry(n) separated by commas, then "]}", 400
-- entries a chunk, with an exact Content-Length (every entry is `width` bytes long).
function _M.stream_list(res, prefix, n, width, entry)
  local i = 0
  res.body = nil
  res.length = #prefix + n * width + (n - 1) + 2
  res.stream = function()
    if i >= n then
      if i == n then i = n + 1; return "]}" end
      return nil
    end
    local out, k = {}, 0
    if i == 0 then k = 1; out[1] = prefix end
    local stop = i + 400 < n and i + 400 or n
    while i < stop do
      i = i + 1
      k = k + 1
      out[k] = entry(i)
      if i < n then k = k + 1; out[k] = "," end
    end
    return concat(out)
  end
  return res
end

---------------------------------------------------------------------------------------------------
-- Pagination: opaque tokens that bind to (service, region, account, list) and carry the last
-- inviter returned, so pages stay correct when invitations are removed between calls.
---------------------------------------------------------------------------------------------------

function _M.encode_token(kind, service, region, account, after)
  return util.b64(format("invite-sim/1\n%s\n%s\n%s\n%s\n%s", kind, service, region, account, after))
end

function _M.decode_token(token, kind, service, region, account)
  local raw = util.unb64(token)
  if not raw then return nil end
  local k, s, r, a, after = raw:match("^invite%-sim/1\n([^\n]*)\n([^\n]*)\n([^\n]*)\n([^\n]*)\n([^\n]*)$")
  if not k or k ~= kind or s ~= service or r ~= region or a ~= account then return nil end
  return after
end

-- A JSON body's page size (MaxResults, maxResults): nil when absent or null, the number when it is a
-- whole number from 1 to `max`, else false and the AWS validation message for member maxResults
-- (Account's and Detective's words; RAM has its own).
function _M.body_max_results(v, max)
  if v == nil or v == util.null then return nil end
  if type(v) ~= "number" or v ~= floor(v) or v < 1 or v > max then
    return false, "1 validation error detected: Value '" .. tostring(v) .. "' at 'maxResults' failed to satisfy "
      .. "constraint: Member must have value between 1 and " .. max
  end
  return v
end

-- Reads maxResults/nextToken from the query. Returns limit, after (or nil when starting), or nil,
-- error response.
function _M.page_params(ctx, kind, max_name, token_name, max)
  local q = ctx.query
  local limit = max
  local raw = q[max_name]
  if raw ~= nil then
    local n = tonumber(raw)
    if not n or n ~= floor(n) or n < 1 or n > max then
      return nil, ctx.validation(format("%s must be an integer from 1 to %d", max_name, max))
    end
    limit = n
  end
  local after
  local tok = q[token_name]
  if tok ~= nil and tok ~= "" then
    after = _M.decode_token(tok, kind, ctx.service, ctx.region, ctx.account)
    if not after then return nil, ctx.validation(format("The %s is not valid for this request", token_name)) end
  end
  return limit, after
end

-- One page of `items` (sorted by key(item)) after the key `after`.
function _M.page(items, key, limit, after)
  local out = {}
  local last
  local i = 1
  if after then
    while items[i] and key(items[i]) <= after do i = i + 1 end
  end
  while items[i] and #out < limit do
    out[#out + 1] = items[i]
    last = key(items[i])
    i = i + 1
  end
  local more = items[i] ~= nil
  return out, more and last or nil
end

---------------------------------------------------------------------------------------------------
-- The invitation operations, shared by the three services. `svc.names` holds the member names
-- (see macie2.lua); `svc.words` the wording of unprocessed results.
---------------------------------------------------------------------------------------------------

local function invitation_json(svc, rec)
  local n = svc.names
  local t = { [n.inv_account] = rec.inviter, [n.inv_status] = rec.status }
  if rec.id then t[n.inv_id] = rec.id end
  if rec.invited_at then
    local iso = rec.invited_at_iso
    if not iso then
      iso = util.iso8601(rec.invited_at, true)
      rec.invited_at_iso = iso
    end
    t[n.inv_at] = iso
  end
  return t
end
_M.invitation_json = invitation_json

-- Reads and checks the account ID list of Decline/DeleteInvitations. Returns the list or nil, error.
local function account_ids(svc, ctx)
  local n = svc.names
  local body = ctx.body
  local ids = body[n.ids]
  if ids == nil or ids == util.null then return nil, ctx.validation(svc.words.ids_required) end
  if type(ids) ~= "table" then return nil, ctx.validation(svc.words.ids_type) end
  local count = 0
  for k, v in pairs(ids) do
    if type(k) ~= "number" or type(v) ~= "string" then return nil, ctx.validation(svc.words.ids_type) end
    count = count + 1
  end
  if svc.check_ids then
    local ok, err = svc.check_ids(ids, ctx)
    if not ok then return nil, err end
  end
  ctx.log_ids = ids
  return ids
end

local function unprocessed_entry(svc, id, why)
  local n = svc.names
  local t = { [n.un_account] = id }
  local w = svc.words[why] or svc.words.not_found
  if n.un_code then
    t[n.un_code] = w[1]
    t[n.un_message] = w[2]
  else
    t[n.un_result] = w
  end
  return t
end

function _M.decline_or_delete(svc, ctx, which)
  local ids, err = account_ids(svc, ctx)
  if not ids then return err end
  local unprocessed = {}
  local seen = {}
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      local ok, why
      if svc.valid_id and not svc.valid_id(id) then
        ok, why = nil, "invalid_id"
      else
        ok, why = ctx.state[which](ctx.state, ctx.service, ctx.region, ctx.account, id)
      end
      if not ok then unprocessed[#unprocessed + 1] = unprocessed_entry(svc, id, why) end
    end
  end
  return ctx.ok({ [svc.names.unprocessed] = util.array(unprocessed) })
end

function _M.list_invitations(svc, ctx)
  local n = svc.names
  local limit, after = _M.page_params(ctx, "invitations", n.max, n.token, svc.max_results)
  if not limit then return after end
  local items = ctx.state:list(ctx.service, ctx.region, ctx.account)
  local page, last = _M.page(items, function(r) return r.inviter end, limit, after)
  local out = {}
  -- Each invitation's JSON is kept with the record (per service, redone when its status
  -- changes): listing is the hot path of every client benchmark.
  for i, rec in ipairs(page) do
    local cache = rec.json_cache
    if not cache then
      cache = {}
      rec.json_cache = cache
    end
    local c = cache[svc.name]
    if not c or c.status ~= rec.status then
      c = { status = rec.status, json = util.json_encode(invitation_json(svc, rec)) }
      cache[svc.name] = c
    end
    out[i] = c.json
  end
  -- keys in sorted order, as json_encode would write them
  local body = util.json_string(n.invitations) .. ":[" .. table.concat(out, ",") .. "]"
  if last then
    body = body .. "," .. util.json_string(n.token) .. ":"
      .. util.json_string(_M.encode_token("invitations", ctx.service, ctx.region, ctx.account, last))
  end
  return ctx.ok_raw("{" .. body .. "}")
end

function _M.count(svc, ctx)
  return ctx.ok({ [svc.names.count] = ctx.state:count(ctx.service, ctx.region, ctx.account) })
end

function _M.get_administrator(svc, ctx, member)
  local rec = ctx.state:administrator(ctx.service, ctx.region, ctx.account)
  if not rec then return ctx.ok({}) end
  return ctx.ok({ [member] = invitation_json(svc, rec) })
end

function _M.disassociate(_, ctx)
  ctx.state:disassociate(ctx.service, ctx.region, ctx.account)
  return ctx.ok({})
end

-- inviter may be nil (macie2 by invitation ID). Errors are mapped by svc.accept_error(why, ctx).
function _M.accept(svc, ctx, inviter, invitation_id)
  ctx.log_ids = inviter and { inviter } or nil
  local rec, why = ctx.state:accept(ctx.service, ctx.region, ctx.account, inviter, invitation_id)
  if not rec then return svc.accept_error(why, ctx) end
  ctx.log_ids = { rec.inviter }
  return ctx.ok({})
end

-- The request body as JSON (an empty body is {}). Returns the table or nil, error response.
function _M.body(svc, ctx)
  local raw = ctx.req.body or ""
  if raw:find("^%s*$") then return {} end
  local t = util.json_decode(raw)
  if type(t) ~= "table" then return nil, ctx.validation(svc.words.bad_json) end
  return t
end

-- Builds the per-request context the operations use. ctx.ok(tbl) / ctx.validation(msg) /
-- ctx.fail(status, code, msg) produce responses in the service's style.
function _M.context(svc, base)
  local ctx = base
  local rid = base.rid
  ctx.ok = function(tbl) return _M.json(200, tbl, rid) end
  ctx.ok_raw = function(body) return _M.json(200, nil, rid, body) end
  ctx.fail = function(status, code, msg) return _M.error(svc, status, code, msg, rid) end
  ctx.validation = function(msg)
    return _M.error(svc, svc.validation_status or 400, svc.validation_code, msg, rid)
  end
  return ctx
end

-- Runs one operation of a rest-json service for an authenticated caller.
function _M.dispatch(svc, ctx)
  ctx = _M.context(svc, ctx)
  if svc.disabled_error and ctx.state:is_disabled(ctx.service, ctx.region, ctx.account) then
    return svc.disabled_error(ctx)
  end
  if ctx.req.method == "POST" then
    local body, err = _M.body(svc, ctx)
    if not body then return err end
    ctx.body = body
  else
    ctx.body = {}
  end
  local _, q = util.parse_query(ctx.req.query)
  ctx.query = q
  local op = svc.ops[ctx.operation]
  return op(ctx)
end

return _M
