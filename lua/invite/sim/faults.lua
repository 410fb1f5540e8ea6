-- invite.sim.faults: fault injection rules, deterministic for a given seed and request sequence.
--
-- A spec is a list of rules separated by ';' or newlines. Each rule is a few words:
--
--   [first N | P | P% | always]  [service[:Operation] | *]  [region=R]  [account=ID]  FAULT
--
--   FAULT := throttle[=SECONDS]   429 (STS: 400) + the service's throttling code; =S adds Retry-After: S
--          | 500 | 503[=SECONDS]  server errors in the service's style (503 may carry Retry-After)
--          | reset                the connection is closed with a TCP reset, no response
--          | truncate             the response is cut in half and the connection closed
--          | badjson              a 200 response whose body is not valid JSON (STS: not valid XML)
--          | latency=MS[-MS]      the response is held MS milliseconds (uniform in a range)
--          | lost                 the operation runs (state changes), then the connection is reset
--                                 before any answer: a retried delete finds the invitation gone
--          | endless-pages        ListInvitations/ListDetectors: an empty list and a fresh, never
--                                 repeating next token, every time (the token restarts the list)
--          | bigpage=N            ListInvitations: N synthesised invitations (distinct 12-digit
--                                 inviters 9xxxxxxxxxxx), no next token; 1 <= N <= 1000000
--          | bigbody=BYTES        the operation's answer padded with spaces to BYTES bytes, with a
--                                 correct Content-Length, streamed in chunks
--          | bigbody-nolength=BYTES  the same without Content-Length: Connection: close ends it
--          | bigmessage=BYTES     a 400 BadRequestException in the service's style (STS: XML
--                                 ValidationError) whose message is BYTES bytes long
--          | echo-secrets         a 400 BadRequestException whose message quotes the request's
--                                 X-Amz-Security-Token and Authorization headers verbatim
--          | malformed-unprocessed[=garbage]  Decline/DeleteInvitations: every ID but the first is
--                                 carried out; the first comes back unprocessed with no account ID
--                                 member (=garbage: the entry is a JSON string, not an object)
--          | malformed-invitation ListInvitations: an extra first invitation with no account ID
--          | escape               ListInvitations: invitation IDs and invitedAt end in terminal
--                                 escape sequences (ESC ] 0;pwned BEL ESC [2J)
--
-- BYTES is a whole number, optionally with K, M or G (KiB, MiB, GiB); at most 1G. Faults that
-- shape a list or an unprocessed list leave other operations' answers as they are. throttle, 500,
-- 503, reset, bigmessage and echo-secrets replace the operation (state unchanged); the others
-- run it first.
--
-- "first N" fires on the first N requests that reach the rule; P (0..1) or P% fires at random with
-- that probability; no head means always. Rules are tried in spec order and the first one that
-- fires decides the fault; the rules after it are not consulted for that request (they neither
-- count it nor draw a number), except latency rules, which always apply and add up. Every
-- probabilistic rule consulted draws one number from the seeded generator, fired or not, so a
-- run is reproducible.
local util = require "invite.sim.util"

local _M = {}

local ipairs, tonumber, floor, format, concat = ipairs, tonumber, math.floor, string.format, table.concat

