--- Service clients built from the declarations in
-- invite.services.*, and the one request pipeline that runs every operation of every service:
--
--     validate -> batch.split -> build -> sign -> transport (retry) -> parse -> batch.merge
--
-- Building and parsing are the protocol's (the declaration's `protocol`: "rest-json", the
-- default, "json", "query" or "ec2"; modules invite.protocols.*): build(op, params, endpoint, def) ->
-- request, parse(op, answer, ctx) -> result | nil, err for a 2xx answer, error(answer, ctx) -> err
-- for any other. Everything else is the same for all: validation, batches, signing (skipped for an
-- operation declared `authtype = "none"`), retries, redaction, the error context.
--
--     local gd = require("invite.client").new("guardduty", {region = "eu-west-1"})
--     local res, err = gd:decline_invitations{AccountIds = {"111122223333"}}
--
-- Options (all optional):
--
--     region, endpoint, profile      where to send; defaults from invite.config
--     credentials                    a provider with :get() -> true, key, secret, token
--                                    or a table {access_key_id, secret_access_key, session_token};
--                                    default: invite.credentials.chain(options)
--     max_attempts                   standard-mode attempts (default AWS_MAX_ATTEMPTS or 3)
--     dry_run                        return the signed request (redacted) instead of sending
--     transport                      "curl" (default), another registered kind, an object, a function
--     sleep(seconds), clock() -> epoch seconds, random() -> [0,1)   injected for tests
--     verify, ca_bundle, connect_timeout_ms, timeout_ms            transport settings
--     max_body_bytes                 largest response body accepted (default 1 MiB); a larger
--                                    one is a TransportError, not retried
--     retry_quota                    false to disable the standard-mode retry quota
--     on_retry(err, attempt, delay)  called before each retry sleep (logging)
--     user_agent                     appended to the User-Agent header
--
-- Nothing touches the network, the filesystem or the environment until the first call.
-- The operations of each service are documented in @{invite.macie2}, @{invite.securityhub} and
-- @{invite.guardduty}.
-- @module invite.client
local model = require "invite.model"
local validate = require "invite.validate"
local errors = require "invite.errors"
local batch = require "invite.batch"
local retry = require "invite.retry"
local sign = require "invite.sign"
local transport = require "invite.transport"
local paginate = require "invite.paginate"
local redact = require "invite.redact"
local config = require "invite.config"
local credentials = require "invite.credentials"

local type, pairs, ipairs, tostring, setmetatable, error, require =
  type, pairs, ipairs, tostring, setmetatable, error, require
local format = string.format
local os_time = os.time

local _M = {}

local VERSION = require "invite.version"
local LUA_VERSION = (type(jit) == "table" and jit.version) or _VERSION

