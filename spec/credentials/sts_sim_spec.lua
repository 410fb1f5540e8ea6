-- AssumeRole and AssumeRoleWithWebIdentity against the simulator's STS (spec/support/sim.lua),
-- over the real libcurl transport and invite.sigv4: what the credential chain gets back is
-- accepted by the simulator as a caller, and the request log shows who signed what.
local envh = require "support.env"
local sim = require "support.sim"
local tiny = require "support.tiny_server"
local credentials = require "invite.credentials"
local sts = require "invite.sts"

local AUDIT = { id = "AKIASIMTESTAUDIT0001", secret = "sim/test/audit/secret/FAKEFAKEFAKEFAKEFA" }
local SESSION = { access_key_id = "ASIASIMTESTSESSION01", secret = "sim/test/session/secret/FAKEFAKEFAKE",
                  session_token = "sim-test-session-token-0001" }
local FIXTURE = {
  accounts = {
    { id = "666666666666", name = "audit", access_keys = { { id = AUDIT.id, secret = AUDIT.secret, user = "ci" } },
      roles = {
        { name = "GitHubActions", trusted_accounts = {}, web_identity_tokens = { "jwt-from-github-actions" } },
        { name = "Worker", trusted_accounts = {} },
      } },
    { id = "111111111111", name = "admin",
      roles = { { name = "Hop", trusted_accounts = { "666666666666" } } } },
    { id = "222222222222", name = "prod",
      roles = { { name = "InviteManager", trusted_accounts = { "111111111111", "666666666666" } } } },
    { id = "333333333333", name = "closed", roles = { { name = "Closed", trusted_accounts = {} } } },
  },
  sessions = {
    { access_key_id = SESSION.access_key_id, secret = SESSION.secret, session_token = SESSION.session_token,
      account = "666666666666", role = "Worker", session_name = "ec2", expiration = "now+1d" },
  },
}

local s, e
setup(function() s = sim.start{ fixtures = FIXTURE } end)
teardown(function() if s then s:stop() end end)
before_each(function()
  s:clear_requests()
  e = envh.new{ AWS_EC2_METADATA_DISABLED = "true", AWS_REGION = "us-east-1", AWS_ENDPOINT_URL_STS = s.endpoint }
end)
after_each(function() envh.cleanup() end)

-- Who the simulator thinks signed with these credentials.
local function caller_arn(ak, sk, tok)
  local r = assert(s:call{ service = "sts", method = "POST", path = "/",
    body = "Action=GetCallerIdentity&Version=2011-06-15", content_type = "application/x-www-form-urlencoded",
    creds = { access_key_id = ak, secret_access_key = sk, session_token = tok } })
  assert.equal(200, r.status, r.body)
  return r.body:match("<Arn>(.-)</Arn>")
end

