-- invite.credentials: AWS credentials found where boto3 finds them.
--
--   local credentials = require "invite.credentials"
--   local p = credentials.chain{ profile = "audit" }       -- or credentials.chain() for defaults
--   local ok, access_key, secret_key, session_token = p:get()   -- or nil, err
--
-- Every provider has :get() -> true, access_key, secret_key, session_token | nil, err,
-- :refresh() (fetch now; the single function a lock can wrap in nginx) and :info() (where the
-- credentials came from and when they expire; never a secret). Nothing is read at require time or
-- when a provider is built; the first :get() resolves and the result is cached. Temporary
-- credentials are refreshed before they expire (see invite.credentials.provider).
--
-- The default chain, in botocore's order (the first source that yields credentials wins and is
-- kept; a source that is configured but broken stops the search with its error, as in botocore):
--   1. explicit credentials given to the client (opts.access_key_id/secret_access_key/
--      session_token, or opts.credentials = a provider or such a table)
--   2. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN - skipped when
--      the profile was given as a client option (botocore's rule: an explicit profile wins)
--   3. the profile (opts.profile, AWS_DEFAULT_PROFILE, AWS_PROFILE, "default"):
--      assume role (role_arn + source_profile / credential_source), web identity (environment
--      AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the profile's web_identity_token_file),
--      [sso: reported as unsupported], ~/.aws/credentials keys, credential_process,
--      ~/.aws/config keys
--   4. container credentials (ECS, EKS Pod Identity)
--   5. EC2 instance metadata (IMDSv2)
-- Note: web identity from the environment comes before the shared-credentials-file keys, exactly
-- as in botocore (its AssumeRoleWithWebIdentityProvider is the first profile provider).
-- When nothing is found the error (code NoCredentials) lists every place looked at, in order,
-- with the reason each gave; err.tried holds the same as { {source=, reason=}, ... }.
--
-- Options shared by the constructors: env (getenv function or table), home, profile,
-- config_file, credentials_file, http or transport (what the HTTP fetches send through, as a
-- client's transport option: a kind name, an object with :request or a request function; default
-- the clients' default kind), clock (epoch seconds), region (for STS), sts_endpoint, sign
-- (replaces invite.sigv4.sign), sleep (default the transport's, else invite.scheduler's), run
-- (credential_process runner), imds = {timeout, attempts, endpoint, endpoint_mode, v1_disabled},
-- container = {timeout_ms, attempts, sleep_s, base_url}, refresh_advisory, refresh_mandatory,
-- refresh_retry_interval, mfa_code (function(serial) -> code).

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"

local _M = {}

local type, tostring, ipairs, setmetatable, require = type, tostring, ipairs, setmetatable, require
local concat = table.concat
local new_error = common.new_error

_M.provider = provider

---------------------------------------------------------------------------------------------
-- Explicit sources
---------------------------------------------------------------------------------------------

-- static{access_key_id=, secret_access_key=, session_token=, expiration= (epoch or ISO 8601)}
function _M.static(t)
  if type(t) ~= "table" then error("credentials.static: expects a table", 2) end
  local ak = t.access_key_id or t.access_key
  local sk = t.secret_access_key or t.secret_key
  if type(ak) ~= "string" or ak == "" then error("credentials.static: access_key_id is required", 2) end
  if type(sk) ~= "string" or sk == "" then error("credentials.static: secret_access_key is required", 2) end
  local exp = t.expiration
  if exp ~= nil and type(exp) ~= "number" then
    exp = common.parse_iso8601(exp)
    if not exp then error("credentials.static: expiration must be epoch seconds or ISO 8601", 2) end
  end
  local creds = { access_key_id = ak, secret_access_key = sk, session_token = t.session_token,
                  expiration = exp, source = t.source or "static" }
  local p = provider.new("static", function()
    if creds.expiration then
      return nil, new_error("ExpiredCredentials", ("static credentials expired at %s and cannot be refreshed")
        :format(common.format_iso8601(creds.expiration)))
    end
    return creds
  end, t)
  if not exp then
    p._creds = provider.validate("static", creds)
  else
    p._creds = creds
  end
  return p
end

function _M.env(opts)
  return require("invite.credentials.env").new(opts or {})
end

function _M.process(opts)
  return require("invite.credentials.process").new(opts)
end

function _M.web_identity(opts)
  return require("invite.credentials.web_identity").new(opts or {})
end

function _M.container(opts)
  return require("invite.credentials.container").new(opts or {})
end

function _M.imds(opts)
  return require("invite.credentials.imds").new(opts or {})
end

-- assume_role{role_arn=, source = provider (default: chain(opts)), role_session_name=,
--             external_id=, duration_seconds=, mfa_serial=, mfa_code=, region=, endpoint=}
function _M.assume_role(opts)
  if type(opts) ~= "table" then error("credentials.assume_role: expects a table", 2) end
  if type(opts.role_arn) ~= "string" or opts.role_arn == "" then
    error("credentials.assume_role: role_arn is required", 2)
  end
  return require("invite.credentials.assume_role").new(opts)
end

---------------------------------------------------------------------------------------------
-- Chains
---------------------------------------------------------------------------------------------

local chain_mt = {}
chain_mt.__index = chain_mt
chain_mt.__tostring = function(c) return "invite.credentials chain (" .. tostring(c.name) .. ")" end

local function describe(tried)
  local parts = {}
  for i, t in ipairs(tried) do
    parts[i] = ("%d. %s: %s"):format(i, t.source, t.reason)
  end
  return concat(parts, "; ")
end
_M.describe_tried = describe

-- resolve: walks the providers once; keeps the first that yields.
function chain_mt:refresh()
  if self._chosen then return self._chosen:refresh() end
  if self._resolving then
    -- another task or light thread is resolving: wait for it and share its outcome
    local waited, werr = provider.await(self, "_resolving", nil, "credential resolution")
    if waited == nil then return nil, werr end
    if waited then
      if self._chosen then return true end
      if self._last_err then return nil, provider.copy_error(self._last_err) end
    end
    -- a caller that cannot wait (blocking, outside nginx and the scheduler) resolves here
  end
  self._inflight = (self._inflight or 0) + 1
  self._resolving = true
  local ok, got, err = require("invite.scheduler").pcall(self._resolve, self) -- may yield: HTTP sources
  self._inflight = self._inflight - 1
  self._resolving = self._inflight > 0
  if not ok then
    err, got = new_error("CredentialsError", "credential resolution failed: " .. tostring(got)), nil
  end
  self._last_err = not got and err or nil
  if got then self._chosen = got end
  if not self._resolving then require("invite.scheduler").signal(self) end
  if not got then return nil, err end
  return true
end

function chain_mt:get()
  if self._chosen then return self._chosen:get() end
  local ok, err = self:refresh()
  if not ok then return nil, err end
  return self._chosen:get()
end

function chain_mt:info()
  local i = self._chosen and self._chosen:info() or { cached = false }
  i.chain = self.name
  i.tried = self.tried
  return i
end

function chain_mt:invalidate()
  self._chosen = nil
end

-- builds a chain provider from a function returning the ordered providers (after `prelude`)
local function new_chain(name, ctx, prelude, list_fn)
  local c = setmetatable({ name = name, ctx = ctx }, chain_mt)
  c._resolve = function(self)
    local tried = {}
    self.tried = tried
    if prelude then
      local okp, perr = prelude(tried)
      if not okp then return nil, perr end
    end
    local providers, lerr = list_fn(tried)
    if not providers then return nil, lerr end
    -- the walk itself (first success wins, not-found reasons collected) is the profile module's
    local p, e = require("invite.credentials.profile").first(providers, tried)
    if p then return p end
    if e ~= nil then
      if type(e) ~= "table" then e = new_error("CredentialsError", tostring(e)) end
      e.tried = tried
      if #tried > 0 then
        e.message = tostring(e.message) .. " (looked at before: " .. describe(tried) .. ")"
      end
      return nil, e
    end
    return nil, new_error("NoCredentials", "no AWS credentials found; looked at, in order: " .. describe(tried),
      { tried = tried })
  end
  return c
end

-- The profile-based sources of one profile. -> chain provider
function _M.profile(opts)
  opts = opts or {}
  local ctx = common.copy(opts)
  ctx.endpoint, ctx.endpoint_url = nil, nil
  local config = require "invite.config"
  local profmod = require "invite.credentials.profile"
  local disable_env = opts.profile ~= nil and opts.profile ~= ""
  local name
  return new_chain("profile", ctx, function()
    name = config.profile(ctx)          -- read lazily: nothing is looked at before the first get()
    local p, e = config.profile_config(ctx, name)
    if not p then return nil, e end
    ctx.shared = e
    return true
  end, function()
    return profmod.providers(ctx, name, disable_env)
  end)
end

-- chain(opts) -> provider: the default chain (see the top of this file).
function _M.chain(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("credentials.chain: expects a table of options", 2) end
  -- 1. explicit credentials
  if opts.credentials ~= nil then
    local c = opts.credentials
    if type(c) == "table" and type(c.get) == "function" then return c end
    if type(c) == "table" then return _M.static(c) end
    error("credentials.chain: opts.credentials must be a provider or a table of keys", 2)
  end
  if opts.access_key_id ~= nil or opts.secret_access_key ~= nil then
    if not opts.access_key_id or not opts.secret_access_key then
      error("credentials.chain: access_key_id and secret_access_key must be given together", 2)
    end
    return _M.static{ access_key_id = opts.access_key_id, secret_access_key = opts.secret_access_key,
                      session_token = opts.session_token, source = "client options" }
  end

  local ctx = common.copy(opts)
  -- a client's endpoint options name the service's endpoint, not STS's: STS calls made by the
  -- chain use sts_endpoint or the STS endpoint configuration
  ctx.endpoint, ctx.endpoint_url = nil, nil
  local config = require "invite.config"
  local disable_env = opts.profile ~= nil and opts.profile ~= ""
  local name

  return new_chain("default", ctx, function(tried)
    name = config.profile(ctx)
    tried[#tried + 1] = { source = "client options", reason = "no access_key_id/secret_access_key given" }
    -- botocore reads the shared files (and fails on a broken one or a missing named profile)
    -- before it looks at any source
    local p, e = config.profile_config(ctx, name)
    if not p then return nil, e end
    ctx.shared = e
    return true
  end, function(tried)
    local list = {}
    if disable_env then
      tried[#tried + 1] = { source = "environment", reason = "skipped: the profile was given as a client option" }
    else
      list[#list + 1] = _M.env(ctx)
    end
    for _, p in ipairs(require("invite.credentials.profile").providers(ctx, name, disable_env)) do
      list[#list + 1] = p
    end
    list[#list + 1] = _M.container(ctx)
    list[#list + 1] = _M.imds(ctx)
    return list
  end)
end

return _M
