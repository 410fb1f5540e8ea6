-- invite.credentials.assume_role: STS AssumeRole with credentials from another provider.
--
-- new{ role_arn=, source = provider (default: the default chain for opts.profile),
--      role_session_name=, external_id=, duration_seconds=, mfa_serial=, mfa_code = fn(serial),
--      region=, endpoint = STS endpoint URL, http=, clock=, env=, ... } -> provider
-- The source provider is asked for credentials on each (re)fetch, so a refreshing source keeps
-- working under a long-lived role. mfa_serial needs opts.mfa_code (invite never prompts).

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"

local _M = {}

local type, tostring = type, tostring
local new_error = common.new_error

-- fetch(settings, source, opts) -> creds | nil, err
function _M.fetch(s, source, opts)
  local label = s.label or ("assume role " .. s.role_arn)
  local ok, ak, sk, tok = source:get()
  if not ok then
    local e = ak
    local msg = ("%s: the source credentials failed: %s"):format(label, tostring(e and e.message or e))
    return nil, new_error(type(e) == "table" and e.code or "NoCredentials", msg,
      { retryable = type(e) == "table" and e.retryable or false, tried = type(e) == "table" and e.tried or nil })
  end
  local token_code
  if s.mfa_serial then
    if type(opts.mfa_code) ~= "function" then
      return nil, new_error("InvalidConfiguration", ("%s: mfa_serial is set but no mfa_code function was given "
        .. "(invite does not prompt)"):format(label))
    end
    token_code = opts.mfa_code(s.mfa_serial)
    if type(token_code) ~= "string" or token_code == "" then
      return nil, new_error("InvalidConfiguration", label .. ": mfa_code returned no code")
    end
  end
  local sts = require "invite.sts"
  local so = common.copy(opts)
  so.role_arn = s.role_arn
  so.role_session_name = s.role_session_name
  so.external_id = s.external_id
  so.duration_seconds = s.duration_seconds
  so.serial_number = s.mfa_serial
  so.token_code = token_code
  so.credentials = { access_key_id = ak, secret_access_key = sk, session_token = tok }
  so.endpoint = opts.sts_endpoint or opts.endpoint
  local res, err = sts.assume_role(so)
  if not res then
    err.message = label .. ": " .. tostring(err.message)
    return nil, err
  end
  local c = res.credentials
  c.source = ("%s (AssumeRole %s)"):format(s.source_label or "explicit", s.role_arn)
  c.assumed_role_arn = res.assumed_role_user and res.assumed_role_user.arn
  return c
end

function _M.new(opts)
  if type(opts) ~= "table" or type(opts.role_arn) ~= "string" or opts.role_arn == "" then
    error("credentials.assume_role: role_arn is required", 2)
  end
  if opts.duration_seconds ~= nil and not require("invite.sts").whole_seconds(opts.duration_seconds) then
    error("credentials.assume_role: duration_seconds must be a whole number of seconds, got "
      .. tostring(opts.duration_seconds), 2)
  end
  local source = opts.source
  if source == nil then
    source = require("invite.credentials").chain(opts)
  elseif type(source) ~= "table" or type(source.get) ~= "function" then
    error("credentials.assume_role: source must be a provider (an object with :get())", 2)
  end
  local s = {
    role_arn = opts.role_arn, role_session_name = opts.role_session_name,
    external_id = opts.external_id, duration_seconds = opts.duration_seconds,
    mfa_serial = opts.mfa_serial, label = opts.label, source_label = opts.source_label,
  }
  local p = provider.new("assume role", function() return _M.fetch(s, source, opts) end, opts)
  p.source_provider = source
  return p
end

return _M
