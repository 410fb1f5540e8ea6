-- invite.config: region, endpoint and client settings resolved the way boto3/botocore does, and
-- the AWS shared files (~/.aws/config, ~/.aws/credentials).
--
-- Every function takes an `opts` table (all fields optional):
--   env        getenv function or table of name -> value (default os.getenv); "" = unset
--   home       home directory (default $HOME)
--   profile    profile name (client option; otherwise AWS_DEFAULT_PROFILE, AWS_PROFILE, "default")
--   config_file, credentials_file   paths (otherwise AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE,
--              then ~/.aws/config and ~/.aws/credentials)
--   shared     an already loaded result of config.load(opts), to avoid reading the files again
--   region, endpoint_url, max_attempts, retry_mode, ca_bundle, use_fips_endpoint,
--   use_dualstack_endpoint, sts_regional_endpoints, allow_http   client options that win
-- Nothing is read at require time. See docs/configuration.md for the full table.

local common = require "invite.credentials.common"
local ini = require "invite.config.ini"

local _M = {}

local type, tostring, tonumber, pairs, ipairs, select, error = type, tostring, tonumber, pairs, ipairs, select, error
local new_error, getenv = common.new_error, common.getenv

local function cfg_error(message, fields)
  return new_error("InvalidConfiguration", message, fields)
end
_M.error = cfg_error

---------------------------------------------------------------------------------------------
-- Shared files
---------------------------------------------------------------------------------------------

function _M.profile(opts)
  opts = opts or {}
  if opts.profile ~= nil and opts.profile ~= "" then return opts.profile, "client option" end
  -- botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE; keep its order.
  local p = getenv(opts, "AWS_DEFAULT_PROFILE")
  if p then return p, "AWS_DEFAULT_PROFILE" end
  p = getenv(opts, "AWS_PROFILE")
  if p then return p, "AWS_PROFILE" end
  return "default", "default"
end

function _M.config_file(opts)
  opts = opts or {}
  if opts.config_file then return common.expand_path(opts, opts.config_file) end
  local p = getenv(opts, "AWS_CONFIG_FILE") or "~/.aws/config"
  return common.expand_path(opts, p)
end

