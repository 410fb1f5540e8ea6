-- invite.discover.accounts against the simulator: the ACTIVE accounts of the organisation, all of
-- them (ListAccounts) or under roots/OUs at any depth (ListChildren ORGANIZATIONAL_UNIT and
-- ListAccountsForParent), minus exclusions, deduplicated and sorted, with the skipped ones counted;
-- bad OU or account IDs refused with nothing sent; the service's errors as nil, err; the
-- organisation itself (DescribeOrganization); and concurrently inside scheduler tasks.
local sim = require "support.sim"
local envh = require "support.env"
local accounts = require "invite.discover.accounts"
local scheduler = require "invite.scheduler"
local errors = require "invite.errors"

local ADMIN, STRANGER = "111111111111", "999999999999"
local KEY = { id = "AKIASIMDISCOVERACC01", secret = "sim/discover/accounts/FAKE" }
local MEMBER_KEY = { id = "AKIASIMDISCOVERACC02", secret = "sim/discover/accounts/member/FAKE" }
local STRANGER_KEY = { id = "AKIASIMDISCOVERACC03", secret = "sim/discover/accounts/stranger/FAKE" }
local OU_A, OU_B, OU_C, OU_D = "ou-sim1-aaaaaaaa", "ou-sim1-bbbbbbbb", "ou-sim1-cccccccc", "ou-sim1-dddddddd"

local M = {}
for i = 1, 12 do M[i] = ("3000000000%02d"):format(i) end

-- root: the admin, members 10-12; A: 1-4, C (in A): 5-6, D (in C): 7; B: 8-9.
-- Suspended 2 and 9, member 11 PENDING_CLOSURE.
local function fixture()
  local parents = {}
  for i = 1, 4 do parents[M[i]] = OU_A end
  parents[M[5]], parents[M[6]], parents[M[7]], parents[M[8]], parents[M[9]] = OU_C, OU_C, OU_D, OU_B, OU_B
  local fx = sim.org_fixture{ admin = ADMIN, key = KEY, inviter = STRANGER, members = M, services = {},
    regions = {}, organization = true, parents = parents, suspended = { M[2], M[9] },
    units = { { id = OU_A, name = "A" }, { id = OU_B, name = "B" }, { id = OU_C, name = "C", parent = OU_A },
              { id = OU_D, name = "D", parent = OU_C } } }
  for _, a in ipairs(fx.accounts) do
    if a.id == M[11] then a.status = "PENDING_CLOSURE" end
    if a.id == M[1] then a.access_keys, a.name, a.email = { MEMBER_KEY }, "one", "one@example.com" end
    if a.id == STRANGER then a.access_keys = { STRANGER_KEY } end
  end
  return fx
end

local function ids_of(list) return sim.pluck(list, "id") end

local function members(...)
  local out = {}
  for i, n in ipairs{ ... } do out[i] = M[n] end
  return out
end

