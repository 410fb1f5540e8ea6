-- invite.sim.sts: AWS STS (2011-06-15, query protocol) as the simulator serves it:
-- GetCallerIdentity, AssumeRole and AssumeRoleWithWebIdentity (unsigned; the token must be listed
-- for the role in the fixture). Requests are form-encoded (Action=...&Version=...) in the body or
-- the query string; answers are XML, errors <ErrorResponse><Error><Type/><Code/><Message/>...
-- Temporary credentials (ASIA... key, secret, session token, expiration) are remembered and
-- accepted by every service until they expire.
local util = require "invite.sim.util"
local query = require "invite.sim.query"

local _M = { name = "sts", validation_code = "ValidationError" }

local format, concat, floor, tonumber = string.format, table.concat, math.floor, tonumber

local NS = "https://sts.amazonaws.com/doc/2011-06-15/"
local KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
local SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function headers(rid)
  return { { "Content-Type", "text/xml" }, { "x-amzn-RequestId", rid } }
end

local function result(action, nodes, rid)
  local out = { format('<%sResponse xmlns="%s">\n  <%sResult>\n', action, NS, action) }
  query.nodes(nodes, "    ", out)
  out[#out + 1] = format("  </%sResult>\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n"
    .. "  </ResponseMetadata>\n</%sResponse>\n", action, rid, action)
  return query.response(200, concat(out), headers(rid))
end

function _M.error(status, code, message, rid, extra_headers)
  local kind = status >= 500 and "Receiver" or "Sender"
  return query.error(status, code, format('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n'
    .. "    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n",
    NS, kind, util.xml_escape(code), util.xml_escape(message), rid), headers(rid), extra_headers)
end

local AUTH = {
  missing = { 403, "MissingAuthenticationToken", "Request is missing Authentication Token" },
  incomplete = { 400, "IncompleteSignature" },
  unknown_key = { 403, "InvalidClientTokenId" },
  bad_token = { 403, "InvalidClientTokenId" },
  expired_token = { 403, "ExpiredToken" },
  expired_sig = { 403, "SignatureDoesNotMatch" },
  signature = { 403, "SignatureDoesNotMatch" },
}

local FAULTS = {
  throttle = { 400, "Throttling", "Rate exceeded" },
  ["500"] = { 500, "InternalFailure", "An internal error occurred." },
  ["503"] = { 503, "ServiceUnavailable", "Service is unavailable. Please retry." },
}
query.front_door(_M, AUTH, FAULTS) -- _M.AUTH, _M.auth_error, _M.fault

-- Parameters from the form body (POST) and the query string.
_M.params = query.params

-- True when the request looks like a query-protocol call (so unsigned errors answer in XML).
function _M.looks_like(req)
  local p = _M.params(req)
  return p.Action ~= nil, p
end

_M.OPERATIONS = { GetCallerIdentity = true, AssumeRole = true, AssumeRoleWithWebIdentity = true }
_M.UNSIGNED = { AssumeRoleWithWebIdentity = true }

function _M.operation(req)
  return query.operation(req, _M.OPERATIONS)
end

local function validation(ctx, msg)
  return _M.error(400, "ValidationError", msg, ctx.rid)
end

local function role_id(role)
  if role.role_id then return role.role_id end
  local h = 5381
  for i = 1, #role.arn do h = (h * 33 + role.arn:byte(i)) % 2147483647 end
  return "AROA" .. util.rng(h):chars(KEY_CHARS, 17)
end

