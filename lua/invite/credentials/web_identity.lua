-- invite.credentials.web_identity: STS AssumeRoleWithWebIdentity with a token read from a file
-- (EKS IRSA, GitHub Actions OIDC, ...). botocore's AssumeRoleWithWebIdentityProvider.
--
-- Settings: role_arn, web_identity_token_file, role_session_name (optional; default
-- "invite-session-<epoch>"), duration_seconds (optional). The token file is read again on
-- every refresh because its issuer rotates it. The request is not signed (STS does not need
-- credentials for this call).

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"

local _M = {}

local type, tostring = type, tostring
local new_error = common.new_error

-- fetch(settings, opts) -> creds | nil, err ; settings = {role_arn, token_file, role_session_name,
-- duration_seconds, label}
function _M.fetch(s, opts)
  local label = s.label or "web identity"
  local token, why = common.read_file(s.token_file, 1024 * 1024)
  if not token then
    return nil, new_error("InvalidConfiguration", ("%s: cannot read the web identity token file %s: %s")
      :format(label, s.token_file, why == "missing" and "file not found" or tostring(why)))
  end
  token = token:gsub("%s+$", "")
  if token == "" then
    return nil, new_error("InvalidConfiguration", ("%s: the web identity token file %s is empty")
      :format(label, s.token_file))
  end
  local sts = require "invite.sts"
  local so = common.copy(opts)
  so.role_arn = s.role_arn
  so.role_session_name = s.role_session_name
  so.duration_seconds = s.duration_seconds
  so.web_identity_token = token
  so.endpoint = opts.sts_endpoint
  local res, err = sts.assume_role_with_web_identity(so)
  if not res then
    err.message = label .. ": " .. tostring(err.message)
    return nil, err
  end
  local c = res.credentials
  c.source = ("%s (AssumeRoleWithWebIdentity %s)"):format(label, s.role_arn)
  return c
end

-- new{role_arn=, web_identity_token_file=, role_session_name=, duration_seconds=, region=,
--     sts_endpoint=, http=, clock=, env=...} -> provider
function _M.new(opts)
  if type(opts) ~= "table" then error("credentials.web_identity: expects a table", 2) end
  local getenv = common.getenv
  local s = {
    role_arn = opts.role_arn or getenv(opts, "AWS_ROLE_ARN"),
    token_file = opts.web_identity_token_file or getenv(opts, "AWS_WEB_IDENTITY_TOKEN_FILE"),
    role_session_name = opts.role_session_name or getenv(opts, "AWS_ROLE_SESSION_NAME"),
    duration_seconds = opts.duration_seconds,
    label = opts.label,
  }
  return provider.new("web identity", function()
    if not s.token_file then
      return nil, provider.not_found("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
    end
    if not s.role_arn then
      return nil, new_error("InvalidConfiguration",
        "web identity: a token file is configured but no role ARN (AWS_ROLE_ARN or role_arn)")
    end
    return _M.fetch(s, opts)
  end, opts)
end

return _M
