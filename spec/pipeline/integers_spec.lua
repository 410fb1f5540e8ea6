-- Integer-typed members go on the wire as integers whatever Lua number subtype holds them.
-- lua-cjson decodes every JSON number to a float (27 -> 27.0 on Lua 5.3+), so a policy or a
-- service that reads its parameters from JSON hands the clients floats. Every operation of
-- every service is called twice through a recording transport - once with integer values,
-- once with the same parameters after a cjson encode/decode round trip - and both must put the
-- same bytes on the wire. A non-integral value for an integer member is a ValidationError
-- naming the member, and nothing is sent.
local invite = require "invite"
local model = require "invite.model"
local cjson = require "cjson"

local CREDS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

local function recorder()
  local t = { kind = "recorder", sent = {} }
  function t.request(_, req)
    t.sent[#t.sent + 1] = req
    return { status = 200, headers = { { "x-amzn-requestid", "r" } }, body = "{}" }
  end
  return t
end

local function client(service, t)
  return invite[service].client{ region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = CREDS,
    transport = t, clock = function() return 1440938160 end, max_attempts = 1 }
end

-- integral test values per integer member: inside the member's range, and not 1 (1 and 1.0
-- print alike on Lua 5.1)
local function int_value(spec)
  local lo, hi = spec.min or 0, spec.max or 1000
  local v = math.floor((lo + hi) / 2)
  if v == 1 and hi >= 2 then v = 2 end
  return v
end

-- a valid value for a string member checked against its model pattern (`matches`), by pattern
local MATCHING = {
  ["^h-[0-9a-z]{8,32}$"] = "h-0123456789abcdef", -- Organizations' HandshakeId
  ["^arn:aws[-\\w]{0,10}?:detective:[-\\w]{2,20}?:\\d{12}?:graph:[abcdef\\d]{32}?$"] =
    "arn:aws:detective:us-east-1:111122223333:graph:0123456789abcdef0123456789abcdef",
}

-- a valid value for a member spec; `ints` collects the paths of integer members
-- valid values of the members whose strings have a pattern (`matches`)
local SAMPLES = {
  GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:0123456789abcdef0123456789abcdef",
  HandshakeId = "h-0123456789ab", ParentHandshakeId = "h-0123456789ab",
}

local function value_for(spec, path, ints)
  local t = spec.type
  if t == "integer" or t == "long" then
    ints[#ints + 1] = path
    return int_value(spec)
  elseif t == "boolean" then return true
  elseif t == "list" then
    return { value_for(spec.member, path .. "[1]", ints) }
  elseif t == "structure" then
    local o = {}
    for _, m in ipairs(spec.members or {}) do o[m.name] = value_for(m, path .. "." .. m.name, ints) end
    return o
  elseif spec.matches then
    local v = MATCHING[spec.pattern]
    assert(v and spec.matches(v), path .. ": MATCHING has no value for the pattern " .. tostring(spec.pattern))
    return v
  elseif spec.account_id then return "111122223333"
  elseif spec.enum then return spec.enum[1]
  elseif spec.matches then
    -- a string with the model's pattern (Detective's graph ARN, a handshake ID): a valid one
    local sample = SAMPLES[spec.name or path:match("([%w_]+)$")]
    assert(sample and spec.matches(sample), "integers_spec: no valid sample for the patterned member " .. path)
    return sample
  end
  return string.rep("a", math.max(spec.min or 1, 1))
end

-- every member given, each with a valid value
local function full_params(op)
  local p, ints = {}, {}
  for _, m in ipairs(op.input) do p[m.name] = value_for(m, m.name, ints) end
  return p, ints
end

