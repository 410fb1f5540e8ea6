-- invite.credentials.env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
-- (or the older AWS_SECURITY_TOKEN, which botocore reads first), AWS_CREDENTIAL_EXPIRATION - botocore's EnvProvider.
-- The variables are read on every fetch; with AWS_CREDENTIAL_EXPIRATION set the credentials
-- are treated as temporary and re-read from the environment when they near expiry.

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"

local _M = {}

local getenv, new_error = common.getenv, common.new_error

function _M.fetch_from(opts)
  local ak = getenv(opts, "AWS_ACCESS_KEY_ID")
  if not ak then
    return nil, provider.not_found("environment", "AWS_ACCESS_KEY_ID is not set")
  end
  local sk = getenv(opts, "AWS_SECRET_ACCESS_KEY")
  if not sk then
    -- botocore: PartialCredentialsError, which stops the chain
    return nil, new_error("PartialCredentials",
      "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
  end
  -- botocore accepts both names and looks at AWS_SECURITY_TOKEN first; keep its order
  local token = getenv(opts, "AWS_SECURITY_TOKEN") or getenv(opts, "AWS_SESSION_TOKEN")
  local exp
  local exp_s = getenv(opts, "AWS_CREDENTIAL_EXPIRATION")
  if exp_s then
    exp = common.parse_iso8601(exp_s)
    if not exp then
      return nil, new_error("InvalidConfiguration",
        "environment: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time")
    end
  end
  return { access_key_id = ak, secret_access_key = sk, session_token = token, expiration = exp,
           source = "environment" }
end

function _M.new(opts)
  opts = opts or {}
  return provider.new("environment", function() return _M.fetch_from(opts) end, opts)
end

return _M