local function check_common(ctx, p)
  if not p.RoleArn or p.RoleArn == "" then
    return nil, validation(ctx, "1 validation error detected: Value null at 'roleArn' failed to satisfy "
      .. "constraint: Member must not be null")
  end
  if #p.RoleArn < 20 or #p.RoleArn > 2048 then
    return nil, validation(ctx, "1 validation error detected: Value '" .. p.RoleArn .. "' at 'roleArn' failed to "
      .. "satisfy constraint: Member must have length greater than or equal to 20")
  end
  local name = p.RoleSessionName
  if not name or name == "" then
    return nil, validation(ctx, "1 validation error detected: Value null at 'roleSessionName' failed to satisfy "
      .. "constraint: Member must not be null")
  end
  if #name < 2 or #name > 64 or not name:find("^[%w_%+=,%.@%-]+$") then
    return nil, validation(ctx, "1 validation error detected: Value '" .. name .. "' at 'roleSessionName' failed "
      .. "to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length "
      .. "between 2 and 64")
  end
  local duration = 3600
  if p.DurationSeconds then
    duration = tonumber(p.DurationSeconds)
    if not duration or duration ~= floor(duration) or duration < 900 or duration > 43200 then
      return nil, validation(ctx, "1 validation error detected: Value '" .. p.DurationSeconds .. "' at "
        .. "'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
    end
  end
  return duration
end

local function issue(ctx, role, session_name, duration, source)
  local rng = ctx.cred_rng
  local rec = {
    access_key_id = "ASIA" .. rng:chars(KEY_CHARS, 16),
    secret = rng:chars(SECRET_CHARS, 40),
    session_token = "IQoJb3JpZ2luX2VjE" .. rng:chars(SECRET_CHARS, 360),
    account = role.account, role = role.name, role_id = role_id(role), session_name = session_name,
    expiration = floor(ctx.token_now) + duration, kind = "session", source = source,
  }
  ctx.state:add_session(rec)
  return rec
end

local function credentials_nodes(rec)
  return {
    { "Credentials", {
      { "AccessKeyId", rec.access_key_id },
      { "SecretAccessKey", rec.secret },
      { "SessionToken", rec.session_token },
      { "Expiration", util.iso8601(rec.expiration) },
    } },
  }
end

local ops = {}

function ops.GetCallerIdentity(ctx)
  local p = ctx.principal
  return result("GetCallerIdentity", {
    { "Arn", p.arn }, { "UserId", p.user_id }, { "Account", p.account },
  }, ctx.rid)
end

function ops.AssumeRole(ctx)
  local p, caller = ctx.params, ctx.principal
  local duration, err = check_common(ctx, p)
  if not duration then return err end
  local role, why = ctx.state:role_by_arn(p.RoleArn)
  if not role and why == "malformed" then
    return validation(ctx, p.RoleArn .. " is invalid")
  end
  -- a role whose trust policy asks for an ExternalId (sts:ExternalId) refuses a call without it
  if not role or not role.trusted[caller.account] or (role.external_id and p.ExternalId ~= role.external_id) then
    return _M.error(403, "AccessDenied", format("User: %s is not authorized to perform: sts:AssumeRole on "
      .. "resource: %s", caller.arn, p.RoleArn), ctx.rid)
  end
  if caller.kind == "session" and duration > 3600 then
    return validation(ctx, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
      .. "role chaining.")
  end
  if duration > role.max_session_duration then
    return validation(ctx, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
  end
  ctx.log_ids = { role.account }
  local rec = issue(ctx, role, p.RoleSessionName, duration, "AssumeRole")
  local nodes = credentials_nodes(rec)
  table.insert(nodes, 1, { "AssumedRoleUser", {
    { "AssumedRoleId", rec.role_id .. ":" .. rec.session_name },
    { "Arn", format("arn:aws:sts::%s:assumed-role/%s/%s", role.account, role.name, rec.session_name) },
  } })
  return result("AssumeRole", nodes, ctx.rid)
end

function ops.AssumeRoleWithWebIdentity(ctx)
  local p = ctx.params
  local duration, err = check_common(ctx, p)
  if not duration then return err end
  local tok = p.WebIdentityToken
  if not tok or tok == "" then
    return validation(ctx, "1 validation error detected: Value null at 'webIdentityToken' failed to satisfy "
      .. "constraint: Member must not be null")
  end
  local role, why = ctx.state:role_by_arn(p.RoleArn)
  if not role and why == "malformed" then return validation(ctx, p.RoleArn .. " is invalid") end
  if not role then
    return _M.error(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", ctx.rid)
  end
  local web = role.web_identity[tok]
  if not web then
    return _M.error(400, "InvalidIdentityToken", "The web identity token that was passed could not be validated "
      .. "by AWS. Get a new identity token from the identity provider and then retry the request.", ctx.rid)
  end
  if duration > role.max_session_duration then
    return validation(ctx, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
  end
  ctx.account = role.account
  local rec = issue(ctx, role, p.RoleSessionName, duration, "AssumeRoleWithWebIdentity")
  local nodes = credentials_nodes(rec)
  table.insert(nodes, 1, { "SubjectFromWebIdentityToken", web.subject })
  table.insert(nodes, 2, { "AssumedRoleUser", {
    { "AssumedRoleId", rec.role_id .. ":" .. rec.session_name },
    { "Arn", format("arn:aws:sts::%s:assumed-role/%s/%s", role.account, role.name, rec.session_name) },
  } })
  nodes[#nodes + 1] = { "Provider", web.provider }
  nodes[#nodes + 1] = { "Audience", web.audience }
  return result("AssumeRoleWithWebIdentity", nodes, ctx.rid)
end

-- ctx: rid, state, principal (nil for unsigned calls), params, cred_rng, token_now.
function _M.dispatch(ctx)
  return ops[ctx.operation](ctx)
end

function _M.unknown_action(action, rid)
  if not action then return _M.error(400, "MissingAction", "Missing Action", rid) end
  return _M.error(400, "InvalidAction", format("Could not find operation %s for version 2011-06-15", action), rid)
end

-- A request naming no operation STS has (the simulator's hook for every service; see invite.sim).
function _M.unknown_operation(_, params, rid)
  return _M.unknown_action(params and params.Action, rid)
end

return _M