function _M.credentials_file(opts)
  opts = opts or {}
  if opts.credentials_file then return common.expand_path(opts, opts.credentials_file) end
  local p = getenv(opts, "AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
  return common.expand_path(opts, p)
end

-- Reads and parses one file. Returns parsed | false, reason (absent/unreadable) | nil, err.
local function read_ini(path)
  if not path or path:sub(1, 1) == "~" then
    return false, "no home directory to expand " .. tostring(path)
  end
  local text, why = common.read_file(path)
  if not text then
    if why == "missing" then return false, "file not found: " .. path end
    return false, path .. ": " .. tostring(why)
  end
  local parsed, perr = ini.parse(text, path)
  if not parsed then
    return nil, cfg_error(perr, { file = path })
  end
  return parsed
end

-- load(opts) -> shared | nil, err
-- shared = { profiles = { [name] = { [key] = value } }, services = { [name] = {...} },
--            config_file = path, credentials_file = path, notes = { reasons files were skipped },
--            origin = { [profile] = { [key] = "file:line" } } }
-- Profiles merge like botocore's session.full_config: config-file profiles, with keys from the
-- same-named credentials-file section overriding them.
function _M.load(opts)
  opts = opts or {}
  if opts.shared then return opts.shared end
  local shared = { profiles = {}, config_profiles = {}, credential_profiles = {}, services = {},
                   notes = {}, sources = {} }
  shared.config_file = _M.config_file(opts)
  shared.credentials_file = _M.credentials_file(opts)

  local cfg, e = read_ini(shared.config_file)
  if cfg == nil then return nil, e end
  if cfg then
    shared.config_loaded = true
    -- [profile x] beats [default] for "default" (botocore lets the later one win; the AWS CLI
    -- documents [profile default] as an alias - we prefer the explicit form).
    local explicit = {}
    for _, name in ipairs(cfg.order) do
      local values = cfg.sections[name]
      local where = shared.config_file .. ":" .. cfg.lines[name]
      if name == "default" then
        if not explicit.default then
          shared.profiles.default = values
          shared.config_profiles.default = values
          shared.sources.default = where
        end
      else
        local kind, pname = ini.split_header(name)
        if kind == "profile" then
          shared.profiles[pname] = values
          shared.config_profiles[pname] = values
          shared.sources[pname] = where
          explicit[pname] = true
        elseif kind == "services" then
          shared.services[pname] = values
        end
        -- other sections (sso-session, plugins, preview, ...) are not used by invite
      end
    end
  else
    shared.notes[#shared.notes + 1] = e
  end

  local cred, e2 = read_ini(shared.credentials_file)
  if cred == nil then return nil, e2 end
  if cred then
    shared.credentials_loaded = true
    for _, name in ipairs(cred.order) do
      local values = cred.sections[name]
      shared.credential_profiles[name] = values
      local p = shared.profiles[name]
      if not p then
        p = {}
        shared.profiles[name] = p
        shared.sources[name] = shared.credentials_file .. ":" .. cred.lines[name]
      else
        -- copy so the config-file table is not changed
        local merged = {}
        for k, v in pairs(p) do merged[k] = v end
        p = merged
        shared.profiles[name] = p
      end
      for k, v in pairs(values) do p[k] = v end
    end
  else
    shared.notes[#shared.notes + 1] = e2
  end
  return shared
end

-- profile_config(opts) -> table (possibly empty for an absent "default") | nil, err
-- A named profile that exists in neither file is an error (botocore's ProfileNotFound).
function _M.profile_config(opts, name)
  opts = opts or {}
  local shared, e = _M.load(opts)
  if not shared then return nil, e end
  name = name or _M.profile(opts)
  local p = shared.profiles[name]
  if p then return p, shared end
  if name == "default" then return {}, shared end
  return nil, new_error("ProfileNotFound", ("the config profile (%s) could not be found in %s or %s")
    :format(name, shared.config_file or "?", shared.credentials_file or "?"), { profile = name })
end

-- Reads a setting: client option (none when opt_name is nil), then environment variables (in
-- order), then the profile key. -> value, source | nil | nil, nil, err (a broken profile)
local function setting(opts, opt_name, env_names, profile_key)
  local o = opt_name and opts[opt_name]
  if o ~= nil and o ~= "" then return o, "client option" end
  for _, n in ipairs(env_names) do
    local v = getenv(opts, n)
    if v then return v, n end
  end
  if profile_key then
    local p, e = _M.profile_config(opts)
    if not p then return nil, nil, e end
    local v = p[profile_key]
    if type(v) == "string" and v ~= "" then
      return v, "profile " .. _M.profile(opts) .. " key " .. profile_key
    end
  end
  return nil
end
_M.setting = setting

---------------------------------------------------------------------------------------------
-- Region
---------------------------------------------------------------------------------------------

-- A region is used as a DNS label: lower-case letters, digits and '-'.
local function valid_region(r)
  return type(r) == "string" and #r <= 63 and r:match("^[a-z0-9][a-z0-9%-]*[a-z0-9]$") ~= nil
end
_M.valid_region = valid_region

function _M.region(opts)
  opts = opts or {}
  local r, src, e = setting(opts, "region", { "AWS_REGION", "AWS_DEFAULT_REGION" }, "region")
  if e then return nil, e end
  if not r then
    return nil, new_error("NoRegion", "no AWS region configured: set the client option region, "
      .. "AWS_REGION, AWS_DEFAULT_REGION, or `region` in profile " .. _M.profile(opts)
      .. " of " .. tostring(_M.config_file(opts)))
  end
  if not valid_region(r) then
    return nil, cfg_error(("invalid region %q from %s (expected something like us-east-1)")
      :format(r, src))
  end
  return r, src
end

---------------------------------------------------------------------------------------------
-- Numbers and modes
---------------------------------------------------------------------------------------------

function _M.max_attempts(opts)
  opts = opts or {}
  local v, src, e = setting(opts, "max_attempts", { "AWS_MAX_ATTEMPTS" }, "max_attempts")
  if e then return nil, e end
  if v == nil then return 3, "default" end
  local n = tonumber(v)
  if not n or n < 1 or n ~= math.floor(n) then
    return nil, cfg_error(("max_attempts from %s must be a whole number >= 1, got %q")
      :format(src, tostring(v)))
  end
  return math.floor(n), src
end

local RETRY_MODES = { legacy = true, standard = true, adaptive = true }

function _M.retry_mode(opts)
  opts = opts or {}
  local v, src, e = setting(opts, "retry_mode", { "AWS_RETRY_MODE" }, "retry_mode")
  if e then return nil, e end
  if v == nil then return "standard", "default" end
  if not RETRY_MODES[v] then
    return nil, cfg_error(("retry_mode from %s must be legacy, standard or adaptive, got %q")
      :format(src, tostring(v)))
  end
  return v, src
end

function _M.ca_bundle(opts)
  opts = opts or {}
  local v, src, e = setting(opts, "ca_bundle", { "AWS_CA_BUNDLE" }, "ca_bundle")
  if e then return nil, e end
  if v == nil then return nil end
  return common.expand_path(opts, v), src
end

local function bool_setting(opts, opt_name, env_name, key)
  local v, src, e = setting(opts, opt_name, { env_name }, key)
  if e then return nil, e end
  if v == nil then return false end
  local b, berr = common.parse_bool(v)
  if b == nil then
    return nil, cfg_error(("%s from %s: %s, got %q"):format(key, src, berr, tostring(v)))
  end
  return b, src
end
_M.bool_setting = bool_setting

function _M.use_fips_endpoint(opts)
  return bool_setting(opts or {}, "use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint")
end

function _M.use_dualstack_endpoint(opts)
  return bool_setting(opts or {}, "use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT",
    "use_dualstack_endpoint")
end

---------------------------------------------------------------------------------------------
-- Endpoints
---------------------------------------------------------------------------------------------

-- Partitions (botocore data/partitions.json): id, how to recognise its regions, DNS suffixes.
local PARTITIONS = {
  { id = "aws-cn", match = function(r) return r:match("^cn%-%w+%-%d+$") end,
    dns = "amazonaws.com.cn", dualstack = "api.amazonwebservices.com.cn" },
  { id = "aws-us-gov", match = function(r) return r:match("^us%-gov%-%w+%-%d+$") end,
    dns = "amazonaws.com", dualstack = "api.aws" },
  { id = "aws-iso", match = function(r) return r:match("^us%-iso%-%w+%-%d+$") end,
    dns = "c2s.ic.gov", dualstack = "api.aws.ic.gov" },
  { id = "aws-iso-b", match = function(r) return r:match("^us%-isob%-%w+%-%d+$") end,
    dns = "sc2s.sgov.gov", dualstack = "api.aws.scloud" },
  { id = "aws-iso-e", match = function(r) return r:match("^eu%-isoe%-%w+%-%d+$") end,
    dns = "cloud.adc-e.uk", dualstack = "api.cloud-aws.adc-e.uk" },
  { id = "aws-iso-f", match = function(r) return r:match("^us%-isof%-%w+%-%d+$") end,
    dns = "csp.hci.ic.gov", dualstack = "api.aws.hci.ic.gov" },
  { id = "aws-eusc", match = function(r) return r:match("^eusc%-de%-%w+%-%d+$") end,
    dns = "amazonaws.eu", dualstack = "api.amazonwebservices.eu" },
}
local AWS = { id = "aws", dns = "amazonaws.com", dualstack = "api.aws" }

-- Regions outside every known pattern fall into "aws", as botocore's aws.partition does.
function _M.partition(region)
  for _, p in ipairs(PARTITIONS) do
    if p.match(region) then return p end
  end
  return AWS
end

-- Regions where the legacy STS global endpoint applied (sts_regional_endpoints = legacy).
local STS_LEGACY_GLOBAL = {}
for r in ([[ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 aws-global ca-central-1
  eu-central-1 eu-north-1 eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2 us-west-1
  us-west-2]]):gmatch("%S+") do STS_LEGACY_GLOBAL[r] = true end

-- Services whose FIPS endpoint in aws-us-gov is the plain regional name (endpoint rule sets).
local GOV_FIPS_PLAIN = { sts = true, guardduty = true }

-- Environment-variable spelling of a service id: AWS_ENDPOINT_URL_<ID>.
local function env_service_id(service)
  return (service:gsub("[%-%s]", "_"):upper())
end

-- The endpoint configured outside the code, in botocore's order: service env var, global env
-- var, the profile's [services] section, the profile's endpoint_url. Returns url, source | nil.
local function configured_endpoint(service, opts)
  local v = getenv(opts, "AWS_ENDPOINT_URL_" .. env_service_id(service))
  if v then return v, "AWS_ENDPOINT_URL_" .. env_service_id(service) end
  v = getenv(opts, "AWS_ENDPOINT_URL")
  if v then return v, "AWS_ENDPOINT_URL" end
  local p, e = _M.profile_config(opts)
  if not p then return nil, nil, e end
  local sname = p.services
  if type(sname) == "string" and sname ~= "" then
    local shared = _M.load(opts)
    local sec = shared.services[sname]
    if not sec then
      return nil, nil, cfg_error(("profile %s uses the services section %q, which does not exist in %s")
        :format(_M.profile(opts), sname, tostring(shared.config_file)))
    end
    local key = service:lower():gsub("%-", "_")
    local sub = sec[key]
    if type(sub) == "table" and sub.endpoint_url and sub.endpoint_url ~= "" then
      return sub.endpoint_url, ("[services %s] %s.endpoint_url"):format(sname, key)
    end
  end
  if type(p.endpoint_url) == "string" and p.endpoint_url ~= "" then
    return p.endpoint_url, "profile " .. _M.profile(opts) .. " endpoint_url"
  end
  return nil
end

-- Validates an endpoint URL: http(s), a host, no userinfo/query/fragment; http only for loopback
-- hosts unless opts.allow_http. Returns the URL without a trailing '/'. An empty string is an
-- error too, not "the default endpoint" (botocore raises on endpoint_url='' as well).
function _M.check_endpoint_url(url, src, opts)
  if url == "" then
    return nil, cfg_error(("%s must be a URL like https://host, not empty"):format(src))
  end
  local scheme, authority
  if type(url) == "string" then scheme, authority = url:match("^(%a[%w+.-]*)://([^/?#]*)") end
  -- user:password@ is refused without echoing the URL: the password must not reach a message
  if authority and authority:find("@", 1, true) then
    return nil, cfg_error(("endpoint URL from %s must not contain user information (user:password@host)")
      :format(src))
  end
  scheme = scheme and scheme:lower()
  if (scheme ~= "https" and scheme ~= "http") or url:find("[?#]") then
    return nil, cfg_error(("endpoint URL %q from %s is not an http(s)://host[:port][/path] URL")
      :format(tostring(url), src))
  end
  if url:find("[%s%c]") then
    return nil, cfg_error(("endpoint URL %q from %s must not contain spaces or control characters")
      :format(url, src))
  end
  local port = tonumber(authority:match(":(%d+)$"))
  if port and (port < 1 or port > 65535) then
    return nil, cfg_error(("endpoint URL %q from %s: the port must be 1-65535"):format(url, src))
  end
  local u = common.parse_url(url)
  if not u then
    return nil, cfg_error(("endpoint URL %q from %s is not an http(s)://host[:port][/path] URL"):format(url, src))
  end
  if u.scheme == "http" and not (opts and opts.allow_http) and not common.is_loopback(u.host) then
    return nil, cfg_error(("endpoint URL %s from %s uses plain http:// to a non-loopback host; "
      .. "use https:// (library clients may pass the option allow_http = true)"):format(url, src))
  end
  return (url:gsub("/+$", ""))
end

-- The endpoint of a partition-global service (a declaration's `partition_endpoints`, e.g.
-- Organizations, Account) for `region`, or nil when the declaration names none for the region's
-- partition (or for the FIPS/dual-stack variant asked for: then the regional name applies, as the
-- services' endpoint rule sets fall back to it). -> host, the partition's entry
local function partition_host(partition_endpoints, region, fips, dual)
  if type(partition_endpoints) ~= "table" or dual then return nil end
  local pe = partition_endpoints[_M.partition(region).id]
  if type(pe) ~= "table" then return nil end
  local host = fips and pe.fips_host or (not fips and pe.host) or nil
  if host then return host, pe end
  return nil
end
_M.partition_host = partition_host

-- endpoint(service, region, opts [, partition_endpoints]) -> url, source | nil, err
-- service: the endpoint prefix (the host's first labels); opts.client_name, when it differs (boto3's
-- client name: "detective" for api.detective), names AWS_ENDPOINT_URL_<NAME> and the [services]
-- key, as botocore does. partition_endpoints: a declaration's table (see resolve below); every
-- region of a listed partition goes to that partition's host.
function _M.endpoint(service, region, opts, partition_endpoints)
  if type(service) ~= "string" or service == "" then
    error("config.endpoint: service must be a non-empty string", 2)
  end
  opts = opts or {}
  if not opts.shared then
    -- read the shared files once for the several settings below
    local shared, le = _M.load(opts)
    if not shared then return nil, le end
    opts = common.copy(opts)
    opts.shared = shared
  end
  local fips, e1 = _M.use_fips_endpoint(opts)
  if fips == nil then return nil, e1 end
  local dual, e2 = _M.use_dualstack_endpoint(opts)
  if dual == nil then return nil, e2 end

  local url, src = opts.endpoint_url, "client option endpoint_url"
  if url == nil then
    local ignore, e3 = bool_setting(opts, "ignore_configured_endpoint_urls",
      "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls")
    if ignore == nil then return nil, e3 end
    if not ignore then
      local e
      url, src, e = configured_endpoint(opts.client_name or service, opts)
      if e then return nil, e end
    end
  end
  if url then
    if fips then
      -- the endpoint rule sets of all four services reject this combination
      return nil, cfg_error(("FIPS and a custom endpoint are not supported together (endpoint from %s)")
        :format(src))
    end
    local checked, e = _M.check_endpoint_url(url, src, opts)
    if not checked then return nil, e end
    return checked, src
  end

  if region == nil then
    local r, e = _M.region(opts)
    if not r then return nil, e end
    region = r
  end
  if not valid_region(region) then
    return nil, cfg_error(("invalid region %q"):format(tostring(region)))
  end

  local svc = service:lower()
  local part = _M.partition(region)
  local suffix = dual and part.dualstack or part.dns
  local global_host = partition_host(partition_endpoints, region, fips, dual)
  if global_host then return "https://" .. global_host, "default (" .. part.id .. " partition endpoint)" end
  if svc == "sts" and not fips and not dual then
    if region == "aws-global" then return "https://sts.amazonaws.com", "default (sts global)" end
    local mode = opts.sts_regional_endpoints
      or getenv(opts, "AWS_STS_REGIONAL_ENDPOINTS")
    if not mode then
      local p = _M.profile_config(opts)
      mode = p and p.sts_regional_endpoints
    end
    if mode ~= nil and mode ~= "regional" and mode ~= "legacy" then
      return nil, cfg_error(("sts_regional_endpoints must be regional or legacy, got %q")
        :format(tostring(mode)))
    end
    if mode == "legacy" and STS_LEGACY_GLOBAL[region] then
      return "https://sts.amazonaws.com", "default (sts legacy global)"
    end
  end
  local host
  if fips then
    if part.id == "aws-us-gov" and GOV_FIPS_PLAIN[svc] and not dual then
      host = svc .. "." .. region .. "." .. suffix
    else
      host = svc .. "-fips." .. region .. "." .. suffix
    end
  else
    host = svc .. "." .. region .. "." .. suffix
  end
  return "https://" .. host, fips and "default (fips)" or "default"
end

-- The region to sign with for an endpoint of `service` in `region` (sts global -> us-east-1).
function _M.signing_region(service, region, url)
  if service == "sts" and url == "https://sts.amazonaws.com" then return "us-east-1" end
  return region
end

---------------------------------------------------------------------------------------------
-- Everything a client needs, resolved at once
---------------------------------------------------------------------------------------------

-- An endpoint URL (already checked, or a default) -> the parts a client builds requests from:
-- scheme, host (lower case, an IPv6 literal in brackets), port (given or the scheme's), authority
-- (the Host header: host, and :port unless it is the scheme's), base_path (no trailing '/') and
-- url (scheme://authority base_path).
local function endpoint_parts(url, src)
  local u = common.parse_url(url)
  if not u or (u.scheme ~= "https" and u.scheme ~= "http") or u.query or u.fragment then
    return nil, ("the endpoint from %s is not an http(s)://host[:port][/path] URL"):format(src)
  end
  local base = u.path:gsub("/+$", "")
  return { scheme = u.scheme, host = u.host:find(":", 1, true) and "[" .. u.host .. "]" or u.host,
           port = u.port, authority = u.authority, base_path = base, url = u.origin .. base }
end

local function message_of(e, default)
  if e == nil then return default end
  if type(e) == "table" then return tostring(e.message or e.code or default) end
  return tostring(e)
end

--- resolve(service, options) -> settings | nil, err
-- service: a service declaration (invite.services.*: name, endpoint_prefix, optional
-- global_endpoint = {region, host, signing_region}, optional partition_endpoints = { [partition id]
-- = {host, signing_region, fips_host?} }), or just a name that is its endpoint prefix.
-- options: a client's options (the `endpoint` option is config's endpoint_url; env, home, profile,
-- config_file, credentials_file and shared as everywhere in this module). Each setting is taken
-- from the option, else the environment, else the profile, else its default:
--   region          region, AWS_REGION, AWS_DEFAULT_REGION, profile region; else the global
--                   endpoint's region (STS: aws-global) for a service that has one, or the aws
--                   partition's signing region (Organizations: us-east-1) for one with
--                   partition_endpoints
--   endpoint_url    endpoint / endpoint_url, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the
--                   profile's services section, its endpoint_url; else the AWS endpoint (no
--                   trailing '/')
--   endpoint        endpoint_url's parts (see endpoint_parts above); endpoint_source says where
--                   the URL came from; signing_region the region of the credential scope:
--                   the global endpoint's (STS: us-east-1) when the call goes there; with
--                   partition_endpoints, any region of a listed partition goes to its host,
--                   signed with its signing_region (eu-west-1 -> organizations.us-east-1.
--                   amazonaws.com signed for us-east-1); a configured endpoint still wins
--   max_attempts    max_attempts, AWS_MAX_ATTEMPTS, profile max_attempts, 3
--   retry_mode      retry_mode, AWS_RETRY_MODE, profile retry_mode, "standard"
--   ca_bundle       ca_bundle, AWS_CA_BUNDLE, profile ca_bundle (~ and $VAR expanded); else nil
--   verify          the verify option, else true
-- err is an invite.errors error (retryable false, err.service the name) whose code says which
-- rule failed: NoRegionError, InvalidRegionError, InvalidConfiguration (a bad value from the
-- environment or a file, a broken file, a bad endpoint URL), ProfileNotFound, EndpointError,
-- ConfigError (max_attempts, retry_mode).
function _M.resolve(service, options)
  local def = type(service) == "table" and service or { name = service, endpoint_prefix = service }
  local prefix, global, by_partition = def.endpoint_prefix, def.global_endpoint, def.partition_endpoints
  if type(prefix) ~= "string" or prefix == "" then
    error("config.resolve: service must be a service declaration or a non-empty name", 2)
  end
  local name = def.name or prefix
  local errors = require "invite.errors"
  local ctx = { service = name }
  local function fail(code, message) return nil, errors.client(code, message, ctx) end
  local opts = common.copy(options)
  if opts.endpoint_url == nil then
    if opts.endpoint == "" then
      -- name the option the caller gave (config knows it as endpoint_url)
      return fail("InvalidConfiguration", message_of(select(2, _M.check_endpoint_url("", "client option endpoint")),
        "empty endpoint"))
    end
    opts.endpoint_url = opts.endpoint
  end
  if opts.shared == nil then
    -- read the shared files once for every setting below (a broken file is reported by the
    -- first lookup that needs it, with its file and line)
    opts.shared = _M.load(opts) or nil
  end

  local region = opts.region
  if region == nil then
    local rerr
    region, rerr = _M.region(opts)
    -- a missing profile or a broken shared file is not "no region": keep its own code
    local code = type(rerr) == "table" and rerr.code
    if not region and (code == "ProfileNotFound" or code == "InvalidConfiguration") then
      return fail(code, message_of(rerr, "bad configuration"))
    end
    -- a global service without a region: its global endpoint (STS: aws-global)
    if not region and global then region = global.region end
    -- a partition-global service without a region: the aws partition's endpoint and region
    if not region and type(by_partition) == "table" and type(by_partition.aws) == "table" then
      region = by_partition.aws.signing_region
    end
    if not region then
      return fail("NoRegionError", "no region for " .. name .. ": " .. message_of(rerr, "pass region="))
    end
  end
  -- the region goes into the host name and the credential scope: a DNS label
  if not valid_region(region) then
    return fail("InvalidRegionError", ("invalid region %s: a region is 2-63 lower-case letters, digits and "
      .. "'-', like us-east-1"):format(require("invite.validate").describe(region)))
  end

  if opts.client_name == nil and name ~= prefix then opts.client_name = name end
  local url, src = _M.endpoint(prefix, region, opts, by_partition)
  if not url then
    -- keep the configuration's own code (ProfileNotFound, InvalidConfiguration: a broken shared
    -- file, a bad endpoint_url ...) rather than calling every such problem an endpoint error
    local code = type(src) == "table" and type(src.code) == "string" and src.code or "EndpointError"
    return fail(code, message_of(src, "no endpoint"))
  end
  local ep, perr = endpoint_parts(url, src)
  if not ep then return fail("EndpointError", perr) end

  local retry = require "invite.retry"
  local max_attempts = opts.max_attempts
  if max_attempts == nil then
    local merr
    max_attempts, merr = _M.max_attempts(opts)
    if max_attempts == nil then return fail("ConfigError", message_of(merr, "bad max_attempts")) end
  end
  local n, nerr = retry.check_max_attempts(max_attempts)
  if not n then return fail("ConfigError", nerr) end
  -- invite retries in standard mode; a retry mode that is not one of the three is a mistake
  local mode, mode_err = _M.retry_mode(opts)
  if not mode then return fail("ConfigError", message_of(mode_err, "bad retry_mode")) end

  local ca_bundle, cerr = _M.ca_bundle(opts)
  if ca_bundle == nil and cerr then return fail(cerr.code, message_of(cerr)) end

  local signing_region = _M.signing_region(prefix, region, url)
  if global and (region == global.region or url == "https://" .. global.host) then
    signing_region = global.signing_region
  end
  if by_partition then
    local fips = _M.use_fips_endpoint(opts)
    local host, pe = partition_host(by_partition, region, fips, _M.use_dualstack_endpoint(opts))
    if host and url == "https://" .. host then signing_region = pe.signing_region end
  end
  return { region = region, endpoint = ep, endpoint_url = url, endpoint_source = src,
           signing_region = signing_region, max_attempts = n,
           retry_mode = mode, ca_bundle = ca_bundle, verify = opts.verify ~= false }
end

return _M