local OPTIONS = {
  region = "string", endpoint = "string", profile = "string", credentials = "table",
  max_attempts = "number", dry_run = "boolean", transport = "any", sleep = "function",
  clock = "function", random = "function", verify = "boolean", ca_bundle = "string",
  connect_timeout_ms = "number", timeout_ms = "number", retry_quota = "any", max_body_bytes = "number",
  on_retry = "function", user_agent = "string", max_pages = "number", max_items = "number",
  -- passed through to invite.config / invite.credentials (see their docs)
  endpoint_url = "string", env = "any", home = "string", config_file = "string",
  credentials_file = "string", shared = "table", retry_mode = "string", use_fips_endpoint = "any",
  use_dualstack_endpoint = "any", sts_regional_endpoints = "string", allow_http = "boolean",
}
-- operation view -> the names of its input members marked `sensitive` (redacted from its errors)
local sensitive_inputs = setmetatable({}, { __mode = "k" })
-- operation view -> the names of its input members marked `idempotency_token` (filled when not given)
local token_inputs = setmetatable({}, { __mode = "k" })
-- limits that must be whole numbers >= 1 (a zero or fractional bound is a mistake)
local WHOLE_OPTION = { max_pages = true, max_items = true }
local OPTION_NAMES = {}
for k in pairs(OPTIONS) do OPTION_NAMES[#OPTION_NAMES + 1] = k end
table.sort(OPTION_NAMES)
--- Every client option name, sorted (an unknown option is an error naming the closest one).
_M.OPTIONS = OPTION_NAMES

-- A provider over a plain table of keys.
local function static_provider(t)
  local ak = t.access_key_id or t.aws_access_key_id
  local sk = t.secret_access_key or t.aws_secret_access_key
  local tok = t.session_token or t.aws_session_token
  return {
    get = function()
      if type(ak) ~= "string" or ak == "" or type(sk) ~= "string" or sk == "" then
        return nil, "credentials table needs access_key_id and secret_access_key"
      end
      return true, ak, sk, tok
    end,
  }
end

--- A client of one service, made by @{new} (or `invite.<service>.client{...}`). Besides the
-- methods below it has one method per operation of its service (`client:decline_invitations{...}`)
-- and, per paginated operation, `client:list_all_<items>{...}` and `client:each_<item>{...}`.
-- `client.transport_kind` names the transport in use.
-- @type Client
local Client = {}

--- The client's resolved configuration: `invite.config.resolve` of the service's declaration
-- and the client's options, once, at the first call. Region (option, `AWS_REGION`,
-- `AWS_DEFAULT_REGION`, profile; a global service's global endpoint), endpoint (option,
-- `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, profile, default), `max_attempts` (option,
-- `AWS_MAX_ATTEMPTS`, profile, 3), `retry_mode` and the TLS settings `ca_bundle` and `verify`.
-- @treturn table `region`, `endpoint` (parsed), `endpoint_url`, `signing_region`, `max_attempts`,
-- `retry_mode`, `ca_bundle`, `verify`
-- @return[2] nil
-- @return[2] err (NoRegionError, InvalidRegionError, EndpointError, ConfigError, ProfileNotFound ...)
function Client:config()
  if self._config then return self._config end
  local c, err = config.resolve(self.service.def, self.options)
  if not c then
    err.service = self.service_name
    return nil, err
  end
  self._config = c
  self.region = c.region
  return c
end

--- The credential provider (option `credentials`, else invite.credentials' chain).
-- @local
function Client:provider()
  if self._provider then return self._provider end
  local c = self.options.credentials
  local p
  if type(c) == "table" and type(c.get) == "function" then
    p = c
  elseif type(c) == "table" then
    p = static_provider(c)
  else
    p = credentials.chain(self.options)
  end
  self._provider = p
  return p
end

--- One set of keys, fetched per attempt (providers cache and refresh): access key, secret
-- key, session token, or nil, err.
-- @local
function Client:keys(ctx)
  local p = self._provider or self:provider()
  local ok, ak, sk, tok = p:get()
  if not ok then
    local e = ak
    if errors.is_error(e) then
      e.service, e.operation = ctx.service, ctx.operation
      return nil, e
    end
    local msg = type(e) == "table" and (e.message or e.code) or e
    local code = type(e) == "table" and e.code or "NoCredentialsError"
    return nil, errors.client(code, tostring(msg or "no credentials"), ctx,
      { retryable = false })
  end
  if sk ~= self._registered then
    -- the caller's own secrets are redacted from whatever text invite prints or writes
    redact.register(sk)
    redact.register(tok)
    self._registered = sk
  end
  return ak, sk, tok
end

--- One set of keys as a table {access_key, secret_key, session_token}.
-- @local
function Client:credentials(ctx)
  local ak, sk, tok = self:keys(ctx)
  if not ak then return nil, sk end
  return { access_key = ak, secret_key = sk, session_token = tok }
end

--- The transport, made on first use.
-- @local
function Client:transport()
  if self._transport then return self._transport end
  local opts = self.options
  -- the TLS settings come with the configuration (Client:config); a CA bundle named by
  -- AWS_CA_BUNDLE or the profile is for libcurl, not for a transport the caller chose
  local cfg = self._config or self:config() or {}
  local ca_bundle = opts.ca_bundle
  if opts.transport == nil or opts.transport == "curl" then ca_bundle = cfg.ca_bundle or ca_bundle end
  local topts = {
    verify = opts.verify,
    ca_bundle = ca_bundle,
    connect_timeout_ms = opts.connect_timeout_ms or 10000,
    timeout_ms = opts.timeout_ms or 60000,
    max_body_bytes = opts.max_body_bytes,
  }
  self._transport = transport.new(opts.transport, topts)
  self.transport_kind = self._transport.kind
  return self._transport
end

--- Sleeps (option `sleep`, else the transport's or the scheduler's).
-- @local
function Client:sleep(seconds)
  if self.options.sleep then return self.options.sleep(seconds) end
  local t = self:transport()
  if t.sleep then return t:sleep(seconds) end
  return require("invite.scheduler").sleep(seconds)
end

--- Epoch seconds (option `clock`, else os.time).
-- @local
function Client:now()
  if self.options.clock then return self.options.clock() end
  return os.time()
end

local function user_agent(self)
  local ua = "invite/" .. VERSION .. " " .. tostring(LUA_VERSION):gsub(" ", "/")
  if self.options.user_agent then ua = ua .. " " .. self.options.user_agent end
  return ua
end

-- The headers to send for one attempt at req: signed (an operation declared `authtype = "none"`,
-- like STS AssumeRoleWithWebIdentity, goes unsigned and needs no credentials), then the
-- User-Agent; or nil, err. Also the secrets used, for redaction.
local function request_headers(self, op, req, ctx)
  local headers, sk, tok
  if op.def.authtype == "none" then
    local built = req.headers
    headers = {}
    for i = 1, #built do headers[i] = built[i] end
  else
    local ak, serr
    ak, sk, tok = self:keys(ctx)
    if not ak then return nil, sk end
    local cfg = self._config
    local clock = self.options.clock
    headers, serr = sign.headers(req, ak, sk, tok, cfg.signing_region or cfg.region,
      self.service.def.signing_name, clock and clock() or os_time())
    if not headers then return nil, errors.client("SigningError", serr, ctx) end
  end
  local ua = self._user_agent
  if not ua then
    ua = user_agent(self)
    self._user_agent = ua
  end
  headers[#headers + 1] = { "User-Agent", ua }
  return headers, sk, tok
end

--- Signs one built request of operation `op` for this attempt.
-- @local
function Client:signed(op, req, ctx)
  local headers, err = request_headers(self, op, req, ctx)
  if not headers then return nil, err end
  return {
    method = req.method, path = req.path, query = req.query, url = req.url,
    headers = headers, body = req.body,
  }
end

-- One attempt at a built request (retry.run's attempt function: no closure per call).
local function attempt_once(_, self, op, req, ctx)
  local headers, sk, tok = request_headers(self, op, req, ctx)
  if not headers then return nil, sk end
  local t = self._transport
  -- this attempt's own table: the transport request
  local treq = { method = req.method, url = req.url, headers = headers, body = req.body,
    timeout_ms = self.options.timeout_ms }
  -- (scheduler.pcall: the transport yields inside a task, and Lua 5.1 cannot yield across pcall)
  local ok, r, terr = require("invite.scheduler").pcall(t.request, t, treq)
  if not ok then
    return nil, errors.client("TransportError", "transport " .. tostring(t.kind) .. " raised: "
      .. tostring(r), ctx)
  end
  if not r then return nil, errors.from_transport(terr, ctx) end
  local status = r.status
  local protocol = self._protocol
  if type(status) ~= "number" or status < 200 or status > 299 then
    -- a server may echo what it was sent: never hand the caller's secrets back in an error
    return nil, redact.error(protocol.error(r, ctx), sk, tok)
  end
  local res, perr = protocol.parse(op, r, ctx)
  if not res then return nil, redact.error(perr, sk, tok) end
  return res
end

-- The retry options, the same for every call of this client: made once. (Not inside send: a
-- function that makes closures closes their upvalues when it returns, which LuaJIT 2.1 does not
-- compile.)
local function retry_options(self)
  local retry_opts = {
    max_attempts = self._config.max_attempts,
    sleep = function(s) return self:sleep(s) end,
    random = self.options.random or math.random,
    now = function() return self:now() end,
    quota = self._quota,
    on_retry = self.options.on_retry,
  }
  self._retry_opts = retry_opts
  return retry_opts
end

--- One request (one batch) through retries; -> parsed result | nil, err
-- @local
function Client:send(op, params, ctx)
  local req = self._protocol.build(op, params, self._config.endpoint, self.service.def)
  if not self._transport then self:transport() end
  local retry_opts = self._retry_opts or retry_options(self)
  local res, retries_or_err = retry.run(attempt_once, retry_opts, self, op, req, ctx)
  if not res then
    local secret = sensitive_inputs[op]
    if secret then
      -- input members the model marks sensitive (a web identity token) never come back in an error
      for i = 1, #secret do redact.error(retries_or_err, params[secret[i]]) end
    end
    return nil, retries_or_err
  end
  res.ResponseMetadata.RetryAttempts = retries_or_err
  return res
end

--- Calls an operation with parameters invite built itself (invite.sts's functions for the
-- credential chain): the pipeline after validation - build, sign, send with retries, parse - with
-- no validation and no batches (the service judges the values, as those functions promise).
-- The configuration must be resolved (@{Client:config}) first.
-- @local
function Client:send_built(key, params)
  local op = self.service.ops[key]
  if not op then error(format("invite.%s: no operation %q", self.service_name, tostring(key)), 2) end
  return self:send(op, params, { service = self.service_name, operation = op.name })
end

local function dry_run_result(self, op, list, ctx)
  local reqs = {}
  for i, p in ipairs(list) do
    local req = self._protocol.build(op, p, self._config.endpoint, self.service.def)
    local s, err = self:signed(op, req, ctx)
    if not s then return nil, err end
    reqs[i] = {
      method = s.method, url = s.url, path = s.path, query = s.query,
      headers = sign.redact(s.headers), body = s.body,
    }
  end
  local first = reqs[1]
  return {
    DryRun = true, service = self.service_name, operation = op.name, region = self._config.region,
    method = first.method, url = first.url, path = first.path, query = first.query,
    headers = first.headers, body = first.body, requests = reqs,
  }
end

--- Calls an operation by its boto3 name; `client:decline_invitations(p)` is `client:call("decline_invitations", p)`.
-- @tparam string key boto3 operation name
-- @tparam[opt] table params boto3 parameters
-- @param[opt] extra_allowed for invite's own callers: parameter names validation lets through
-- @treturn table the response, with `ResponseMetadata`
-- @return[2] nil
-- @return[2] err (`code`, `message`, `status`, `request_id`, `retryable`, `service`, `operation`)
-- @raise when the service has no such operation (naming the closest)
function Client:call(key, params, extra_allowed)
  local op = self.service.ops[key]
  if not op then
    local names = {}
    for k in pairs(self.service.ops) do names[#names + 1] = k end
    local hint = validate.closest(tostring(key), names)
    error(format("invite.%s: no operation %q%s", self.service_name, tostring(key),
      hint and format(" (did you mean %q?)", hint) or ""), 2)
  end
  -- the error context of this operation: the same for every call (errors copy what they need)
  local ctxs = self._ctxs
  if not ctxs then
    ctxs = {}
    self._ctxs = ctxs
  end
  local ctx = ctxs[op]
  if not ctx then
    ctx = { service = self.service_name, operation = op.name }
    ctxs[op] = ctx
  end
  -- one snapshot of the input for validation and building alike (metatables cannot swap values)
  params = validate.snapshot(params)
  local ok, verr = validate.check(self.service_name, op, params, extra_allowed)
  if not ok then return nil, verr end
  params = params or {}
  local tokens = token_inputs[op]
  if tokens then
    -- botocore's idempotencyToken: a member the caller left out gets a random UUID v4, once per call,
    -- so every retry attempt (the request is built once) and every batch carries the same token; the
    -- caller's table is not changed, and a token the caller gave was validated like any string
    local filled
    for i = 1, #tokens do
      local name = tokens[i]
      if params[name] == nil then
        if not filled then
          filled = {}
          for k, v in pairs(params) do filled[k] = v end
        end
        local token, uerr = require("invite.uuid").v4()
        if not token then
          return nil, errors.client("IdempotencyTokenError", format("%s.%s: cannot make the %s token: %s",
            self.service_name, key, name, uerr), ctx, { retryable = false })
        end
        filled[name] = token
      end
    end
    params = filled or params
  end
  if not self._config then
    local _, cerr = self:config()
    if cerr then
      cerr.operation = op.name
      return nil, cerr
    end
  end
  local list = op.batch and batch.split(op.batch, params) or { params }
  if self.options.dry_run then return dry_run_result(self, op, list, ctx) end
  if #list == 1 then
    -- one request (one batch): its response as it is
    return self:send(op, list[1], ctx)
  end
  local results = {}
  for i, p in ipairs(list) do
    local res, err = self:send(op, p, ctx)
    if not res then
      if #list > 1 then
        err.batch = i
        err.batches = #list
        if i > 1 then err.partial = batch.merge(op.batch, results) end
        local not_sent = {}
        for j = i, #list do
          for _, id in ipairs(list[j][op.batch.member]) do not_sent[#not_sent + 1] = id end
        end
        err.not_processed = not_sent
        err.message = tostring(err.message) .. format(" (batch %d of %d; %d account IDs not processed)",
          i, #list, #not_sent)
      end
      return nil, err
    end
    results[i] = res
  end
  if op.batch then return batch.merge(op.batch, results) end
  return results[1]
end

-- Paginators ----------------------------------------------------------------

--- Iterates over the pages of a paginated operation: `for page, err in c:paginate(op, p) do`.
-- Takes boto3's `PaginationConfig = {MaxItems, PageSize, StartingToken}` in params.
-- @tparam string key boto3 operation name, e.g. "list_invitations"
-- @tparam[opt] table params
-- @return an iterator of `page` (a response), or `nil, err` once on failure
-- @raise when the operation has no paginator
function Client:paginate(key, params)
  local op = self.service.ops[key]
  local pag = op and op.paginator
  if not pag then error(format("invite.%s: operation %q has no paginator", self.service_name, tostring(key)), 2) end
  -- the most items a page may hold: the result list's own bound, else the page size's maximum
  local result_max
  for _, m in ipairs(op.output) do
    if m.name == pag.result_key then result_max = m.max end
  end
  if not result_max and op.by_name[pag.limit_key] then result_max = op.by_name[pag.limit_key].max end
  local ctx = { service = self.service_name, operation = op.name, where = self.service_name .. "." .. key,
                max_pages = self.options.max_pages, max_items = self.options.max_items, result_max = result_max }
  return paginate.pages(function(p) return self:call(key, p) end, pag, params, ctx)
end

--- boto3's spelling: `client:get_paginator("list_invitations"):paginate{...}`.
-- @tparam string key boto3 operation name
-- @treturn table an object with `:paginate(params)` (see @{Client:paginate})
-- @raise when the operation has no paginator
function Client:get_paginator(key)
  local c = self
  if not (self.service.ops[key] and self.service.ops[key].paginator) then
    error(format("invite.%s: operation %q has no paginator", self.service_name, tostring(key)), 2)
  end
  return { paginate = function(_, params) return c:paginate(key, params) end }
end

--- Whether an operation has a paginator (boto3's `can_paginate`).
-- @tparam string key boto3 operation name
-- @treturn boolean
function Client:can_paginate(key)
  return self.service.ops[key] ~= nil and self.service.ops[key].paginator ~= nil
end

-- Per-service classes ---------------------------------------------------------
local classes = {}

-- The protocol modules, by the declarations' name for them (botocore's metadata.protocol).
local PROTOCOLS = {
  ["rest-json"] = "invite.protocols.rest_json",
  json = "invite.protocols.json",
  query = "invite.protocols.query",
  ec2 = "invite.protocols.ec2",
}

local function protocol_for(name, def)
  local module = PROTOCOLS[def.protocol or "rest-json"]
  if not module then
    error(format("invite.%s: protocol %q is not supported (known: ec2, json, query, rest-json)", name,
      tostring(def.protocol)), 3)
  end
  return require(module)
end

local function class_for(name)
  local cls = classes[name]
  if cls then return cls end
  local svc = model.service(name)
  cls = {}
  for k, v in pairs(Client) do cls[k] = v end
  cls._protocol = protocol_for(name, svc.def)
  for key, op in pairs(svc.ops) do
    local secret, tokens
    for _, m in ipairs(op.input) do
      if m.sensitive then
        secret = secret or {}
        secret[#secret + 1] = m.name
      end
      if m.idempotency_token then
        tokens = tokens or {}
        tokens[#tokens + 1] = m.name
      end
    end
    sensitive_inputs[op] = secret
    token_inputs[op] = tokens
    cls[key] = function(self, params)
      if type(self) ~= "table" or self.service ~= svc then
        error(format("invite.%s.%s: call it as client:%s{...} (with a colon)", name, key, key), 2)
      end
      return self:call(key, params)
    end
    local pag = op.paginator
    if pag then
      cls[pag.all] = function(self, params) return paginate.all(self:paginate(key, params), pag) end
      cls[pag.each] = function(self, params) return paginate.items(self:paginate(key, params), pag) end
    end
  end
  cls.__index = cls
  classes[name] = cls
  return cls
end

--- Making clients.
-- @section functions

--- Makes a client of one service.
-- @tparam string name "macie2", "securityhub" or "guardduty"
-- @tparam[opt] table opts the options listed in the module description
-- @treturn Client
-- @raise on an unknown option (naming the closest) or an option of the wrong type
function _M.new(name, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("invite." .. tostring(name) .. ".client: options must be a table", 2)
  end
  opts = opts or {}
  local copy = {}
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then
      local hint = type(k) == "string" and validate.closest(k, OPTION_NAMES)
      error(format("invite.%s.client: unknown option %q%s", tostring(name), tostring(k),
        hint and format(" (did you mean %q?)", hint) or ""), 2)
    end
    if want ~= "any" and type(v) ~= want then
      error(format("invite.%s.client: option %s must be a %s, got %s", tostring(name), k, want, type(v)), 2)
    end
    if WHOLE_OPTION[k] and (v < 1 or v % 1 ~= 0 or v == math.huge) then
      error(format("invite.%s.client: option %s must be a whole number >= 1, got %s", tostring(name), k,
        tostring(v)), 2)
    end
    copy[k] = v
  end
  local body_ok, body_msg = transport.check_max_body_bytes(copy.max_body_bytes)
  if not body_ok then error(format("invite.%s.client: option %s", tostring(name), body_msg), 2) end
  if copy.transport ~= nil and type(copy.transport) ~= "string" and type(copy.transport) ~= "function"
      and not (type(copy.transport) == "table" and type(copy.transport.request) == "function") then
    error(format("invite.%s.client: option transport must be a kind name, a function or an object with :request",
      tostring(name)), 2)
  end
  local cls = class_for(name)
  local self = setmetatable({
    service_name = name,
    service = model.service(name),
    options = copy,
    dry_run = copy.dry_run == true,
    _quota = copy.retry_quota ~= false and retry.new_quota() or nil,
    _protocol = cls._protocol,
  }, cls)
  local tk = copy.transport
  if tk == nil then
    self.transport_kind = transport.default_kind()
  elseif type(tk) == "string" then
    self.transport_kind = tk
  elseif type(tk) == "function" then
    self.transport_kind = "function"
  else
    self.transport_kind = tk.kind or "custom"
  end
  return self
end

return _M
