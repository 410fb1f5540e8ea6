-- invite sim: the fixture hook of an invitation kind. A simulator module that declares `fixture`
-- (statuses, default_status, fields, global) gets its invitations[] entries checked against it and
-- held in the state keyed by ID (one inviter may send several), with their extra fields.
local fixtures, state_mod

local ME, OTHER, INVITER = "111122223333", "444455556666", "999988887777"

local function kind_modules(global)
  package.preload["invite.services.fakekind"] = function()
    return { name = "fakekind", service_id = "FakeKind", api_version = "2026-01-01", signing_name = "fakekind",
             endpoint_prefix = "fakekind", protocol = "rest-json", operations = {} }
  end
  package.preload["invite.sim.fakekind"] = function()
    return { name = "fakekind", routes = {}, ops = {},
             fixture = { statuses = { "PENDING", "ACCEPTED", "REJECTED" }, default_status = "PENDING",
                         global = global or nil,
                         fields = { share_name = "string", resource_types = "strings", sender = "account",
                                    kind = { "A", "B" } } } }
  end
  for _, m in ipairs{ "invite.model", "invite.sim.fixtures", "invite.sim.state", "invite.services.fakekind",
                      "invite.sim.fakekind" } do package.loaded[m] = nil end
  fixtures, state_mod = require "invite.sim.fixtures", require "invite.sim.state"
end

local function fx(invs)
  return { accounts = { { id = ME, name = "me" }, { id = OTHER, name = "other" } }, invitations = invs }
end

local function inv(t)
  local v = { service = "fakekind", region = "us-east-1", account = ME, inviter = INVITER, id = "i-1",
              invited_at = "2026-03-01T00:00:00Z" }
  for k, x in pairs(t or {}) do v[k] = x end
  return v
end

describe("sim fixture hook for invitation kinds", function()
  after_each(function()
    package.preload["invite.services.fakekind"], package.preload["invite.sim.fakekind"] = nil, nil
    for _, m in ipairs{ "invite.model", "invite.sim.fixtures", "invite.sim.state" } do package.loaded[m] = nil end
  end)

  it("keeps several invitations from one inviter, keyed by ID, with their fields and default status", function()
    kind_modules()
    local out = assert(fixtures.validate(fx{
      inv{ id = "i-2", share_name = "subnets", resource_types = { "ec2:Subnet" }, kind = "A" },
      inv{ id = "i-1", status = "ACCEPTED", sender = OTHER },
    }))
    local st = state_mod.new(out)
    local list = st:list("fakekind", "us-east-1", ME)
    assert.same({ "i-1", "i-2" }, { list[1].id, list[2].id })
    assert.equal("ACCEPTED", list[1].status)
    assert.equal("PENDING", list[2].status)
    assert.same({ share_name = "subnets", resource_types = { "ec2:Subnet" }, kind = "A" }, list[2].extra)
    assert.equal(OTHER, list[1].extra.sender)
    local snap = st:snapshot()
    assert.equal("subnets", snap.invitations[2].share_name)
  end)

  it("set_status and remove change what is listed and bump the version", function()
    kind_modules()
    local st = state_mod.new(assert(fixtures.validate(fx{ inv{ id = "i-1" }, inv{ id = "i-2" } })))
    local v0 = st.version
    local rec = st:find_by_id("fakekind", "us-east-1", ME, "i-1")
    st:set_status(rec, "REJECTED")
    assert.equal("REJECTED", st:list("fakekind", "us-east-1", ME)[1].status)
    st:remove(st:find_by_id("fakekind", "us-east-1", ME, "i-2"))
    local list = st:list("fakekind", "us-east-1", ME)
    assert.equal(1, #list)
    assert.is_true(st.version > v0)
    st:reset()
    assert.equal(2, #st:list("fakekind", "us-east-1", ME))
    assert.equal("PENDING", st:list("fakekind", "us-east-1", ME)[1].status)
  end)

  it("refuses a bad status, field, enum, duplicate ID and unknown field, naming each", function()
    kind_modules()
    local out, err = fixtures.validate(fx{
      inv{ status = "Invited" },
      inv{ id = "i-2", resource_types = { "" } },
      inv{ id = "i-3", kind = "C", sender = "12" },
      inv{ id = "i-3" },
      inv{ id = "i-4", colour = "red" },
    }, "f.json")
    assert.is_nil(out)
    assert.matches("f.json: invitations%[0%].status: must be one of PENDING, ACCEPTED, REJECTED", err)
    assert.matches("invitations%[1%].resource_types%[0%]: must be a non%-empty string", err)
    assert.matches("invitations%[2%].kind: must be one of A, B", err)
    assert.matches("invitations%[2%].sender: must be a 12%-digit account ID string", err)
    assert.matches("invitations%[3%].id: duplicate invitation ID i%-3", err)
    assert.matches("invitations%[4%].colour: unknown field", err)
  end)

  it("a global kind has no region: stored as 'global', a region is refused", function()
    kind_modules(true)
    local v = inv{}
    v.region = nil
    local st = state_mod.new(assert(fixtures.validate(fx{ v })))
    assert.equal(1, #st:list("fakekind", "global", ME))
    local _, err = fixtures.validate(fx{ inv{} })
    assert.matches("invitations%[0%].region: fakekind is global", err)
  end)

  it("names the kind among the services an entry may have", function()
    kind_modules()
    local _, err = fixtures.validate(fx{ inv{ service = "nope" } })
    assert.matches("invitations%[0%].service: must be one of [%w, ]*fakekind", err)
  end)
end)