-- The services a rule may name: the invitation services the simulator serves, and the others it
-- serves (sts, organizations ...: invite.sim.SERVICES), listed after them with sts first.
local function services()
  local list, by_name = require("invite.sim.fixtures").services()
  local known, names = { sts = true }, {}
  for i, n in ipairs(list) do names[i] = n end
  names[#names + 1] = "sts"
  for _, n in ipairs(require("invite.sim").SERVICES) do
    if not by_name[n] and not known[n] then known[n], names[#names + 1] = true, n end
  end
  return names, function(s) return known[s] or by_name[s] ~= nil end
end
_M.MAX_BIGPAGE = 1000000
_M.MAX_BYTES = 1073741824
local UNITS = { K = 1024, M = 1048576, G = 1073741824 }

local function parse_fault(tok)
  local name, arg = tok:match("^([%w%-]+)=(.+)$")
  name = name or tok
  if name == "throttle" or name == "503" then
    local s
    if arg then
      s = tonumber(arg)
      if not s or s < 0 or s ~= floor(s) then return nil, "Retry-After must be whole seconds" end
    end
    return { kind = name == "throttle" and "throttle" or "503", retry_after = s }
  elseif name == "500" or name == "reset" or name == "truncate" or name == "badjson" then
    if arg then return nil, name .. " takes no value" end
    return { kind = name }
  elseif name == "lost" or name == "endless-pages" or name == "echo-secrets" or name == "malformed-invitation"
      or name == "escape" then
    if arg then return nil, name .. " takes no value" end
    return { kind = name }
  elseif name == "malformed-unprocessed" then
    if arg and arg ~= "garbage" then return nil, "malformed-unprocessed takes no value or =garbage" end
    return { kind = name, garbage = arg == "garbage" }
  elseif name == "bigpage" then
    local n = tonumber(arg or "")
    if not n or n ~= floor(n) or n < 1 or n > _M.MAX_BIGPAGE or not arg:find("^%d+$") then
      return nil, "bigpage needs a number of invitations from 1 to " .. _M.MAX_BIGPAGE .. ", e.g. bigpage=5000"
    end
    return { kind = name, count = n }
  elseif name == "bigbody" or name == "bigbody-nolength" or name == "bigmessage" then
    local digits, unit = (arg or ""):match("^(%d+)([KMG]?)$")
    local n = digits and #digits <= 10 and tonumber(digits) * (UNITS[unit] or 1)
    if not n or n > _M.MAX_BYTES then
      return nil, name .. " needs a size in bytes up to 1G (K, M, G: KiB, MiB, GiB), e.g. " .. name .. "=64M"
    end
    return { kind = name, bytes = n }
  elseif name == "latency" then
    if not arg then return nil, "latency needs milliseconds, e.g. latency=200 or latency=100-300" end
    local lo, hi = arg:match("^(%d+)%-(%d+)$")
    lo, hi = tonumber(lo or arg), tonumber(hi or arg)
    if not lo or not hi or lo > hi or lo > 600000 or hi > 600000 then
      return nil, "latency must be MS or MS-MS with 0 <= MS <= 600000"
    end
    return { kind = "latency", min_ms = lo, max_ms = hi }
  end
  return nil
end

local function parse_rule(text)
  local toks = {}
  for t in text:gmatch("%S+") do toks[#toks + 1] = t end
  local rule = { text = text, p = 1 }
  local i = 1
  if toks[1] == "first" then
    local n = tonumber(toks[2] or "")
    if not n or n < 0 or n ~= floor(n) then return nil, "'first' needs a whole number of requests" end
    rule.first, rule.p = n, nil
    i = 3
  elseif toks[1] == "always" then
    i = 2
  elseif toks[1] and (toks[1]:find("^%d*%.?%d+%%$") or (tonumber(toks[1]) and tonumber(toks[1]) <= 1)) then
    local p = toks[1]:sub(-1) == "%" and tonumber(toks[1]:sub(1, -2)) / 100 or tonumber(toks[1])
    if not p or p < 0 or p > 1 then return nil, "probability must be between 0 and 1 (or 0% and 100%)" end
    rule.p = p
    i = 2
  end
  for j = i, #toks do
    local t = toks[j]
    local fault, ferr = parse_fault(t)
    if fault then
      if rule.fault then return nil, "more than one fault in one rule (use one rule per fault)" end
      rule.fault = fault
    elseif ferr then
      return nil, ferr
    elseif t:find("^region=") then
      rule.region = t:sub(8)
      if not util.is_region(rule.region) then return nil, "bad region '" .. rule.region .. "'" end
    elseif t:find("^account=") then
      rule.account = t:sub(9)
      if not util.is_account_id(rule.account) then return nil, "bad account ID '" .. rule.account .. "'" end
    elseif t == "*" then
      rule.service = nil
    else
      local svc, op = t:match("^([%w]+):(%u%w*)$")
      svc = svc or t
      local list, known = services()
      if not known(svc) then
        return nil, "unknown word '" .. t .. "' (expected a service " .. concat(list, ", ") .. ", "
          .. "optionally :Operation, region=, account= or a fault)"
      end
      if rule.service then return nil, "more than one service in one rule" end
      rule.service, rule.operation = svc, op
    end
  end
  if not rule.fault then return nil, "no fault (throttle, 500, 503, reset, truncate, badjson, latency=MS, "
    .. "lost, endless-pages, bigpage=N, bigbody=BYTES, bigbody-nolength=BYTES, bigmessage=BYTES, echo-secrets, "
    .. "malformed-unprocessed[=garbage], malformed-invitation, escape)" end
  return rule
end

-- Parses a spec. Returns a list of rules, or nil and "faults: rule N ('...'): problem".
function _M.parse(spec)
  if spec == nil then return {} end
  if type(spec) ~= "string" then return nil, "faults: the spec must be a string" end
  local rules = {}
  local n = 0
  for raw in (spec .. ";"):gmatch("([^;\n]*)[;\n]") do
    local text = raw:gsub("#.*$", ""):match("^%s*(.-)%s*$")
    if text ~= "" then
      n = n + 1
      local rule, err = parse_rule(text)
      if not rule then return nil, format("faults: rule %d ('%s'): %s", n, text, err) end
      rules[#rules + 1] = rule
    end
  end
  return rules
end

local Engine = {}
Engine.__index = Engine

function _M.new(rules, seed)
  local self = setmetatable({}, Engine)
  self:set(rules or {}, seed)
  return self
end

-- Replaces the rules; counters restart and, when a seed is given, the generator too.
function Engine:set(rules, seed)
  self.rules = rules
  for _, r in ipairs(rules) do r.seen, r.fired = 0, 0 end
  if seed ~= nil then self.seed = seed end
  self.rng = util.rng(self.seed or 1)
end

local function matches(r, ctx)
  if r.service and r.service ~= ctx.service then return false end
  if r.operation and r.operation ~= ctx.operation then return false end
  if r.region and r.region ~= ctx.region then return false end
  if r.account and r.account ~= ctx.account then return false end
  return true
end

-- ctx: { service, operation, region, account }. Returns nil when nothing fires, else a table
-- { fault = {kind=..., retry_after=...} or nil, latency = seconds, rule = index }.
function Engine:decide(ctx)
  local result
  for i, r in ipairs(self.rules) do
    if matches(r, ctx) and not (result and result.fault and r.fault.kind ~= "latency") then
      r.seen = r.seen + 1
      local fire
      if r.first then
        fire = r.seen <= r.first
      elseif r.p >= 1 then
        fire = true
      else
        fire = self.rng:random() < r.p
      end
      if fire then
        result = result or { latency = 0 }
        if r.fault.kind == "latency" then
          r.fired = r.fired + 1
          local ms = r.fault.min_ms
          if r.fault.max_ms > ms then ms = ms + self.rng:int(r.fault.max_ms - ms + 1) - 1 end
          result.latency = result.latency + ms / 1000
        elseif not result.fault then
          r.fired = r.fired + 1
          result.fault, result.rule = r.fault, i
        end
      end
    end
  end
  return result
end

function Engine:describe()
  local out = {}
  for i, r in ipairs(self.rules) do
    out[i] = { rule = r.text, matched = r.seen, fired = r.fired }
  end
  return { seed = self.seed or 1, rules = util.array(out) }
end

return _M
