-- invite.validate checks in two passes: a fast one that only answers valid/invalid (no strings or
-- tables built) and, when it says invalid, the message pass. If the fast pass ever said "valid"
-- for input the message pass refuses, that input would be sent. This spec feeds both passes the
-- same seeded random inputs over every operation of the three services - good and bad strings,
-- account IDs, NUL bytes, invalid UTF-8, lists with holes, extra keys and metatables, NaN,
-- infinities, unknown and positional parameters - and requires the same verdict every time.
local model = require "invite.model"
local validate = require "invite.validate"

local function generator(seed)
  -- a small LCG of our own: the same inputs on Lua 5.4, 5.1 and LuaJIT
  local state = seed
  local function R(a, b)
    state = (state * 1103515245 + 12345) % 2147483648
    if b == nil then a, b = 1, a end
    return a + state % (b - a + 1)
  end
  local function id() return string.format("%012d", R(0, 999999999)) end
  local function rstr()
    local k = R(12)
    if k == 1 then return id() end
    if k == 2 then return "11112222333" .. string.char(R(0, 255)) end
    if k == 3 then
      local t = {}
      for i = 1, R(0, 14) do t[i] = string.char(R(0, 255)) end
      return table.concat(t)
    end
    if k == 4 then return "" end
    if k == 5 then return "   " end
    if k == 6 then return string.rep("a", R(0, 400)) end
    if k == 7 then return "\226\130\172" .. string.rep("9", R(0, 12)) end
    if k == 8 then return "ACCEPTED" end
    if k == 9 then return "1111222233 3" end
    if k == 10 then return string.format("%12d", R(0, 99999)) end
    return "111122223333"
  end
  local rval
  local function rlist(depth)
    local t, n = {}, ({ 0, 1, 2, 50, 51, 60, 3 })[R(7)]
    for i = 1, n do t[i] = rval(depth + 1) end
    local k = R(12)
    if k == 1 then t.x = 1
    elseif k == 2 then t[n + 2] = "111122223333"
    elseif k == 3 and n > 0 then t[R(n)] = nil
    elseif k == 4 then t[0] = "111122223333"
    elseif k == 5 then t[1.5] = 1
    elseif k == 6 then setmetatable(t, {}) end
    return t
  end
  function rval(depth)
    local k = R(10)
    if k <= 5 then return rstr() end
    if k == 6 then return ({ 1, 0, -1, 25, 26, 50, 51, 1.5, 1 / 0, 0 / 0, 2 ^ 53, 3.0, 1e300 })[R(13)] end
    if k == 7 then return R(2) == 1 end
    if k == 8 and depth < 2 then return rlist(depth) end
    if k == 9 then return {} end
    return id()
  end
  local function params(op)
    local k = R(20)
    if k == 1 then return nil end
    if k == 2 then return "x" end
    if k == 3 then return setmetatable({}, {}) end
    local p = {}
    for _, m in ipairs(op.input) do
      local c = R(10)
      if c <= 2 then
        p[m.name] = nil -- absent
      elseif c <= 5 and m.type == "list" then
        local t = {}
        for j = 1, ({ 1, 2, 50, 51 })[R(4)] do t[j] = (R(30) == 1) and rval(1) or id() end
        p[m.name] = t
      elseif c <= 6 then p[m.name] = rval(0)
      elseif c <= 8 and m.type == "string" then p[m.name] = (R(3) == 1) and rstr() or ("d" .. R(1000))
      elseif m.type == "integer" or m.type == "long" then p[m.name] = R(-2, 60)
      else p[m.name] = rval(0) end
    end
    if R(15) == 1 then p.Bogus = 1 end
    if R(30) == 1 then p[1] = "x" end
    if R(15) == 1 then p.PaginationConfig = {} end
    return p
  end
  return R, params
end

describe("invite.validate's two passes", function()
  local ops = {}
  for _, s in ipairs(model.SERVICES) do
    local svc = model.service(s)
    for _, op in pairs(svc.ops) do ops[#ops + 1] = { s, op } end
  end
  table.sort(ops, function(a, b) return a[1] .. a[2].key < b[1] .. b[2].key end)

  it("give the same verdict and message on 30,000 random inputs over every operation", function()
    local R, params = generator(20261122)
    local valid, invalid = 0, 0
    for _ = 1, 30000 do
      local pick = ops[R(#ops)]
      local s, op = pick[1], pick[2]
      local p = params(op)
      local extra = (R(4) == 1) and { PaginationConfig = true } or nil
      local a, ae = validate.check(s, op, p, extra)
      local b, be = validate._explain(s, op, p, extra)
      if (a == true) ~= (b == true) or (ae and ae.message) ~= (be and be.message) then
        error(("%s.%s: check said %s (%s), the message pass %s (%s)"):format(s, op.key, tostring(a),
          tostring(ae and ae.message), tostring(b), tostring(be and be.message)), 0)
      end
      if a then valid = valid + 1 else invalid = invalid + 1 end
    end
    -- both kinds must be well represented, or the comparison proves little
    assert.is_true(valid > 3000, "valid inputs: " .. valid)
    assert.is_true(invalid > 3000, "invalid inputs: " .. invalid)
    print(("# validate passes: %d valid, %d invalid inputs, verdicts identical"):format(valid, invalid))
  end)
end)