describe("invite.discover.accounts", function()
  local s, e
  local function opts(o)
    local t = { endpoint = s.endpoint, credentials = { access_key_id = KEY.id, secret_access_key = KEY.secret },
                env = e.vars, sleep = function() end }
    for k, v in pairs(o or {}) do t[k] = v end
    return t
  end
  setup(function() s = sim.start{ fixtures = fixture() } end)
  teardown(function() s:stop() end)
  before_each(function()
    e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" }
    s:clear_requests()
  end)
  after_each(function() envh.cleanup() end)

  it("without ous: every ACTIVE account (ListAccounts), sorted, the others counted", function()
    local list, counts = accounts.of_organization(opts())
    assert.is_table(list, tostring(counts))
    local want = { ADMIN }
    for _, n in ipairs{ 1, 3, 4, 5, 6, 7, 8, 10, 12 } do want[#want + 1] = M[n] end
    assert.are.same(want, ids_of(list))
    assert.are.same({ suspended = 2, pending_closure = 1, excluded = 0, found = 13 }, counts)
    assert.are.same({ id = M[1], name = "one", email = "one@example.com", status = "ACTIVE" }, list[2])
    -- the empty first page, then one page of 13
    assert.are.equal(2, s:count("ListAccounts"))
    assert.are.equal(0, s:count("ListChildren"))
  end)

  it("exclude: left out and counted (a suspended one counts as excluded)", function()
    local list, counts = accounts.of_organization(opts{ exclude = { ADMIN, M[10], M[2] } })
    assert.are.same(members(1, 3, 4, 5, 6, 7, 8, 12), ids_of(list))
    assert.are.same({ suspended = 1, pending_closure = 1, excluded = 3, found = 13 }, counts)
  end)

  it("ous: the accounts under an OU at any depth, each OU walked once", function()
    local list, counts = accounts.of_organization(opts{ ous = { OU_A } })
    assert.are.same(members(1, 3, 4, 5, 6, 7), ids_of(list))
    assert.are.same({ suspended = 1, pending_closure = 0, excluded = 0, found = 7 }, counts)
    -- A, C and D: each a ListAccountsForParent and a ListChildren walk of two requests (empty first page)
    assert.are.equal(6, s:count("ListAccountsForParent"))
    assert.are.equal(6, s:count("ListChildren"))
    assert.are.equal(0, s:count("ListAccounts"))
    s:clear_requests()
    -- nested and repeated OUs: the same accounts, once each, the OUs walked once
    list = accounts.of_organization(opts{ ous = { OU_C, OU_A, OU_C, OU_D } })
    assert.are.same(members(1, 3, 4, 5, 6, 7), ids_of(list))
    assert.are.equal(6, s:count("ListAccountsForParent"))
    -- two OUs side by side, and the root (everything, as ListAccounts gives)
    assert.are.same(members(1, 3, 4, 5, 6, 7, 8), ids_of((accounts.of_organization(opts{ ous = { OU_B, OU_A } }))))
    local all = accounts.of_organization(opts())
    assert.are.same(ids_of(all), ids_of((accounts.of_organization(opts{ ous = { "r-sim1" } }))))
  end)

  it("a bad OU or account ID: an error naming ous[i] / exclude[i] and the rule, nothing sent", function()
    local cases = {
      { { ous = { "ou-bad" } }, "ous[1] = \"ou-bad\": a parent is a root ID" },
      { { ous = { OU_A, "r-X" } }, "ous[2] = \"r-X\": a parent is a root ID (r- and 4 to 32 lower-case" },
      { { ous = { OU_A, 7 } }, "ous[2] = 7 (a number): a parent is" },
      { { ous = OU_A }, "ous: must be a list, got \"" .. OU_A .. "\"" },
      { { ous = { x = OU_A } }, "ous: must be a list (a Lua array with keys 1..n)" },
      { { exclude = { ADMIN, "12345" } }, "exclude[2] = \"12345\": an account ID is 12 digits" },
    }
    for _, c in ipairs(cases) do
      local list, err = accounts.of_organization(opts(c[1]))
      assert.is_nil(list)
      assert.is_true(errors.is_error(err))
      assert.are.same({ "ValidationError", false }, { err.code, err.retryable })
      assert.truthy(tostring(err):find(c[2], 1, true), tostring(err))
    end
    assert.are.same({}, s:requests())
    assert.has_error(function() accounts.of_organization("us-east-1") end,
      "invite.discover.accounts.of_organization: options must be a table")
    assert.has_error(function() accounts.of_organization(opts{ regoin = "us-east-1" }) end)
  end)

  it("the service's errors: nil, err (a member account: AccessDeniedException, one request)", function()
    local list, err = accounts.of_organization(opts{ max_attempts = 3,
      credentials = { access_key_id = MEMBER_KEY.id, secret_access_key = MEMBER_KEY.secret } })
    assert.is_nil(list)
    assert.are.same({ "AccessDeniedException", false }, { err.code, err.retryable })
    assert.are.equal(1, #s:requests())
    list, err = accounts.of_organization(opts{ ous = { OU_A, "ou-sim1-zzzzzzzz" } })
    assert.is_nil(list)
    assert.are.equal("ParentNotFoundException", err.code)
    list, err = accounts.of_organization(opts{
      credentials = { access_key_id = STRANGER_KEY.id, secret_access_key = STRANGER_KEY.secret } })
    assert.is_nil(list)
    assert.are.equal("AWSOrganizationsNotInUseException", err.code)
  end)

  it("organization(): DescribeOrganization's Organization, for any member; nil, err outside", function()
    local o = assert(accounts.organization(opts()))
    assert.are.same({ "o-simspecorg1", ADMIN, "ALL" }, { o.Id, o.MasterAccountId, o.FeatureSet })
    o = assert(accounts.organization(opts{
      credentials = { access_key_id = MEMBER_KEY.id, secret_access_key = MEMBER_KEY.secret } }))
    assert.are.equal(ADMIN, o.MasterAccountId)
    local none, err = accounts.organization(opts{
      credentials = { access_key_id = STRANGER_KEY.id, secret_access_key = STRANGER_KEY.secret } })
    assert.is_nil(none)
    assert.are.equal("AWSOrganizationsNotInUseException", err.code)
  end)

  it("runs inside scheduler tasks, concurrently", function()
    local tasks = {
      function() return accounts.of_organization(opts{ ous = { OU_A } }) end,
      function() return accounts.of_organization(opts{ ous = { OU_B } }) end,
      function() return accounts.of_organization(opts()) end,
    }
    local results = scheduler.run(tasks, { concurrency = 3 })
    for i = 1, 3 do assert.is_true(results[i].ok, tostring(results[i].error)) end
    assert.are.same(members(1, 3, 4, 5, 6, 7), ids_of(results[1][1]))
    assert.are.same(members(8), ids_of(results[2][1]))
    assert.are.equal(10, #results[3][1])
  end)
end)
