-- A new invitation service is two files: lua/invite/services/<name>.lua and lua/invite/sim/<name>.lua.
-- The tree (lua/, bin/; build/ linked) is copied to a scratch directory, a renamed copy of macie2 is
-- added as those two files only ("examplesvc", endpoint prefix and signing name examplesvc), and the
-- copy's simulator and CLI run on it: the help names it, a policy may name it, `invite plan` plans
-- it by default and with --services, `invite apply` declines, deletes and accepts there, `invite
-- count`, `list` and `decline` work on it, fault rules and fixtures take its name. Then how
-- invite.model finds the services: without LuaFileSystem (ls), with neither lfs nor io.popen (a
-- clear error, or the preloaded declarations), clients-only declarations (in no list), and a
-- declaration whose `invitations` names a member its operations lack.
local interp = require "support.interp"
local sim = require "support.sim"
local cjson = require "cjson"

local q = sim.shell_quote
local read_file, write_file = sim.read_file, sim.write_file

local MEMBER, STRANGER, ADMIN, OTHER = "222222222222", "111111111111", "333333333333", "444444444444"
local KEY = { id = "AKIANEWSERVICESPEC01", secret = "new/service/spec/secret/0123456789abcdef" }

local function capture(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

local function abs_root()
  local root = sim.ROOT
  if root:sub(1, 1) ~= "/" then root = (capture("cd " .. q(root) .. " && pwd"):gsub("%s+$", "")) end
  return root
end

-- `text` with every plain occurrence of each `from` replaced (a list of {from, to}).
local function rename(text, pairs_)
  for _, p in ipairs(pairs_) do
    local from = p[1]:gsub("%p", "%%%0")
    local to = p[2]:gsub("%%", "%%%%")
    text = text:gsub(from, to)
  end
  return text
end

-- Every file under dir (relative paths, sorted).
local function files_under(dir)
  local out = {}
  for line in capture("cd " .. q(dir) .. " && find . -type f | LC_ALL=C sort"):gmatch("[^\n]+") do
    out[#out + 1] = line:sub(3)
  end
  return out
end


-- the checkout's six invitation services, then the example service ordered after them
local SIX = "macie2, securityhub, guardduty, detective, organizations, ram"
local SEVEN = SIX .. ", examplesvc"

describe("a new invitation service", function()
  local ROOT = abs_root()
  local tmp, s

  local function invite(args, stdin)
    local cmd = "cd " .. q(tmp) .. " && env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN -u LUA_PATH"
      .. " -u LUA_PATH_5_2 -u LUA_PATH_5_3 -u LUA_PATH_5_4 AWS_CONFIG_FILE=/dev/null"
      .. " AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1"
      .. " AWS_ACCESS_KEY_ID=" .. KEY.id .. " AWS_SECRET_ACCESS_KEY=" .. q(KEY.secret) .. " "
      .. interp.LUA .. " bin/invite " .. args .. " >" .. q(tmp .. "/out") .. " 2>" .. q(tmp .. "/err")
      .. (stdin and (" <" .. q(stdin)) or "")
    local code = interp.execute(cmd)
    return code, read_file(tmp .. "/out"), read_file(tmp .. "/err")
  end

  local function json(out) return assert(cjson.decode(out), out) end

  local function state_of(service)
    local out = {}
    for _, inv in ipairs(s:state().invitations) do
      if inv.service == service then out[inv.inviter] = inv.status end
    end
    return out
  end

  setup(function()
    tmp = (capture("mktemp -d"):gsub("%s+$", ""))
    assert(interp.execute("cp -R " .. q(ROOT .. "/lua") .. " " .. q(ROOT .. "/bin") .. " " .. q(ROOT .. "/tools")
      .. " " .. q(tmp)) == 0)
    assert(interp.execute("ln -s " .. q(ROOT .. "/build") .. " " .. q(tmp .. "/build")) == 0)
    -- the two files: macie2's, renamed
    local svc = rename(assert(read_file(ROOT .. "/lua/invite/services/macie2.lua")), {
      { "macie2", "examplesvc" }, { "Macie2", "ExampleSvc" }, { "Amazon Macie", "Example Service" },
      { "order = 1,", "order = 10," },
    })
    assert.matches('endpoint_prefix = "examplesvc"', svc)
    assert.matches('signing_name = "examplesvc"', svc)
    write_file(tmp .. "/lua/invite/services/examplesvc.lua", svc)
    write_file(tmp .. "/lua/invite/sim/examplesvc.lua", rename(assert(read_file(ROOT .. "/lua/invite/sim/macie2.lua")),
      { { "macie2", "examplesvc" }, { "Macie", "Example Service" } }))
    write_file(tmp .. "/fixture.json", cjson.encode{
      accounts = { { id = MEMBER, name = "member", access_keys = { { id = KEY.id, secret = KEY.secret } } } },
      invitations = {
        { service = "examplesvc", region = "us-east-1", account = MEMBER, inviter = STRANGER, id = "ex-stranger",
          invited_at = "now-40d" },
        { service = "examplesvc", region = "us-east-1", account = MEMBER, inviter = ADMIN, id = "ex-admin",
          invited_at = "now-1d" },
        { service = "examplesvc", region = "us-east-1", account = MEMBER, inviter = OTHER, id = "ex-other",
          invited_at = "now-2d" },
        { service = "macie2", region = "us-east-1", account = MEMBER, inviter = STRANGER, id = "m-stranger",
          invited_at = "now-40d" },
      },
    })
    write_file(tmp .. "/policy.lua", [[
return {
  services = { "examplesvc", "macie2" },
  regions = { "us-east-1" },
  decide = function(inv)
    if inv.account_id == "333333333333" then return "accept", "our administrator" end
    if inv.account_id == "444444444444" then return "keep" end
    return "decline_and_delete", "not ours"
  end,
}
]])
    write_file(tmp .. "/unknown_policy.lua", [[
return { services = { "examplesvc", "nosuchsvc" }, decide = function() return "keep" end }
]])
  end)

  teardown(function()
    if s then s:stop() end
    if tmp and tmp:find("^/tmp/") then os.execute("rm -rf " .. q(tmp)) end
  end)

  before_each(function()
    if s then s:stop() end
    local root = sim.ROOT
    sim.ROOT = tmp -- the copy's bin/invite sim
    local ok, started = pcall(sim.start, { fixtures = tmp .. "/fixture.json" })
    sim.ROOT = root
    assert(ok, started)
    s = started
  end)

  it("is two files added to the copy: nothing else differs from the checkout", function()
    local mine, theirs = files_under(tmp .. "/lua"), files_under(ROOT .. "/lua")
    local in_theirs = {}
    for _, f in ipairs(theirs) do in_theirs[f] = true end
    local added = {}
    for _, f in ipairs(mine) do
      if not in_theirs[f] then added[#added + 1] = f end
    end
    assert.are.same({ "invite/services/examplesvc.lua", "invite/sim/examplesvc.lua" }, added)
    assert.are.equal(#theirs + 2, #mine)
  end)

  it("is named by the help of invite, plan, count, decline and sim", function()
    local code, out = invite("--help")
    assert.are.equal(0, code, out)
    assert.matches("Decline, delete or accept AWS Macie, Security Hub, GuardDuty, Detective, Organizations, RAM and "
      .. "Example Service invitations", out, 1, true)
    assert.matches("(" .. SEVEN .. " invitation APIs and STS)", out, 1, true)
    for _, cmd in ipairs{ "plan", "apply", "list", "count" } do
      code, out = invite(cmd .. " --help")
      assert.are.equal(0, code, out)
      assert.matches("services among " .. SEVEN .. " (default", out, 1, true)
    end
    code, out = invite("decline --help")
    assert.are.equal(0, code, out)
    assert.matches("to decline: " .. SIX .. " or examplesvc.", out, 1, true)
    code, out = invite("sim --help")
    assert.are.equal(0, code, out)
    assert.matches("invitation APIs of " .. SIX .. " and examplesvc and STS", out, 1, true)
  end)

  it("is planned by default (no --services, no policy services) and with --services", function()
    local code, out, err = invite("list --regions us-east-1 --json --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    local scopes = {}
    for _, sc in ipairs(json(out).scopes) do scopes[#scopes + 1] = sc.service end
    assert.are.same({ "macie2", "securityhub", "guardduty", "detective", "organizations", "ram", "examplesvc" }, scopes)
    local listed = {}
    for _, r in ipairs(json(out).invitations) do
      if r.service == "examplesvc" then listed[r.account_id] = r.invitation_id end
    end
    assert.are.same({ [STRANGER] = "ex-stranger", [ADMIN] = "ex-admin", [OTHER] = "ex-other" }, listed)

    code, out, err = invite("plan policy.lua --json --services examplesvc --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    local planned = {}
    for _, r in ipairs(json(out).invitations) do
      assert.are.equal("examplesvc", r.service)
      planned[r.account_id] = r.action .. "/" .. r.outcome
    end
    assert.are.same({ [STRANGER] = "decline_and_delete/planned", [ADMIN] = "accept/planned",
                      [OTHER] = "keep/kept" }, planned)
    assert.are.equal(0, s:count("DeclineInvitations") + s:count("DeleteInvitations") + s:count("AcceptInvitation"))
  end)

  it("is taken by policy validation and --services, and named when they refuse another", function()
    local code, _, err = invite("plan unknown_policy.lua --regions us-east-1 --endpoint-url " .. s.endpoint)
    assert.are.equal(2, code)
    assert.matches("policy field 'services' must be a list of services (macie2, securityhub, guardduty, "
      .. "detective, organizations, ram, examplesvc), got 'nosuchsvc' at [2]", err, 1, true)
    code, _, err = invite("plan policy.lua --services examplesvc,nosuchsvc --endpoint-url " .. s.endpoint)
    assert.are.equal(2, code)
    assert.matches("services[2] = 'nosuchsvc': unknown service (macie2, securityhub, guardduty, detective, "
      .. "organizations, ram, examplesvc)", err, 1, true)
    code, _, err = invite("count --services nosuchsvc --regions us-east-1 --endpoint-url " .. s.endpoint)
    assert.are.equal(2, code)
    assert.matches("unknown service 'nosuchsvc' (" .. SEVEN .. ")", err, 1, true)
  end)

  it("is declined, deleted and accepted by invite apply", function()
    local code, out, err = invite("apply policy.lua --json --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    local outcomes = {}
    for _, r in ipairs(json(out).invitations) do outcomes[r.service .. " " .. r.account_id] = r.outcome end
    assert.are.same({
      ["examplesvc " .. STRANGER] = "declined_and_deleted", ["examplesvc " .. ADMIN] = "accepted",
      ["examplesvc " .. OTHER] = "kept", ["macie2 " .. STRANGER] = "declined_and_deleted",
    }, outcomes)
    -- the simulator's examplesvc state agrees: the stranger's is gone, the administrator's accepted
    assert.are.same({ [ADMIN] = "Enabled", [OTHER] = "Invited" }, state_of("examplesvc"))
    assert.are.same({}, state_of("macie2"))
    local by_service = {}
    for _, r in ipairs(s:requests()) do
      local k = r.service .. ":" .. tostring(r.operation)
      if r.operation == "DeclineInvitations" or r.operation == "DeleteInvitations"
          or r.operation == "AcceptInvitation" then
        by_service[k] = (by_service[k] or 0) + 1
      end
    end
    assert.are.same({ ["examplesvc:DeclineInvitations"] = 1, ["examplesvc:DeleteInvitations"] = 1,
                      ["examplesvc:AcceptInvitation"] = 1, ["macie2:DeclineInvitations"] = 1,
                      ["macie2:DeleteInvitations"] = 1 }, by_service)
  end)

  it("is counted by invite count, by default and with --services", function()
    local code, out, err = invite("count --regions us-east-1 --json --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    local counts = {}
    for _, r in ipairs(json(out)) do counts[#counts + 1] = ("%s=%d"):format(r.service, r.count) end
    assert.are.same({ "macie2=1", "securityhub=0", "guardduty=0", "detective=0", "organizations=0", "ram=0",
                       "examplesvc=3" }, counts)
    code, out, err = invite("count --services examplesvc --regions us-east-1 --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.matches("examplesvc%s+us%-east%-1%s+%d+%s+3", out)
  end)

  it("is declined by invite decline, with its unprocessed reasons", function()
    write_file(tmp .. "/ids", OTHER .. "\n")
    local code, out, err = invite("decline --service examplesvc --region us-east-1 --endpoint-url " .. s.endpoint
      .. " " .. STRANGER .. " 999999999999 -", tmp .. "/ids")
    assert.are.equal(3, code, err)
    assert.matches(STRANGER .. "  declined", out, 1, true)
    assert.matches(OTHER .. "  declined", out, 1, true)
    assert.matches("999999999999  unprocessed: ClientError: The request failed because no invitation from this "
      .. "account was found.", out, 1, true)
    assert.are.same({ [STRANGER] = "Resigned", [ADMIN] = "Invited", [OTHER] = "Resigned" }, state_of("examplesvc"))
    code, out, err = invite("delete --service nosuchsvc --region us-east-1 " .. STRANGER)
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.matches("unknown service (" .. SEVEN .. ")", err, 1, true)
  end)

  it("is known to the simulator's fault rules and fixtures", function()
    s:set_faults("first 1 examplesvc:GetInvitationsCount 500")
    local code, out, err = invite("count --services examplesvc --regions us-east-1 --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err) -- retried
    assert.matches("examplesvc%s+us%-east%-1%s+%d+%s+3", out)
    assert.are.equal(2, s:count("GetInvitationsCount"))
    local ok, why = pcall(s.set_faults, s, "first 1 nosuchsvc:GetInvitationsCount 500")
    assert.is_false(ok)
    assert.matches("expected a service " .. SEVEN .. ", sts,", tostring(why), 1, true)
    write_file(tmp .. "/bad.json", cjson.encode{
      accounts = { { id = MEMBER } },
      invitations = { { service = "nosuchsvc", region = "us-east-1", account = MEMBER, inviter = STRANGER, id = "x",
                        invited_at = "now" } },
    })
    code, out, err = invite("sim --fixtures bad.json --port 0")
    assert.are.equal(2, code)
    assert.are.equal("", out) -- it never listened
    assert.matches("invitations[0].service: must be one of " .. SEVEN, err, 1, true)
  end)

  it("has its page in the API reference and is named by the manual page", function()
    local out = capture("cd " .. q(tmp) .. " && env -u LD_PRELOAD " .. interp.LUA .. " tools/service_docs.lua docs-src"
      .. " && ls docs-src/invite")
    assert.are.equal("detective.lua\nexamplesvc.lua\nguardduty.lua\nmacie2.lua\norganizations.lua\nram.lua\n"
      .. "securityhub.lua\n", out)
    local page = read_file(tmp .. "/docs-src/invite/examplesvc.lua")
    assert.matches("--- Example Service (examplesvc): boto3-named operations", page, 1, true)
    assert.matches("@function decline_invitations", page, 1, true)
    out = capture("cd " .. q(tmp) .. " && env -u LD_PRELOAD " .. interp.LUA .. " tools/manpage.lua")
    assert.matches("invitations (Macie, Security Hub, GuardDuty, Detective, Organizations, RAM, Example Service) "
      .. "by policy", out, 1, true)
    assert.matches("macie2, securityhub, guardduty, detective, organizations, ram or examplesvc", out, 1, true)
  end)

  it("is a library client and in invite.services; the checkout itself knows only its own six", function()
    local script = tmp .. "/lib.lua"
    write_file(script, [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/]] .. interp.BUILD .. [[/?.so;" .. package.cpath
local invite = require "invite"
local c = invite.examplesvc.client{ region = "eu-west-1", credentials = { access_key_id = "AKIAEXAMPLE000000001",
  secret_access_key = "x" }, dry_run = true }
local req = assert(c:decline_invitations{ accountIds = { "111111111111" } })
print(table.concat(invite.services, ","), req.url, invite.sim)
]])
    local out = capture("cd " .. q(tmp) .. " && env -u LD_PRELOAD " .. interp.LUA .. " lib.lua")
    assert.matches("^macie2,securityhub,guardduty,detective,organizations,ram,examplesvc%s+"
      .. "https://examplesvc%.eu%-west%-1%.amazonaws%.com/"
      .. "invitations/decline%s+nil", out)
    assert.are.same({ "macie2", "securityhub", "guardduty", "detective", "organizations", "ram" },
      require("invite").services)
  end)
end)

describe("how invite.model finds the services", function()
  -- runs `body` in a fresh interpreter in the checkout; returns its output
  local function child(body)
    local path = os.tmpname()
    write_file(path, "package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path\n" .. body)
    local out = capture("env -u LD_PRELOAD " .. interp.LUA .. " " .. q(path))
    os.remove(path)
    return out
  end
  local NO_LFS = "package.preload.lfs = function() error(\"module 'lfs' not found: blocked by the spec\") end\n"

  it("lists the same services with LuaFileSystem and without it (ls through io.popen)", function()
    local body = [[
local model = require "invite.model"
print(table.concat(model.SERVICES, ","), table.concat(model.declared(), ","))
]]
    local with_lfs, without = child(body), child(NO_LFS .. body)
    assert.are.equal(with_lfs, without)
    assert.matches("^macie2,securityhub,guardduty,detective,organizations,ram\t", with_lfs)
  end)

  it("without LuaFileSystem and io.popen: a clear error, or the declarations preloaded", function()
    local out = child(NO_LFS .. [[
io.popen = nil
local model = require "invite.model"
print(select(2, pcall(function() return model.SERVICES end)))
]])
    assert.matches("invite: cannot find the service declarations (lua/invite/services/<name>.lua: no LuaFileSystem "
      .. "and no io.popen to list lua/invite/services); install LuaFileSystem or allow io.popen, or preload "
      .. "invite.services.<name> modules", out, 1, true)
    out = child(NO_LFS .. [[
io.popen = nil
package.preload["invite.services.guardduty"] = function() return dofile("lua/invite/services/guardduty.lua") end
package.preload["invite.services.macie2"] = function() return dofile("lua/invite/services/macie2.lua") end
local model = require "invite.model"
print(table.concat(model.SERVICES, ","))
]])
    assert.are.equal("macie2,guardduty\n", out)
  end)

  it("keeps a declaration without invitations out of every list (a client only)", function()
    local out = child([[
package.preload["invite.services.aaclient"] = function()
  return { name = "aaclient", signing_name = "aaclient", endpoint_prefix = "aaclient", operations = {} }
end
local model = require "invite.model"
local invite = require "invite"
local pol = require("invite.policy").normalize({ services = { "aaclient" }, decide = function() end }, "p")
local _, err = pcall(invite.run, { services = { "aaclient" }, regions = { "us-east-1" }, policy = function() end })
local clients_only = {} -- the declared after the invitation services: aaclient (and sts once it is declared)
for i, n in ipairs(model.declared()) do
  if i > #model.SERVICES then clients_only[#clients_only + 1] = n .. "=" .. tostring(model.invitations(n)) end
end
print(table.concat(model.SERVICES, ","), table.concat(model.declared(), ",", 1, 3), clients_only[1],
  table.concat(invite.services, ","), type(invite.aaclient.client), pol, model.invitations("aaclient"))
print(select(2, require("invite.policy").normalize({ services = { "aaclient" }, decide = function() end }, "p")))
print(err)
]])
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    local six = "macie2,securityhub,guardduty,detective,organizations,ram"
    assert.are.equal(six .. "\tmacie2,securityhub,guardduty\taaclient=nil\t" .. six .. "\tfunction\tnil\tnil", lines[1])
    assert.are.equal("p: policy field 'services' must be a list of services (" .. SIX .. "), got 'aaclient' at [1]",
      lines[2])
    assert.matches("services[1] = 'aaclient': unknown service (" .. SIX .. ")", lines[3], 1, true)
  end)

  it("refuses an invitations table naming a member its operations lack, naming the file and the field", function()
    local out = child([[
local function broken(field, value)
  return function()
    local def = dofile("lua/invite/services/macie2.lua")
    def.name = "broken"
    def.invitations[field] = value
    return def
  end
end
package.preload["invite.services.broken"] = broken("ids", "accountIdz")
package.preload["invite.services.broken2"] = broken("status", "memberStatus")
package.preload["invite.services.broken3"] = broken("reason", { "errorCode", "errorText" })
local model = require "invite.model"
for _, n in ipairs{ "broken", "broken2", "broken3" } do print(select(2, pcall(model.invitations, n))) end
print(select(2, pcall(function() return model.SERVICES end)))
]])
    assert.matches("invite: lua/invite/services/broken.lua: invitations.ids = accountIdz: not a list in the input "
      .. "of decline_invitations", out, 1, true)
    assert.matches("invite: lua/invite/services/broken2.lua: invitations.status = memberStatus: not a member of "
      .. "the invitations in 'invitations'", out, 1, true)
    assert.matches("invite: lua/invite/services/broken3.lua: invitations.reason: 'errorText' is not a member", out,
      1, true)
    -- the list of services fails on the first broken declaration, too
    assert.matches("\ninvite: lua/invite/services/broken", out, 1, true)
  end)
end)
