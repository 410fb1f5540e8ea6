-- invite.credentials.profile: the credential sources that live in the shared files, in
-- botocore's order for one profile:
--   1. assume role   - role_arn with source_profile or credential_source (and no
--                      web_identity_token_file)
--   2. web identity  - AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN / AWS_ROLE_SESSION_NAME, each
--                      falling back to the profile's web_identity_token_file / role_arn /
--                      role_session_name (the environment is ignored when the profile was given
--                      as a client option, like botocore's disable_env_vars)
--   3. (SSO)         - sso_* profiles are recognised and reported as unsupported
--   4. shared credentials file - aws_access_key_id, aws_secret_access_key, aws_session_token
--                      (or aws_security_token) in [name] of ~/.aws/credentials
--   5. credential_process
--   6. config file   - the same keys in [profile name] / [default] of ~/.aws/config
-- Assume-role chains follow source_profile links (a profile may name itself as its source when
-- it also holds static keys); a loop is an error naming the profiles. credential_source is one of
-- Environment, Ec2InstanceMetadata, EcsContainer (any case).

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"
local config = require "invite.config"

local _M = {}

local type, tostring, tonumber, ipairs = type, tostring, tonumber, ipairs
local new_error, not_found = common.new_error, provider.not_found

local function has_static(p)
  return p.aws_access_key_id ~= nil or p.aws_secret_access_key ~= nil
end

local function has_role(p)
  return p.role_arn ~= nil and p.web_identity_token_file == nil
end

-- static keys from a section; label names the place. -> creds | nil, err
local function static_from(section, label, name)
  local ak = section.aws_access_key_id
  if type(ak) ~= "string" or ak == "" then
    return nil, not_found(label, ("[%s] has no aws_access_key_id"):format(name))
  end
  local sk = section.aws_secret_access_key
  if type(sk) ~= "string" or sk == "" then
    return nil, new_error("PartialCredentials",
      ("%s: [%s] has aws_access_key_id but no aws_secret_access_key"):format(label, name))
  end
  local tok = section.aws_security_token or section.aws_session_token   -- botocore's order
  if type(tok) ~= "string" or tok == "" then tok = nil end
  return { access_key_id = ak, secret_access_key = sk, session_token = tok,
           source = ("%s [%s]"):format(label, name) }
end

local function shared_or_err(ctx)
  local shared, e = config.load(ctx)
  if not shared then return nil, e end
  ctx.shared = shared
  return shared
end

-- Provider: [name] of the shared credentials file.
function _M.credentials_file(ctx, name)
  return provider.new("shared credentials file", function()
    local shared, e = shared_or_err(ctx)
    if not shared then return nil, e end
    local label = "shared credentials file " .. tostring(shared.credentials_file)
    if not shared.credentials_loaded then
      return nil, not_found(label, "file not found or not readable")
    end
    local sec = shared.credential_profiles[name]
    if not sec then return nil, not_found(label, ("no [%s] section"):format(name)) end
    return static_from(sec, label, name)
  end, ctx)
end

-- Provider: the profile in the config file (without the credentials file merged in).
function _M.config_file(ctx, name)
  return provider.new("config file", function()
    local shared, e = shared_or_err(ctx)
    if not shared then return nil, e end
    local label = "config file " .. tostring(shared.config_file)
    if not shared.config_loaded then return nil, not_found(label, "file not found or not readable") end
    local sec = shared.config_profiles[name]
    local header = name == "default" and "default" or ("profile " .. name)
    if not sec then return nil, not_found(label, ("no [%s] section"):format(header)) end
    return static_from(sec, label, header)
  end, ctx)
end

-- Provider: credential_process of the (merged) profile.
function _M.process(ctx, name)
  return provider.new("credential_process", function()
    local shared, e = shared_or_err(ctx)
    if not shared then return nil, e end
    local p = shared.profiles[name] or {}
    local cmd = p.credential_process
    if type(cmd) ~= "string" or cmd == "" then
      return nil, not_found("credential_process", ("profile %s has no credential_process"):format(name))
    end
    local proc = require "invite.credentials.process"
    return proc.fetch(cmd, ctx, ("credential_process of profile %s"):format(name))
  end, ctx)
end

-- Provider: SSO profiles are recognised, not supported.
function _M.sso(ctx, name)
  return provider.new("sso", function()
    local shared, e = shared_or_err(ctx)
    if not shared then return nil, e end
    local p = shared.profiles[name] or {}
    if p.sso_start_url or p.sso_session or p.sso_account_id then
      return nil, not_found("sso", ("profile %s uses IAM Identity Center (SSO), which invite does not "
        .. "read; use credential_process = aws configure export-credentials --profile %s --format process")
        :format(name, name))
    end
    local e2 = not_found("sso", ("profile %s has no sso_* settings"):format(name))
    e2.silent = true   -- not a place credentials are looked for; kept out of the "looked at" list
    return nil, e2
  end, ctx)
end

-- Provider: web identity from the environment and/or the profile.
function _M.web_identity(ctx, name, disable_env)
  local wi = require "invite.credentials.web_identity"
  return provider.new("web identity", function()
    local shared, e = shared_or_err(ctx)
    if not shared then return nil, e end
    local p = shared.profiles[name] or {}
    local function get(key, env_name)
      if not disable_env then
        local v = common.getenv(ctx, env_name)
        if v then return v, env_name end
      end
      local v = p[key]
      if type(v) == "string" and v ~= "" then return v, "profile " .. name end
      return nil
    end
    local file, fsrc = get("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE")
    if not file then
      local why = disable_env and ("profile %s has no web_identity_token_file"):format(name)
        or ("AWS_WEB_IDENTITY_TOKEN_FILE is not set and profile %s has no web_identity_token_file"):format(name)
      return nil, not_found("web identity", why)
    end
    local role = get("role_arn", "AWS_ROLE_ARN")
    if not role then
      return nil, new_error("InvalidConfiguration", ("web identity: a token file is configured (%s) but no "
        .. "role ARN: set AWS_ROLE_ARN or role_arn in profile %s"):format(fsrc, name))
    end
    local duration = p.duration_seconds
    return wi.fetch({ role_arn = role, token_file = common.expand_path(ctx, file),
                      role_session_name = get("role_session_name", "AWS_ROLE_SESSION_NAME"),
                      duration_seconds = duration and tonumber(duration) or nil,
                      label = "web identity (" .. fsrc .. ")" }, ctx)
  end, ctx)
end

-- The profile-scoped providers (2-6 above), as botocore's ProfileProviderBuilder.
function _M.profile_providers(ctx, name, disable_env)
  return {
    _M.web_identity(ctx, name, disable_env),
    _M.sso(ctx, name),
    _M.credentials_file(ctx, name),
    _M.process(ctx, name),
    _M.config_file(ctx, name),
  }
end

-- Walks providers in order: first success wins and is returned with its index; not-found
-- reasons are collected in `tried`; any other error stops the walk.
function _M.first(providers, tried)
  for _, p in ipairs(providers) do
    local ok, e = p:get()
    if ok then return p end
    if type(e) == "table" and e.not_found then
      if not e.silent then tried[#tried + 1] = { source = e.source or p.name, reason = e.message } end
    else
      return nil, e
    end
  end
  return nil
end

local SOURCES = { environment = "env", ec2instancemetadata = "imds", ecscontainer = "container" }

-- Builds the source provider for a role profile. -> provider | nil, err
local function role_source(ctx, name, p, visited)
  local cs, sp = p.credential_source, p.source_profile
  if cs and sp then
    return nil, new_error("InvalidConfiguration",
      ("profile %s has both source_profile and credential_source"):format(name))
  end
  if not cs and not sp then
    return nil, new_error("PartialCredentials",
      ("profile %s has role_arn but neither source_profile nor credential_source"):format(name))
  end
  if cs then
    local kind = SOURCES[tostring(cs):lower()]
    if not kind then
      return nil, new_error("InvalidConfiguration", ("credential_source %q in profile %s is not valid "
        .. "(Environment, Ec2InstanceMetadata or EcsContainer)"):format(tostring(cs), name))
    end
    local mod = require("invite.credentials." .. kind)
    local src = mod.new(ctx)
    return src, "credential_source " .. cs
  end
  local shared = ctx.shared
  local sprof = shared.profiles[sp]
  if not sprof then
    return nil, new_error("InvalidConfiguration",
      ("the source_profile %q referenced in profile %s does not exist"):format(sp, name))
  end
  for _, v in ipairs(visited) do
    if v == sp and not (sp == name and has_static(sprof)) then
      local chain = table.concat(visited, " -> ") .. " -> " .. sp
      return nil, new_error("InvalidConfiguration", "infinite loop in source_profile references: " .. chain)
    end
  end
  visited[#visited + 1] = sp
  if has_static(sprof) or not has_role(sprof) then
    -- the source profile's own credentials (static keys, process, web identity...)
    local providers = _M.profile_providers(ctx, sp, true)
    local chosen = {
      name = "source profile " .. sp,
      get = function(self)
        if self.p then return self.p:get() end
        local tried = {}
        local got, e = _M.first(providers, tried)
        if not got then
          if e then return nil, e end
          local parts = {}
          for i, t in ipairs(tried) do parts[i] = t.source .. ": " .. t.reason end
          return nil, new_error("InvalidConfiguration", ("the source profile %s must have credentials (%s)")
            :format(sp, table.concat(parts, "; ")))
        end
        self.p = got
        return got:get()
      end,
    }
    return chosen, "profile " .. sp
  end
  -- the source profile is itself a role profile: chain
  return _M.assume_role_for(ctx, sp, visited), "profile " .. sp
end

-- Provider: AssumeRole for profile `name` (role_arn + source_profile / credential_source).
function _M.assume_role_for(ctx, name, visited)
  local ar = require "invite.credentials.assume_role"
  local state = {}
  return provider.new("assume role", function()
    local shared, e = shared_or_err(ctx)
    if not shared then return nil, e end
    local p = shared.profiles[name] or {}
    if not has_role(p) then
      return nil, not_found("assume role", ("profile %s has no role_arn"):format(name))
    end
    if not state.source then
      local src, label_or_err = role_source(ctx, name, p, visited or { name })
      if not src then return nil, label_or_err end
      state.source, state.label = src, label_or_err
    end
    local dur = p.duration_seconds
    if dur ~= nil and not tonumber(dur) then
      return nil, new_error("InvalidConfiguration",
        ("duration_seconds in profile %s must be a whole number of seconds"):format(name))
    end
    return ar.fetch({ role_arn = p.role_arn, role_session_name = p.role_session_name,
                      external_id = p.external_id, duration_seconds = dur and tonumber(dur) or nil,
                      mfa_serial = p.mfa_serial, label = "assume role (profile " .. name .. ")",
                      source_label = "profile " .. name .. " via " .. state.label },
                    state.source, ctx)
  end, ctx)
end

-- All profile-based providers for `name`, botocore's order (1-6 above).
function _M.providers(ctx, name, disable_env)
  local list = { _M.assume_role_for(ctx, name) }
  for _, p in ipairs(_M.profile_providers(ctx, name, disable_env)) do list[#list + 1] = p end
  return list
end

return _M