local function sts_log()
  local out = {}
  for _, r in ipairs(s:requests()) do
    if r.service == "sts" and r.operation ~= "GetCallerIdentity" then out[#out + 1] = r end
  end
  return out
end

describe("STS against the simulator", function()
  it("assumes a role from a profile's source_profile keys", function()
    e:write(".aws/config", "[profile prod]\nrole_arn = arn:aws:iam::222222222222:role/InviteManager\n"
      .. "source_profile = audit\nrole_session_name = invite-sim\nexternal_id = ext-1\nduration_seconds = 900\n")
    e:write(".aws/credentials", ("[audit]\naws_access_key_id = %s\naws_secret_access_key = %s\n")
      :format(AUDIT.id, AUDIT.secret))
    local p = credentials.chain{ env = e.vars, profile = "prod" }
    local ok, ak, sk, tok = p:get()
    assert.is_true(ok, tostring(ak))
    assert.matches("^ASIA", ak)
    assert.truthy(tok)
    assert.equal("arn:aws:sts::222222222222:assumed-role/InviteManager/invite-sim", caller_arn(ak, sk, tok))
    local log = sts_log()
    assert.equal(1, #log)
    assert.same({ "AssumeRole", 200, AUDIT.id, "header" },
      { log[1].operation, log[1].status, log[1].access_key_id, log[1].auth })
    assert.truthy(p:info().expiration)
  end)

  it("follows a source_profile chain through two accounts", function()
    e:write(".aws/config", table.concat({
      "[profile prod]", "role_arn = arn:aws:iam::222222222222:role/InviteManager", "source_profile = hop",
      "role_session_name = second",
      "[profile hop]", "role_arn = arn:aws:iam::111111111111:role/Hop", "source_profile = audit",
      "role_session_name = first",
      "[profile audit]", "aws_access_key_id = " .. AUDIT.id, "aws_secret_access_key = " .. AUDIT.secret,
    }, "\n"))
    local ok, ak, sk, tok = credentials.chain{ env = e.vars, profile = "prod" }:get()
    assert.is_true(ok, tostring(ak))
    assert.equal("arn:aws:sts::222222222222:assumed-role/InviteManager/second", caller_arn(ak, sk, tok))
    local log = sts_log()
    assert.equal(2, #log)
    assert.equal(AUDIT.id, log[1].access_key_id)
    assert.matches("^ASIA", log[2].access_key_id)           -- the second hop is signed by the first role
    assert.equal("arn:aws:sts::111111111111:assumed-role/Hop/first", log[2].arn)
  end)

  it("returns AccessDenied with status and request id when the role does not trust the caller", function()
    e:write(".aws/config", "[profile closed]\nrole_arn = arn:aws:iam::333333333333:role/Closed\n"
      .. "credential_source = Environment\n")
    e:set("AWS_ACCESS_KEY_ID", AUDIT.id):set("AWS_SECRET_ACCESS_KEY", AUDIT.secret)
    local ok, err = credentials.chain{ env = e.vars, profile = "closed" }:get()
    assert.is_nil(ok)
    assert.equal("AccessDenied", err.code)
    assert.equal(403, err.status)
    assert.truthy(err.request_id)
    assert.is_false(err.retryable)
    assert.is_nil(tostring(err):find(AUDIT.secret, 1, true))
    assert.matches("^AccessDenied %(HTTP 403%): assume role %(profile closed%): sts AssumeRole: User: "
      .. "arn:aws:iam::666666666666:user/ci is not authorized", tostring(err))
  end)

  it("surfaces the simulator's validation of duration_seconds", function()
    e:write(".aws/config", "[profile long]\nrole_arn = arn:aws:iam::222222222222:role/InviteManager\n"
      .. "credential_source = Environment\nduration_seconds = 7200\n")
    e:set("AWS_ACCESS_KEY_ID", AUDIT.id):set("AWS_SECRET_ACCESS_KEY", AUDIT.secret)
    local ok, err = credentials.chain{ env = e.vars, profile = "long" }:get()
    assert.is_nil(ok)
    assert.equal("ValidationError", err.code)
    assert.matches("MaxSessionDuration", err.message)
  end)

  it("retries a throttled AssumeRole", function()
    s:set_faults("first 1 sts throttle")
    local p = credentials.assume_role{ role_arn = "arn:aws:iam::222222222222:role/InviteManager",
      role_session_name = "retry",
      source = credentials.static{ access_key_id = AUDIT.id, secret_access_key = AUDIT.secret },
      region = "us-east-1", endpoint = s.endpoint, env = e.vars, sleep = function() end }
    local ok, ak = p:get()
    s:set_faults("")
    assert.is_true(ok, tostring(ak))
    local log = sts_log()
    assert.equal(2, #log)
    assert.same({ 400, 200 }, { log[1].status, log[2].status })
  end)

  it("refreshes the assumed role before it expires", function()
    e:write(".aws/config", "[profile prod]\nrole_arn = arn:aws:iam::222222222222:role/InviteManager\n"
      .. "credential_source = Environment\n")
    e:set("AWS_ACCESS_KEY_ID", AUDIT.id):set("AWS_SECRET_ACCESS_KEY", AUDIT.secret)
    local now = os.time()
    local p = credentials.chain{ env = e.vars, profile = "prod", clock = function() return now end }
    local _, ak1 = p:get()
    local exp = p:info().expiration
    now = exp - 600                                     -- 10 minutes left: still cached
    assert.equal(ak1, select(2, p:get()))
    assert.equal(1, #sts_log())
    now = exp - 200                                     -- inside the refresh window
    local ok, ak2, sk2, tok2 = p:get()
    assert.is_true(ok)
    assert.are_not.equal(ak1, ak2)
    assert.equal(2, #sts_log())
    assert.matches("^arn:aws:sts::222222222222:assumed%-role/InviteManager/", caller_arn(ak2, sk2, tok2))
  end)

  it("uses AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN + AWS_ROLE_SESSION_NAME, unsigned", function()
    e:set("AWS_WEB_IDENTITY_TOKEN_FILE", e:write("token", "jwt-from-github-actions"))
      :set("AWS_ROLE_ARN", "arn:aws:iam::666666666666:role/GitHubActions"):set("AWS_ROLE_SESSION_NAME", "gha-run")
    local ok, ak, sk, tok = credentials.chain{ env = e.vars }:get()
    assert.is_true(ok, tostring(ak))
    assert.equal("arn:aws:sts::666666666666:assumed-role/GitHubActions/gha-run", caller_arn(ak, sk, tok))
    local log = sts_log()
    assert.equal("AssumeRoleWithWebIdentity", log[1].operation)
    assert.is_nil(log[1].access_key_id)
  end)

  it("uses web_identity_token_file from a profile and reports a rejected token", function()
    local tf = e:write("token", "not-a-known-token")
    e:write(".aws/config", ("[profile wi]\nweb_identity_token_file = %s\nrole_arn = "
      .. "arn:aws:iam::666666666666:role/GitHubActions\nrole_session_name = prof\n"):format(tf))
    local ok, err = credentials.chain{ env = e.vars, profile = "wi" }:get()
    assert.is_nil(ok)
    assert.equal("InvalidIdentityToken", err.code)
    assert.is_nil(tostring(err):find("not-a-known-token", 1, true))
    envh.write(tf, "jwt-from-github-actions")
    local ok2, ak = credentials.chain{ env = e.vars, profile = "wi" }:get()
    assert.is_true(ok2, tostring(ak))
  end)

  it("assumes a role with credential_source = Ec2InstanceMetadata", function()
    local imds = tiny.start{ kind = "imds", credentials = { AccessKeyId = SESSION.access_key_id,
      SecretAccessKey = SESSION.secret, Token = SESSION.session_token, Expiration = "2099-01-01T00:00:00Z" } }
    e:unset("AWS_EC2_METADATA_DISABLED"):set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
    e:write(".aws/config", "[profile viaimds]\nrole_arn = arn:aws:iam::222222222222:role/InviteManager\n"
      .. "credential_source = Ec2InstanceMetadata\nrole_session_name = from-ec2\n")
    local ok, ak, sk, tok = credentials.chain{ env = e.vars, profile = "viaimds" }:get()
    imds:stop()
    assert.is_true(ok, tostring(ak))
    assert.equal("arn:aws:sts::222222222222:assumed-role/InviteManager/from-ec2", caller_arn(ak, sk, tok))
    assert.equal(SESSION.access_key_id, sts_log()[1].access_key_id)
  end)

  it("lets the policy runner assume roles in member accounts with sts.assume_role", function()
    local res = assert(sts.assume_role{ role_arn = "arn:aws:iam::222222222222:role/InviteManager",
      role_session_name = "runner", endpoint = s.endpoint, region = "us-east-1", env = e.vars,
      credentials = { access_key_id = AUDIT.id, secret_access_key = AUDIT.secret } })
    assert.equal("arn:aws:sts::222222222222:assumed-role/InviteManager/runner", res.assumed_role_user.arn)
    assert.truthy(res.request_id)
  end)
end)