local function operations()
  local list = {}
  for _, name in ipairs(model.SERVICES) do
    local svc = model.service(name)
    local keys = {}
    for key in pairs(svc.ops) do keys[#keys + 1] = key end
    table.sort(keys)
    for _, key in ipairs(keys) do list[#list + 1] = { service = name, key = key, op = svc.ops[key] } end
  end
  return list
end

-- sets the integer member at `path` ("A", "A.B", "A[1]") of params to v
local function set_path(params, path, v)
  local parent, key = params, nil
  for part, index in path:gmatch("([^.%[]+)(%[?%d*%]?)") do
    if key ~= nil then parent = parent[key] end
    key = part
    if index ~= "" then
      parent = parent[key]
      key = tonumber(index:match("%d+"))
    end
  end
  parent[key] = v
end

describe("integer members", function()
  local ops = operations()
  local with_ints = 0
  for _, o in ipairs(ops) do
    local _, ints = full_params(o.op)
    if #ints > 0 then with_ints = with_ints + 1 end
  end

  it("are declared by at least one operation of every service (the sweep below tests something)", function()
    local seen = {}
    for _, o in ipairs(ops) do
      local _, ints = full_params(o.op)
      if #ints > 0 then seen[o.service] = true end
    end
    for _, name in ipairs(model.SERVICES) do assert.is_true(seen[name], name .. " has no integer member") end
    assert.is_true(with_ints >= 3)
  end)

  for _, o in ipairs(ops) do
    local label = o.service .. "." .. o.key
    it(label .. ": parameters decoded by lua-cjson give the same request as integers", function()
      local params = full_params(o.op)
      local decoded = cjson.decode(cjson.encode(params))
      local t1, t2 = recorder(), recorder()
      local _, e1 = client(o.service, t1)[o.key](client(o.service, t1), params)
      local c2 = client(o.service, t2)
      local _, e2 = c2[o.key](c2, decoded)
      assert.is_nil(e1, tostring(e1))
      assert.is_nil(e2, tostring(e2))
      assert.are.equal(1, #t1.sent)
      assert.are.equal(1, #t2.sent)
      local a, b = t1.sent[1], t2.sent[1]
      assert.are.equal(a.url, b.url)
      assert.are.equal(a.body or "", b.body or "")
      -- and no integer reached the wire in float spelling (the path, the query, the body)
      local wire = b.url:gsub("^%a+://[^/]*", "") .. " " .. (b.body or "")
      assert.is_nil(wire:find("%d%.0[^%d]"), wire)
      assert.is_nil(wire:find("%d%.0$"), wire)
    end)

    local _, ints = full_params(o.op)
    for _, path in ipairs(ints) do
      it(label .. ": a non-integral " .. path .. " is a ValidationError naming it, nothing sent", function()
        local params = full_params(o.op)
        set_path(params, path, 2.5)
        local t = recorder()
        local c = client(o.service, t)
        local res, err = c[o.key](c, params)
        assert.is_nil(res)
        assert.are.equal("ValidationError", err.code)
        assert.truthy(tostring(err):find(path, 1, true), tostring(err))
        assert.truthy(tostring(err):find("must be an integer", 1, true), tostring(err))
        assert.are.equal(0, #t.sent)
      end)
    end
  end
end)

describe("PaginationConfig", function()
  it("from lua-cjson walks the same pages with the same requests as integers", function()
    local function walk(cfg)
      local t = recorder()
      local n = 0
      function t.request(_, req)
        t.sent[#t.sent + 1] = req
        n = n + 1
        local items = {}
        for i = 1, 10 do items[i] = { AccountId = string.format("%012d", n * 100 + i) } end
        return { status = 200, headers = {}, body = cjson.encode{ Invitations = items, NextToken = "t" .. n } }
      end
      local c = client("securityhub", t)
      local got = {}
      for page, err in c:paginate("list_invitations", { PaginationConfig = cfg }) do
        assert.truthy(page, tostring(err))
        got[#got + 1] = #page.Invitations
      end
      local urls = {}
      for i, r in ipairs(t.sent) do urls[i] = r.url end
      return table.concat(got, ","), table.concat(urls, " ")
    end
    local g1, u1 = walk{ PageSize = 10, MaxItems = 25 }
    local g2, u2 = walk(cjson.decode('{"PageSize": 10, "MaxItems": 25}'))
    assert.are.equal("10,10,5", g1)
    assert.are.equal(g1, g2)
    assert.are.equal(u1, u2)
    assert.is_nil(u2:find("=10%.0"), u2)
  end)

  it("refuses a non-integral MaxItems, naming it, before any request", function()
    local t = recorder()
    local c = client("securityhub", t)
    local page, err = c:paginate("list_invitations", { PaginationConfig = { MaxItems = 2.5 } })()
    assert.is_false(page)
    assert.are.equal("ValidationError", err.code)
    assert.truthy(tostring(err):find("PaginationConfig.MaxItems: must be an integer", 1, true), tostring(err))
    assert.are.equal(0, #t.sent)
  end)
end)

describe("STS DurationSeconds", function()
  local assume_role = require "invite.credentials.assume_role"
  local function source()
    return { get = function() return true, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" end }
  end

  it("takes a whole number held in a float (what cjson decodes) and sends it as an integer", function()
    local sent
    local conf = cjson.decode('{"duration_seconds": 3600}')
    local p = assume_role.new{ role_arn = "arn:aws:iam::111122223333:role/r", source = source(),
      duration_seconds = conf.duration_seconds, region = "us-east-1", sts_endpoint = "http://127.0.0.1:1",
      http = function(req) sent = req; return { status = 500, headers = {}, body = "" } end }
    local _, err = p:get()
    assert.truthy(sent, "no request was sent: " .. tostring(err))
    assert.truthy(sent.body:find("DurationSeconds=3600&", 1, true) or sent.body:find("DurationSeconds=3600$"),
      sent.body)
  end)

  it("refuses a non-integral duration_seconds, naming it", function()
    local ok, err = pcall(assume_role.new, { role_arn = "arn:aws:iam::111122223333:role/r", source = source(),
      duration_seconds = 3600.5 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("duration_seconds must be a whole number", 1, true), tostring(err))
  end)
end)
