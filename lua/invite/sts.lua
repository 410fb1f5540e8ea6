-- invite.sts: the STS calls of the credential chain and the policy runner, as functions over the
-- sts client (invite.services.sts on the one request pipeline: query protocol, signing, retries,
-- error parsing and classification are the client's, as for every service).
--
--   sts.assume_role{ role_arn=, role_session_name=, external_id=, duration_seconds=,
--                    serial_number=, token_code=, policy=,
--                    credentials = provider | {access_key_id=, secret_access_key=, session_token=},
--                    region=, endpoint=, http= | transport=, env=, home=, profile=, sign_time=,
--                    timeout_ms=, max_attempts=, sleep=, random= }
--   sts.assume_role_with_web_identity{ role_arn=, role_session_name=, web_identity_token=,
--                    duration_seconds=, policy=, region=, endpoint=, ... }   (unsigned, like botocore)
--     -> { credentials = { access_key_id, secret_access_key, session_token, expiration (epoch) },
--          assumed_role_user = { arn, assumed_role_id }, request_id } | nil, err
--   sts.client{...}  the sts client itself (boto3 names: assume_role{RoleArn = ...},
--                    assume_role_with_web_identity{...}, get_caller_identity{}), as
--                    require("invite").sts.client{...}
--
-- The endpoint is opts.endpoint, else the STS configuration (AWS_ENDPOINT_URL_STS,
-- AWS_ENDPOINT_URL, the profile, FIPS, regional or legacy STS endpoints; a client's endpoint for
-- another service is never used); with no region at all the global https://sts.amazonaws.com,
-- signed for us-east-1. Signing uses the real time (opts.sign_time for tests), not the credential
-- provider's clock, which a caller may move to exercise expiry. The functions send what they are
-- given (STS judges the values; only role_arn, web_identity_token and duration_seconds are
-- checked here) and keep STS's former retry schedule: a fixed 0.1 s before the second attempt,
-- doubling after (opts.random replaces the fixed factor with jitter). Errors are STS's code,
-- status and request id with the message "sts <Operation>: <STS's message>".
--
-- XML is read by invite.xml: lua-expat (`lxp`) when it is installed, else its small strict reader.
-- sts.parse_xml(xml, how) gives the flat map "A/B/C" -> text of a document (how = "lxp" |
-- "builtin" | nil), sts.xml_backend() the reader in use.

local common = require "invite.credentials.common"
local xml = require "invite.xml"
local is_integer = require("invite.validate").is_integer

local _M = {}

local type, tostring, tonumber, require = type, tostring, tonumber, require
local floor = math.floor
local new_error = common.new_error

---------------------------------------------------------------------------------------------
-- XML
---------------------------------------------------------------------------------------------

local function flat(root, why)
  if not root then return nil, why end
  return xml.flatten(root)
end

--- parse_xml(xml, how) ; how = "lxp" | "builtin" | nil (lxp when available)
function _M.parse_xml(s, how) return flat(xml.parse(s, how)) end

function _M.xml_backend() return xml.backend() end

---------------------------------------------------------------------------------------------
-- The client
---------------------------------------------------------------------------------------------

--- A client of STS (invite.client; the options of every client).
function _M.client(opts) return require("invite.client").new("sts", opts) end

-- The settings of the functions' options that the client takes, under the same names.
local PASSED = { "region", "endpoint", "profile", "env", "home", "config_file", "credentials_file", "shared",
  "sts_regional_endpoints", "use_fips_endpoint", "use_dualstack_endpoint", "allow_http", "max_attempts",
  "retry_mode", "sleep", "random", "verify", "ca_bundle", "connect_timeout_ms", "max_body_bytes", "user_agent" }

-- STS's former retry schedule: 0.1 s, 0.2 s, 0.4 s ... (the pipeline's delay is random() * 2^(n-1))
local function fixed_jitter() return 0.1 end

local function client_for(o, credentials)
  local c = {}
  for i = 1, #PASSED do
    local k = PASSED[i]
    c[k] = o[k]
  end
  c.transport = o.http or o.transport
  c.timeout_ms = o.timeout_ms or 10000
  c.clock = o.sign_time
  c.random = c.random or fixed_jitter
  c.credentials = credentials
  return _M.client(c)
end

