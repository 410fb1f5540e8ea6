-- invite.credentials.container: ECS task roles and EKS Pod Identity (botocore's
-- ContainerProvider and ContainerMetadataFetcher).
--
--   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  -> GET http://169.254.170.2<relative uri> (ECS);
--                                             it wins when both variables are set
--   AWS_CONTAINER_CREDENTIALS_FULL_URI      -> GET that URL (EKS Pod Identity uses
--                                             http://169.254.170.23/v1/credentials); allowed:
--                                             any https:// URL, or http:// to a loopback address
--                                             (127.0.0.0/8, ::1, localhost) or to 169.254.170.2,
--                                             169.254.170.23 or fd00:ec2::23
--   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  -> its content is the Authorization header (read
--                                             on every fetch; the agent rotates it); wins over
--   AWS_CONTAINER_AUTHORIZATION_TOKEN       -> the Authorization header value
-- A token containing CR or LF is refused (botocore: "not a legal header value"). Unlike botocore
-- a single trailing newline in the token file is dropped, since `echo token > file` is common.
-- The response is JSON with AccessKeyId, SecretAccessKey, Token and Expiration, all required.
-- Each fetch tries up to 3 times, 2 s timeout each, 1 s apart (botocore's numbers); a non-200
-- status, unreadable JSON or a transport error is retried. opts.container may override:
-- { timeout_ms, attempts, sleep_s, base_url (replaces http://169.254.170.2 - tests only) }.

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"

local _M = {}

local type, tostring = type, tostring
local getenv, new_error = common.getenv, common.new_error

local ECS_HOST = "http://169.254.170.2"
local ALLOWED_HOSTS = { ["169.254.170.2"] = true, ["169.254.170.23"] = true,
                        ["fd00:ec2::23"] = true, localhost = true }

function _M.url_allowed(url)
  local u = common.parse_url(url)
  if not u then return false, "is not a URL" end
  if u.scheme == "https" then return true end
  if u.scheme ~= "http" then return false, "must be http:// or https://" end
  if common.is_loopback(u.host) or ALLOWED_HOSTS[u.host] then return true end
  return false, ("host %s is not allowed over http:// (allowed: a loopback address, "
    .. "169.254.170.2, 169.254.170.23, fd00:ec2::23, or any https:// URL)"):format(u.host)
end

-- Where to fetch from: url, label | nil (not configured) | nil, nil, err
local function target(opts)
  local c = opts.container or {}
  local rel = getenv(opts, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  if rel then
    if rel:sub(1, 1) ~= "/" then
      return nil, nil, new_error("InvalidConfiguration",
        "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'")
    end
    return (c.base_url or ECS_HOST) .. rel, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
  end
  local full = getenv(opts, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
  if full then
    local ok, why = _M.url_allowed(full)
    if not ok then
      return nil, nil, new_error("InvalidConfiguration",
        "container: AWS_CONTAINER_CREDENTIALS_FULL_URI " .. why)
    end
    return full, "AWS_CONTAINER_CREDENTIALS_FULL_URI"
  end
  return nil
end

local function auth_token(opts)
  local file = getenv(opts, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  local tok
  if file then
    local data, why = common.read_file(file, 64 * 1024)
    if not data then
      return nil, new_error("InvalidConfiguration",
        ("container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s")
        :format(file, why == "missing" and "file not found" or tostring(why)))
    end
    tok = data:gsub("\r?\n$", "")
  else
    tok = getenv(opts, "AWS_CONTAINER_AUTHORIZATION_TOKEN")
  end
  if tok and tok:find("[\r\n]") then
    return nil, new_error("InvalidConfiguration",
      "container: the authorization token contains a line break and is not a legal header value")
  end
  return tok or false
end

function _M.fetch(opts)
  local url, label, terr = target(opts)
  if terr then return nil, terr end
  if not url then
    return nil, provider.not_found("container",
      "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set")
  end
  local c = opts.container or {}
  local attempts = c.attempts or 3
  local timeout_ms = c.timeout_ms or 2000
  local sleep = c.sleep or common.sleep_fn(opts)
  local last
  for attempt = 1, attempts do
    local tok, aerr = auth_token(opts)
    if tok == nil then return nil, aerr end
    local headers = { { "Accept", "application/json" } }
    if tok then headers[#headers + 1] = { "Authorization", tok } end
    local res, herr = common.http_request(opts, { method = "GET", url = url, headers = headers,
                                                  timeout_ms = timeout_ms })
    if not res then
      last = new_error("ContainerCredentialsError", ("container (%s): %s"):format(label,
        common.transport_message(herr)), { retryable = true })
    elseif res.status ~= 200 then
      last = new_error("ContainerCredentialsError", ("container (%s): HTTP status %d from the credentials endpoint")
        :format(label, res.status), { status = res.status, retryable = true })
    else
      local cjson = require "cjson.safe"
      local doc = cjson.decode(res.body or "")
      if type(doc) ~= "table" then
        last = new_error("ContainerCredentialsError", ("container (%s): the response is not JSON"):format(label),
          { retryable = true })
      else
        for _, k in ipairs({ "AccessKeyId", "SecretAccessKey", "Token", "Expiration" }) do
          if type(doc[k]) ~= "string" or doc[k] == "" then
            return nil, new_error("ContainerCredentialsError",
              ("container (%s): %s is missing from the response"):format(label, k))
          end
        end
        local exp = common.parse_iso8601(doc.Expiration)
        if not exp then
          return nil, new_error("ContainerCredentialsError",
            ("container (%s): Expiration is not an ISO 8601 time"):format(label))
        end
        return { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
                 session_token = doc.Token, expiration = exp, source = "container (" .. label .. ")",
                 account_id = type(doc.AccountId) == "string" and doc.AccountId or nil }
      end
    end
    if attempt < attempts then sleep((c.sleep_s or 1)) end
  end
  last.message = last.message .. (" (after %d attempts)"):format(attempts)
  return nil, last
end

function _M.new(opts)
  opts = opts or {}
  return provider.new("container", function() return _M.fetch(opts) end, opts)
end

return _M