-- credentials as a provider or a plain table -> a table of keys | nil, err
local function source_credentials(c)
  if type(c) ~= "table" then
    return nil, new_error("NoCredentials", "sts: no source credentials to sign AssumeRole with")
  end
  if type(c.get) == "function" then
    local ok, a, s, t = c:get()
    if not ok then return nil, a end
    return { access_key_id = a, secret_access_key = s, session_token = t }
  end
  local a = c.access_key_id or c.access_key
  local s = c.secret_access_key or c.secret_key
  if not a or not s then
    return nil, new_error("NoCredentials", "sts: source credentials need access_key_id and secret_access_key")
  end
  return { access_key_id = a, secret_access_key = s, session_token = c.session_token }
end

-- One call through the sts client -> its result | nil, err (STS's, with the operation in the message).
local function call(key, action, params, o, credentials)
  local c = client_for(o, credentials)
  local cfg, cerr = c:config()
  if not cfg then
    cerr.service = nil -- a configuration error (a bad endpoint, a broken file) says what it is itself
    return nil, cerr
  end
  local res, err = c:send_built(key, params)
  if res then return res end
  err.service, err.operation = nil, nil
  err.message = ("sts %s: %s"):format(action, tostring(err.message))
  return nil, err
end

local function credentials_from(res, action)
  local c = res.Credentials
  if type(c) ~= "table" or not c.AccessKeyId or not c.SecretAccessKey or not c.SessionToken or not c.Expiration then
    return nil, new_error("InvalidResponse", ("sts %s: the response has no complete Credentials element")
      :format(action))
  end
  local expiration = common.parse_iso8601(c.Expiration)
  if not expiration then
    return nil, new_error("InvalidResponse", ("sts %s: Expiration is not an ISO 8601 time"):format(action))
  end
  local user = res.AssumedRoleUser or {}
  return {
    credentials = { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey,
                    session_token = c.SessionToken, expiration = expiration },
    assumed_role_user = { arn = user.Arn, assumed_role_id = user.AssumedRoleId },
    request_id = res.ResponseMetadata.RequestId,
  }
end

---------------------------------------------------------------------------------------------
-- The functions
---------------------------------------------------------------------------------------------

--- DurationSeconds on the wire: a whole number of seconds (a number or a numeric string, of any
-- Lua number subtype: cjson's 3600.0 is "3600") -> its decimal string; nil for anything else.
function _M.whole_seconds(v)
  local n = tonumber(v)
  -- invite.validate's integer test (either subtype, finite, no fraction), within what %d can print
  if not is_integer(n) or n >= 2 ^ 53 or n <= -2 ^ 53 then return nil end
  return string.format("%d", n)
end

local function check_common(o, fn)
  if type(o) ~= "table" then error(fn .. ": expects a table of options", 3) end
  if type(o.role_arn) ~= "string" or o.role_arn == "" then error(fn .. ": role_arn is required", 3) end
  if o.duration_seconds ~= nil and not _M.whole_seconds(o.duration_seconds) then
    error(fn .. ": duration_seconds must be a whole number of seconds, got " .. tostring(o.duration_seconds), 3)
  end
end


local function session_name(o)
  local clock = o.clock or common.default_clock
  return o.role_session_name or ("invite-session-" .. floor(clock()))
end

function _M.assume_role(o)
  check_common(o, "sts.assume_role")
  local params = {
    RoleArn = o.role_arn, RoleSessionName = session_name(o), ExternalId = o.external_id,
    SerialNumber = o.serial_number, TokenCode = o.token_code, Policy = o.policy,
  }
  -- checked whole (check_common); the query builder writes an integer member as one
  if o.duration_seconds ~= nil then params.DurationSeconds = tonumber(o.duration_seconds) end
  local credentials, cerr = source_credentials(o.credentials)
  if not credentials then return nil, cerr end
  local res, err = call("assume_role", "AssumeRole", params, o, credentials)
  if not res then return nil, err end
  return credentials_from(res, "AssumeRole")
end

function _M.assume_role_with_web_identity(o)
  check_common(o, "sts.assume_role_with_web_identity")
  if type(o.web_identity_token) ~= "string" or o.web_identity_token == "" then
    error("sts.assume_role_with_web_identity: web_identity_token is required", 2)
  end
  local params = {
    RoleArn = o.role_arn, RoleSessionName = session_name(o), WebIdentityToken = o.web_identity_token,
    Policy = o.policy,
  }
  -- checked whole (check_common); the query builder writes an integer member as one
  if o.duration_seconds ~= nil then params.DurationSeconds = tonumber(o.duration_seconds) end
  local res, err = call("assume_role_with_web_identity", "AssumeRoleWithWebIdentity", params, o, nil)
  if not res then return nil, err end
  return credentials_from(res, "AssumeRoleWithWebIdentity")
end

return _M
