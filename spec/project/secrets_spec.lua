-- Secrets never leave: distinctive fake secret keys and session tokens, given through the
-- environment, a shared credentials file, a role_arn + source_profile profile (the simulator's STS
-- issues the session), credential_process output, and the library's own options, are searched for
-- in everything invite writes:
--   * every CLI subcommand (plan, apply, list, count, decline, delete, sim, and --help for each)
--     against the simulator, with each credential source, with errors forced (simulator faults, a
--     bad signature, an unknown key, a wrong and an expired session token, AccessDenied from a
--     service and from STS, broken credential_process output, malformed and partial credentials
--     files): stdout, stderr, the audit log, the report (--json), the simulator's request log,
--     stderr and control answers, and every file created under /tmp or in the runs' HOME;
--   * the library: tostring(err) and every field of err, credential providers' __tostring and
--     info() (also for web identity tokens and container credentials with an authorization
--     token), the signer's output, dry-run output, invite.run's report and audit log.
-- A secret counts as found when the whole string, its first or last 8 characters, or its hex or
-- base64 encoding appear. invite has no debug-logging switch (no --debug flag, no INVITE_DEBUG or
-- similar variable), so there is no debug output to check beyond the above.
local interp = require "support.interp"
local sim = require "support.sim"
local cjson = require "cjson"

local PROBE = "777777777777"    -- the probe account: has invitations in us-east-1
local CLOSED = "222222222222"   -- its role does not trust PROBE (AccessDenied from STS)
local MEMBER = "888888888888"   -- its ProbeRole trusts PROBE (a cross-account sweep assumes it)
local REGION = "us-east-1"

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function random_bytes(n)
  local f = assert(io.open("/dev/urandom", "rb"))
  local b = f:read(n)
  f:close()
  return b
end

-- Fake secrets: random at both ends, so that their first and last 8 characters are unique too,
-- and two runs of this spec at once (two `make check`s) never find each other's files in /tmp.
local function fake(kind, name)
  return hex(random_bytes(4)) .. "-" .. kind .. "-" .. name .. "-" .. hex(random_bytes(6))
end
local function secret(name) return fake("SECRETPROBE", name) end
local function token(name) return fake("TOKENPROBE", name) end

local SEED = 1 + (tonumber(hex(random_bytes(3)), 16) % 1000000) -- the simulator's --seed
local K = {
  static = { id = "AKIASECRETPROBE00001", secret = secret("static") },
  file = { id = "AKIASECRETPROBE00003", secret = secret("file") },
  session = { id = "ASIASECRETPROBE00002", secret = secret("session"), token = token("session") },
  process = { id = "ASIASECRETPROBE00005", secret = secret("process"), token = token("process") },
  expired = { id = "ASIASECRETPROBE00006", secret = secret("expired"), token = token("expired") },
  unknown = { id = "AKIASECRETPROBE00099", secret = secret("unknown") },
}
local WRONG_SECRET = secret("wrong")
local WRONG_TOKEN = token("wrong")
local BAD_FILE_SECRET = secret("badfile")
local PARTIAL_SECRET = secret("partial")
local BROKEN_PROCESS_SECRET = secret("brokenproc")
local FAILING_PROCESS_SECRET = secret("failproc")
local LIB_SECRET = secret("library")
local WEB_TOKEN = token("webidentity")
local WRONG_WEB_TOKEN = token("webwrong")
local CONTAINER = { id = "ASIASECRETPROBE00007", secret = secret("container"), token = token("container") }
local CONTAINER_AUTH = token("containerauth")
local WRONG_CONTAINER_AUTH = token("containerwrong")

---------------------------------------------------------------------------------------------------
-- Probes
---------------------------------------------------------------------------------------------------

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = {}
    for k = 3, 0, -1 do
      local v = math.floor(n / 64 ^ k) % 64
      q[#q + 1] = B64:sub(v + 1, v + 1)
    end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end
local probes = {} -- { name =, text = }
-- every_slice: also every 8-character slice of the value and of its lower-cased form (for text a
-- parser might quote in part, or lower-case as it does keys)
local function add_secret(name, value, every_slice)
  probes[#probes + 1] = { name = name, text = value }
  probes[#probes + 1] = { name = name .. " (first 8 characters)", text = value:sub(1, 8) }
  probes[#probes + 1] = { name = name .. " (last 8 characters)", text = value:sub(-8) }
  if every_slice then
    for _, v in ipairs{ value, value:lower() } do
      for i = 1, #v - 7 do
        probes[#probes + 1] = { name = ("%s (characters %d-%d%s)"):format(name, i, i + 7,
          v == value and "" or ", lower-cased"), text = v:sub(i, i + 7) }
      end
    end
  end
  probes[#probes + 1] = { name = name .. " (hex)", text = hex(value) }
  -- base64 without its padding and without the last group, which depends on what follows
  local b = base64(value):gsub("=+$", "")
  probes[#probes + 1] = { name = name .. " (base64)", text = b:sub(1, #b - 4) }
end
for name, k in pairs(K) do
  add_secret(name .. " secret key", k.secret)
  if k.token then add_secret(name .. " session token", k.token) end
end
add_secret("wrong secret key", WRONG_SECRET)
add_secret("wrong session token", WRONG_TOKEN)
add_secret("malformed credentials file secret", BAD_FILE_SECRET)
add_secret("partial credentials file secret", PARTIAL_SECRET)
add_secret("broken credential_process secret", BROKEN_PROCESS_SECRET)
add_secret("failing credential_process secret", FAILING_PROCESS_SECRET)
add_secret("library secret key", LIB_SECRET)
add_secret("web identity token", WEB_TOKEN)
add_secret("wrong web identity token", WRONG_WEB_TOKEN)
add_secret("container secret key", CONTAINER.secret)
add_secret("container session token", CONTAINER.token)
add_secret("container authorization token", CONTAINER_AUTH)
add_secret("wrong container authorization token", WRONG_CONTAINER_AUTH)

-- Session tokens pasted into the shared files where no key belongs (base64, as AWS's are): the
-- parser must say file and line only, never text of the line. {file name, content, line, what}.
local function pasted() return base64(random_bytes(24)) end
local PASTED_TOKENS = { bare = pasted() .. "==", repeated = pasted() .. "==",
                        colon = pasted() .. ":" .. pasted(), header = pasted(), section = pasted() }
for k, v in pairs(PASTED_TOKENS) do add_secret("pasted token (" .. k .. ")", v, true) end
local PASTED_FILES = {
  { "bare-token-credentials", PASTED_TOKENS.bare .. "\n[probe-file]\naws_access_key_id = AKIAPASTEDPROBE00001\n", 1,
    "a token line before any section" },
  { "repeated-token-credentials", "[probe-file]\naws_access_key_id = AKIAPASTEDPROBE00001\n"
    .. PASTED_TOKENS.repeated .. "\n" .. PASTED_TOKENS.repeated .. "\n", 4, "a token line twice" },
  { "colon-token-config", PASTED_TOKENS.colon .. "\n[profile probe-file]\nregion = us-east-1\n", 1,
    "a token line with a colon" },
  { "header-token-config", "[profile probe-file]\nregion = us-east-1\n[" .. PASTED_TOKENS.header .. "\n", 3,
    "a section header without ']' holding a token" },
  { "section-token-credentials", "[" .. PASTED_TOKENS.section .. "]\n[" .. PASTED_TOKENS.section .. "]\n", 2,
    "a token section header twice" },
}

-- The name of the first probe found in text, or nil.
local function leak_in(text)
  text = tostring(text or "")
  for _, p in ipairs(probes) do
    if text:find(p.text, 1, true) then return p.name end
  end
  return nil
end

local function assert_clean(text, where)
  local found = leak_in(text)
  assert.is_nil(found, ("%s contains the %s"):format(where, tostring(found)))
end

-- Everything reachable from a value, as text: strings, numbers, keys, tostring() of tables with a
-- metatable, recursively (cycles cut).
local function dump(v, seen, out)
  seen, out = seen or {}, out or {}
  local t = type(v)
  if t == "table" then
    if seen[v] then return out end
    seen[v] = true
    local mt = getmetatable(v)
    if mt and mt.__tostring then out[#out + 1] = tostring(v) end
    for k, x in pairs(v) do
      dump(k, seen, out)
      dump(x, seen, out)
    end
  elseif t == "string" or t == "number" or t == "boolean" then
    out[#out + 1] = tostring(v)
  end
  return out
end
local function dumps(v) return table.concat(dump(v), "\n") end

---------------------------------------------------------------------------------------------------
-- Files
---------------------------------------------------------------------------------------------------

local shq, read_file, write_file = sim.shell_quote, sim.read_file, sim.write_file

local function mktemp_dir()
  local p = assert(io.popen("mktemp -d /tmp/invite-secrets-XXXXXX"))
  local d = p:read("*l")
  p:close()
  assert(d and d:match("^/tmp/invite%-secrets%-"), "mktemp -d failed")
  return d
end

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

local function interpreter() return interp.LUA, interp.CPATH end

---------------------------------------------------------------------------------------------------
-- The simulated organisation
---------------------------------------------------------------------------------------------------

local INVITERS = { "123456789012", "210987654321", "313131313131" }

local function fixture()
  local invitations = {}
  for _, svc in ipairs{ "macie2", "securityhub", "guardduty" } do
    for i, who in ipairs(INVITERS) do
      invitations[#invitations + 1] = { service = svc, region = REGION, account = PROBE, inviter = who,
        id = svc .. "-probe-" .. i, invited_at = (i == 1) and "now-90d" or "now-2d" }
      invitations[#invitations + 1] = { service = svc, region = REGION, account = MEMBER, inviter = who,
        id = svc .. "-member-" .. i, invited_at = "now-2d" }
    end
  end
  local function session(k, expiration)
    return { access_key_id = k.id, secret = k.secret, session_token = k.token, account = PROBE, role = "ProbeRole",
             session_name = "probe", expiration = expiration }
  end
  return {
    accounts = {
      { id = PROBE, name = "probe",
        access_keys = { { id = K.static.id, secret = K.static.secret, user = "probe-static" },
                        { id = K.file.id, secret = K.file.secret, user = "probe-file" } },
        roles = { { name = "ProbeRole", trusted_accounts = { PROBE } },
                  { name = "ProbeWebRole", trusted_accounts = {}, web_identity_tokens = { WEB_TOKEN } } } },
      { id = CLOSED, name = "closed", roles = { { name = "InviteManager", trusted_accounts = {} } } },
      { id = MEMBER, name = "member", roles = { { name = "ProbeRole", trusted_accounts = { PROBE } } } },
    },
    sessions = { session(K.session, "now+1d"), session(K.process, "now+1d"),
                 session(K.expired, "2020-01-01T00:00:00Z") },
    detectors = { { account = PROBE, region = REGION, id = "70726f6265000000000000000000abcd" },
                  { account = MEMBER, region = REGION, id = "6d656d6265720000000000000000abcd" } },
    invitations = invitations,
    disabled = { { service = "macie2", region = "us-west-2", account = PROBE } },
  }
end

-- The credentials a simulator started with SEED issues, in order: it draws them from a generator
-- seeded by --seed alone, so a first simulator asked N times predicts what the second one gives
-- the CLI (the spec checks that every issued key the second one saw was predicted).
local function predict_sessions(fixture_path, n)
  local s = sim.start{ fixtures = fixture_path, seed = SEED }
  local out = {}
  for i = 1, n do
    local r = assert(s:call{ service = "sts", method = "POST", path = "/",
      creds = { access_key_id = K.static.id, secret_access_key = K.static.secret },
      content_type = "application/x-www-form-urlencoded",
      body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A" .. PROBE
        .. "%3Arole%2FProbeRole&RoleSessionName=predict" .. i })
    assert.are.equal(200, r.status, r.body)
    out[#out + 1] = { id = r.body:match("<AccessKeyId>(.-)</AccessKeyId>"),
                      secret = r.body:match("<SecretAccessKey>(.-)</SecretAccessKey>"),
                      token = r.body:match("<SessionToken>(.-)</SessionToken>") }
    assert.truthy(out[#out].secret and out[#out].token)
  end
  s:stop()
  return out
end

---------------------------------------------------------------------------------------------------

describe("secrets never leave", function()
  local IN, OUT, HOME, MARK, s
  local issued, issued_ids = {}, {}
  local runs = 0
  local cli_outputs = {} -- every stdout and stderr text, for the access key ID check

  setup(function()
    IN, OUT = mktemp_dir(), mktemp_dir()
    HOME = OUT .. "/home"
    os.execute("mkdir -p " .. shq(HOME))
    MARK = IN .. "/mark"
    write_file(MARK, "")
    write_file(IN .. "/org.json", cjson.encode(fixture()))
    write_file(IN .. "/credentials", table.concat({
      "[probe-file]", "aws_access_key_id = " .. K.file.id, "aws_secret_access_key = " .. K.file.secret, "" }, "\n"))
    write_file(IN .. "/bad-credentials", table.concat({
      "[probe-file]", "aws_access_key_id = " .. K.file.id, "aws_secret_access_key " .. BAD_FILE_SECRET, "" }, "\n"))
    for _, f in ipairs(PASTED_FILES) do write_file(IN .. "/" .. f[1], f[2]) end
    write_file(IN .. "/partial-credentials", table.concat({
      "[probe-file]", "aws_secret_access_key = " .. PARTIAL_SECRET, "" }, "\n"))
    write_file(IN .. "/process.sh", ("printf '%%s\\n' '%s'\n"):format(cjson.encode{ Version = 1,
      AccessKeyId = K.process.id, SecretAccessKey = K.process.secret, SessionToken = K.process.token,
      Expiration = "2099-01-01T00:00:00Z" }))
    -- output cut in the middle of the secret, then a clean exit
    write_file(IN .. "/broken-process.sh", ("printf '%%s' '{\"Version\": 1, \"AccessKeyId\": \"%s\", "
      .. "\"SecretAccessKey\": \"%s'\n"):format(K.process.id, BROKEN_PROCESS_SECRET))
    -- complete output, then a failure exit
    write_file(IN .. "/failing-process.sh", ("printf '%%s\\n' '%s'\necho 'cannot refresh the session' >&2\nexit 7\n")
      :format(cjson.encode{ Version = 1, AccessKeyId = K.process.id, SecretAccessKey = FAILING_PROCESS_SECRET }))
    write_file(IN .. "/config", table.concat({
      "[profile probe-file]", "region = " .. REGION,
      "[profile probe-role]", "role_arn = arn:aws:iam::" .. PROBE .. ":role/ProbeRole", "source_profile = probe-file",
      "role_session_name = secrets-spec", "region = " .. REGION,
      "[profile probe-process]", "credential_process = /bin/sh " .. IN .. "/process.sh", "region = " .. REGION,
      "[profile probe-broken-process]", "credential_process = /bin/sh " .. IN .. "/broken-process.sh",
      "region = " .. REGION,
      "[profile probe-failing-process]", "credential_process = /bin/sh " .. IN .. "/failing-process.sh",
      "region = " .. REGION, "" }, "\n"))
    write_file(IN .. "/policy.lua", [[
return {
  services = { "macie2", "securityhub", "guardduty" },
  regions = { "us-east-1" },
  decide = function(inv)
    if inv.age_days and inv.age_days > 30 then return "decline_and_delete", "stale" end
    return "decline", "not ours"
  end,
}
]])
    issued = predict_sessions(IN .. "/org.json", 40)
    for _, c in ipairs(issued) do
      issued_ids[c.id] = true
      add_secret("simulator-issued secret key", c.secret)
      add_secret("simulator-issued session token", c.token)
    end
    s = sim.start{ fixtures = IN .. "/org.json", seed = SEED, log = OUT .. "/sim-requests.jsonl" }
  end)

  teardown(function()
    if s then s:stop() end
    if IN then os.execute("rm -rf " .. shq(IN)) end
    if OUT then os.execute("rm -rf " .. shq(OUT)) end
  end)

  -- Runs the CLI with a clean environment plus `env` (a list of NAME=value); returns exit code,
  -- stdout, stderr. Output files stay in OUT for the final scan.
  local BASE_ENV = nil
  local function invite(args, env, extra)
    runs = runs + 1
    local out, err = ("%s/run%03d.out"):format(OUT, runs), ("%s/run%03d.err"):format(OUT, runs)
    BASE_ENV = BASE_ENV or {
      "PATH=" .. (os.getenv("PATH") or "/usr/bin:/bin"), "HOME=" .. HOME, "AWS_EC2_METADATA_DISABLED=true",
      "AWS_CONFIG_FILE=" .. IN .. "/config", "AWS_SHARED_CREDENTIALS_FILE=" .. IN .. "/credentials",
      "AWS_ENDPOINT_URL=" .. s.endpoint, "AWS_MAX_ATTEMPTS=2", "AWS_REGION=" .. REGION,
    }
    local e = {}
    for _, v in ipairs(BASE_ENV) do e[#e + 1] = shq(v) end
    for _, v in ipairs(env or {}) do e[#e + 1] = shq(v) end
    for _, v in ipairs(extra or {}) do e[#e + 1] = shq(v) end
    local cmd = ("cd %s && env -i %s %s bin/invite %s >%s 2>%s"):format(shq(sim.ROOT), table.concat(e, " "),
      interpreter(), args, shq(out), shq(err))
    local code = interp.execute(cmd)
    local o, r = read_file(out) or "", read_file(err) or ""
    cli_outputs[#cli_outputs + 1] = o
    cli_outputs[#cli_outputs + 1] = r
    assert_clean(o, "stdout of `invite " .. args .. "`")
    assert_clean(r, "stderr of `invite " .. args .. "`")
    return code, o, r
  end

  -- request-log entries since the last call
  local mark = 0
  local function logged()
    local out = {}
    for _, e in ipairs(s:requests()) do
      if e.seq > mark then out[#out + 1] = e end
    end
    if #out > 0 then mark = out[#out].seq end
    return out
  end

  local function keys_used(entries)
    local used = {}
    for _, e in ipairs(entries) do
      if e.access_key_id and e.status == 200 then used[e.access_key_id] = (used[e.access_key_id] or 0) + 1 end
    end
    return used
  end

  local SOURCES = {
    { name = "environment keys",
      env = { "AWS_ACCESS_KEY_ID=" .. K.static.id, "AWS_SECRET_ACCESS_KEY=" .. K.static.secret },
      key = K.static.id },
    { name = "environment session", key = K.session.id,
      env = { "AWS_ACCESS_KEY_ID=" .. K.session.id, "AWS_SECRET_ACCESS_KEY=" .. K.session.secret,
              "AWS_SESSION_TOKEN=" .. K.session.token } },
    { name = "credentials file", env = { "AWS_PROFILE=probe-file" }, key = K.file.id },
    { name = "role_arn + source_profile", env = { "AWS_PROFILE=probe-role" }, key = "issued" },
    { name = "credential_process", env = { "AWS_PROFILE=probe-process" }, key = K.process.id },
  }

  local COMMANDS = {
    { "plan", "plan %s/policy.lua --endpoint-url %s", { [0] = true } },
    { "apply", "apply %s/policy.lua --json --endpoint-url %s --audit-log %s/audit-%%d.jsonl",
      { [0] = true, [3] = true } },
    { "list", "list --regions us-east-1 --endpoint-url %s", { [0] = true } },
    { "count", "count --regions us-east-1 --endpoint-url %s", { [0] = true } },
    { "decline", "decline --service guardduty --region us-east-1 --endpoint-url %s 123456789012 999988887777",
      { [3] = true } },
    { "delete", "delete --service macie2 --region us-east-1 --json --endpoint-url %s 210987654321", { [0] = true } },
  }

  local function command_line(c)
    if c[1] == "plan" then return c[2]:format(IN, s.endpoint) end
    if c[1] == "apply" then return c[2]:format(IN, s.endpoint, OUT):format(runs + 1) end
    return c[2]:format(s.endpoint)
  end

  for _, src in ipairs(SOURCES) do
    it("CLI: every subcommand with " .. src.name, function()
      for _, c in ipairs(COMMANDS) do
        s:reset()
        logged()
        local args = command_line(c)
        local code, out, err = invite(args, src.env)
        assert.is_true(c[3][code] == true, ("`invite %s` exited %s: %s"):format(c[1], tostring(code), err))
        assert.is_true(#out > 0, "`invite " .. c[1] .. "` printed nothing")
        -- the keys of this source were the ones that worked (for the role: a session the STS issued)
        local used = keys_used(logged())
        local n = 0
        for id, count in pairs(used) do
          if src.key == "issued" then
            if id ~= K.file.id then
              assert.is_true(issued_ids[id] == true, "an issued key the spec did not predict: " .. id)
              n = n + count
            end
          else
            assert.are.equal(src.key, id)
            n = n + count
          end
        end
        assert.is_true(n > 0, ("`invite %s` with %s: no successful request"):format(c[1], src.name))
      end
    end)
  end

  it("CLI: apply sweeping --accounts with --role (AssumeRole per account)", function()
    s:reset()
    logged()
    -- the caller's own account (PROBE) is swept with its own keys; MEMBER through an assumed role
    local code, out, err = invite(("apply %s/policy.lua --accounts %s,%s --role ProbeRole --endpoint-url %s "
      .. "--audit-log %s/audit-accounts.jsonl"):format(IN, PROBE, MEMBER, s.endpoint, OUT), SOURCES[1].env)
    assert.is_true(code == 0 or code == 3, err)
    assert.matches("declined", out)
    local sts = 0
    for id in pairs(keys_used(logged())) do
      if issued_ids[id] then sts = sts + 1 end
    end
    assert.is_true(sts > 0, "no call made with an assumed role's session")
  end)

  it("CLI: --help of the command and of every subcommand, with credentials in the environment", function()
    local all = { "" }
    for _, c in ipairs(require("invite.cli").COMMANDS) do all[#all + 1] = c[1] end
    for _, c in ipairs(all) do
      local code, out = invite((c == "" and "" or c .. " ") .. "--help", SOURCES[2].env)
      assert.are.equal(0, code)
      assert.matches("Usage: invite", out)
    end
  end)

  -- Errors forced: each case runs `args` with `env` and expects exit code `code` and `expect` in stderr.
  local ERRORS = {
    { "a bad signature (wrong secret key)", "count --services guardduty --regions us-east-1 --endpoint-url %s",
      { "AWS_ACCESS_KEY_ID=" .. K.static.id, "AWS_SECRET_ACCESS_KEY=" .. WRONG_SECRET }, 1,
      "credentials: sts GetCallerIdentity: SignatureDoesNotMatch" }, -- said once, before any scope
    { "an unknown access key", "list --regions us-east-1 --endpoint-url %s",
      { "AWS_ACCESS_KEY_ID=" .. K.unknown.id, "AWS_SECRET_ACCESS_KEY=" .. K.unknown.secret }, 1,
      "credentials: sts GetCallerIdentity: InvalidClientTokenId" },
    { "a wrong session token", "decline --service securityhub --region us-east-1 --endpoint-url %s 123456789012",
      { "AWS_ACCESS_KEY_ID=" .. K.session.id, "AWS_SECRET_ACCESS_KEY=" .. K.session.secret,
        "AWS_SESSION_TOKEN=" .. WRONG_TOKEN }, 1, "UnrecognizedClientException" },
    { "an expired session token", "plan %s --endpoint-url %s",
      { "AWS_ACCESS_KEY_ID=" .. K.expired.id, "AWS_SECRET_ACCESS_KEY=" .. K.expired.secret,
        "AWS_SESSION_TOKEN=" .. K.expired.token }, 1, "credentials: sts GetCallerIdentity: ExpiredToken" },
    { "AccessDenied from a service", "count --services macie2 --regions us-west-2 --endpoint-url %s",
      SOURCES[1].env, 1, "AccessDeniedException" },
    { "AccessDenied from STS",
      "list --regions us-east-1 --accounts " .. CLOSED .. " --role InviteManager --endpoint-url %s",
      SOURCES[2].env, 1, "AccessDenied" },
    { "credential_process output cut in the middle of the secret", "count --regions us-east-1 --endpoint-url %s",
      { "AWS_PROFILE=probe-broken-process" }, 1, "not a JSON object" },
    { "credential_process failing after printing its output", "list --regions us-east-1 --endpoint-url %s",
      { "AWS_PROFILE=probe-failing-process" }, 1, "exited with status 7" },
    { "a malformed credentials file", "count --regions us-east-1 --endpoint-url %s",
      { "AWS_PROFILE=probe-file", "AWS_SHARED_CREDENTIALS_FILE=" .. "%IN%/bad-credentials" }, 2,
      "bad%-credentials:3: expected `key = value`" },
    { "a credentials file with only a secret key",
      "decline --service macie2 --region us-east-1 --endpoint-url %s 123456789012",
      { "AWS_PROFILE=probe-file", "AWS_SHARED_CREDENTIALS_FILE=" .. "%IN%/partial-credentials" }, 1,
      "%[probe%-file%] has no aws_access_key_id" },
  }

  -- a token pasted into a shared file: `invite list` stops with the file and line (exit 2)
  for _, f in ipairs(PASTED_FILES) do
    local var = f[1]:find("config$") and "AWS_CONFIG_FILE=" or "AWS_SHARED_CREDENTIALS_FILE="
    ERRORS[#ERRORS + 1] = { "a shared file with " .. f[4], "list --regions us-east-1 --endpoint-url %s",
      { "AWS_PROFILE=probe-file", var .. "%IN%/" .. f[1] }, 2,
      "^invite: /tmp/invite%-secrets%-%w+/" .. f[1]:gsub("%-", "%%-") .. ":" .. f[3] .. ": [^\n]*\n$" }
  end

  for _, case in ipairs(ERRORS) do
    it("CLI: error output with " .. case[1], function()
      s:reset()
      local env = {}
      for i, v in ipairs(case[3]) do env[i] = v:gsub("%%IN%%", IN) end
      local args = case[2]:find("^plan") and case[2]:format(IN .. "/policy.lua", s.endpoint)
        or case[2]:format(s.endpoint)
      local code, out, err = invite(args, {}, env)
      assert.are.equal(case[4], code, err)
      assert.matches(case[5], out .. err)
    end)
  end

  local FAULTS = { "always throttle", "always 500", "always 503", "always reset", "always truncate", "always badjson" }
  it("CLI: apply (with an audit log) and decline under simulator faults: " .. table.concat(FAULTS, ", "), function()
    finally(function() s:set_faults("") end)
    for i, f in ipairs(FAULTS) do
      s:reset()
      -- listing works; the mutating calls fail
      local rules = {}
      for _, svc in ipairs{ "macie2", "securityhub", "guardduty" } do
        for _, op in ipairs{ "DeclineInvitations", "DeleteInvitations" } do
          rules[#rules + 1] = (f:gsub("^always ", "always " .. svc .. ":" .. op .. " "))
        end
      end
      s:set_faults(table.concat(rules, "; "))
      local code, out, err = invite(("apply %s/policy.lua --endpoint-url %s --audit-log %s/audit-fault-%d.jsonl")
        :format(IN, s.endpoint, OUT, i), SOURCES[2].env)
      assert.are.equal(1, code, f .. ": " .. err)
      assert.matches("error", out .. err)
      local audit = read_file(("%s/audit-fault-%d.jsonl"):format(OUT, i))
      assert.matches('"call"', audit)
      code, out, err = invite("decline --service guardduty --region us-east-1 --endpoint-url " .. s.endpoint
        .. " 123456789012", SOURCES[5].env)
      assert.are.equal(1, code, f .. ": " .. out .. err)
    end
    s:set_faults("")
  end)

  it("the simulator (`invite sim`): its stderr, request log and control answers", function()
    assert_clean(s:stderr(), "the simulator's stderr")
    assert_clean(cjson.encode(s:requests()), "GET /__sim/requests")
    assert_clean(cjson.encode(s:state()), "GET /__sim/state")
    assert_clean(cjson.encode(s:faults()), "GET /__sim/faults")
    local log = read_file(OUT .. "/sim-requests.jsonl")
    assert.is_true(#log > 1000, "the request log is short")
    -- the request log does name access key IDs (not secret): the runs above used every source
    for _, src in ipairs(SOURCES) do
      if src.key ~= "issued" then assert.truthy(log:find(src.key, 1, true), src.name .. " not in the log") end
    end
    -- every session the simulator issued was predicted, so its secret and token were probes
    for id in log:gmatch('"access_key_id":"(ASIA[^"]*)"') do
      assert.is_true(issued_ids[id] or id == K.session.id or id == K.process.id or id == K.expired.id,
        "unpredicted session " .. id)
    end
    local seen_issued = 0
    for id in pairs(issued_ids) do if log:find(id, 1, true) then seen_issued = seen_issued + 1 end end
    assert.is_true(seen_issued > 0, "no issued session was used")
  end)

  -----------------------------------------------------------------------------------------------
  -- Library level
  -----------------------------------------------------------------------------------------------

  describe("library", function()
    local invite_lib = require "invite"
    local credentials = require "invite.credentials"
    local sigv4 = require "invite.sigv4"

    local function client(service, creds, opts)
      local o = { region = REGION, endpoint = s.endpoint, credentials = creds, max_attempts = 2,
                  sleep = function() end }
      for k, v in pairs(opts or {}) do o[k] = v end
      return invite_lib[service].client(o)
    end

    local function session_creds(k, session_token)
      return { access_key_id = k.id, secret_access_key = k.secret, session_token = session_token or k.token }
    end

    it("errors: tostring(err) and every field, for authentication failures and faults", function()
      s:reset()
      local gd_params, macie_params = { AccountIds = { INVITERS[2] } }, { accountIds = { INVITERS[2] } }
      local cases = {
        { "bad signature", client("guardduty", { access_key_id = K.static.id, secret_access_key = WRONG_SECRET }),
          gd_params, "InvalidSignatureException" },
        { "unknown key", client("macie2", session_creds(K.unknown)), macie_params, "UnrecognizedClientException" },
        { "wrong token", client("securityhub", session_creds(K.session, WRONG_TOKEN)), gd_params,
          "UnrecognizedClientException" },
        { "expired token", client("guardduty", session_creds(K.expired)), gd_params, "ExpiredTokenException" },
        { "service not enabled", client("macie2", session_creds(K.session), { region = "us-west-2" }), macie_params,
          "AccessDeniedException" },
      }
      for _, c in ipairs(cases) do
        local res, err = c[2]:decline_invitations(c[3])
        table.remove(c, 3)
        assert.is_nil(res, c[1])
        assert.are.equal(c[3], err.code, c[1])
        for _, f in ipairs{ "code", "message", "status", "request_id", "retryable" } do
          assert.is_not_nil(err[f], c[1] .. ": err." .. f)
        end
        assert_clean(tostring(err), c[1] .. ": tostring(err)")
        assert_clean(dumps(err), c[1] .. ": the err table")
      end
      finally(function() s:set_faults("") end)
      for _, f in ipairs(FAULTS) do
        s:set_faults(f)
        local gd = client("guardduty", session_creds(K.session))
        local res, err = gd:list_invitations{}
        assert.is_nil(res, f)
        assert.is_true(err.code ~= nil and err.message ~= nil, f)
        assert_clean(tostring(err), f .. ": tostring(err)")
        assert_clean(dumps(err), f .. ": the err table")
      end
      s:set_faults("")
    end)

    it("credential providers: __tostring, info() and errors, for every source", function()
      local env = { AWS_ACCESS_KEY_ID = K.session.id, AWS_SECRET_ACCESS_KEY = K.session.secret,
        AWS_SESSION_TOKEN = K.session.token, AWS_CONFIG_FILE = IN .. "/config",
        AWS_SHARED_CREDENTIALS_FILE = IN .. "/credentials", AWS_ENDPOINT_URL_STS = s.endpoint,
        AWS_EC2_METADATA_DISABLED = "true", AWS_REGION = REGION, HOME = HOME }
      local good = {
        { "environment", credentials.chain{ env = env }, K.session.id },
        { "credentials file", credentials.chain{ env = env, profile = "probe-file" }, K.file.id },
        { "role_arn + source_profile", credentials.chain{ env = env, profile = "probe-role" }, nil },
        { "credential_process", credentials.chain{ env = env, profile = "probe-process" }, K.process.id },
        { "static", credentials.static{ access_key_id = K.static.id, secret_access_key = LIB_SECRET,
          session_token = WRONG_TOKEN }, K.static.id },
      }
      for _, c in ipairs(good) do
        local p = c[2]
        assert_clean(tostring(p), c[1] .. ": tostring before get()")
        local ok, ak, sk = p:get()
        assert.is_true(ok, c[1] .. ": " .. tostring(ak))
        if c[3] then assert.are.equal(c[3], ak) else assert.is_true(issued_ids[ak] == true, c[1]) end
        assert.is_true(leak_in(sk) ~= nil, c[1] .. ": the secret it returned is not a probe")
        assert_clean(tostring(p), c[1] .. ": tostring after get()")
        assert_clean(dumps(p:info()), c[1] .. ": info()")
      end
      local bad = {
        { "broken credential_process", credentials.chain{ env = env, profile = "probe-broken-process" } },
        { "failing credential_process", credentials.chain{ env = env, profile = "probe-failing-process" } },
        { "malformed credentials file",
          credentials.chain{ env = { AWS_SHARED_CREDENTIALS_FILE = IN .. "/bad-credentials",
          AWS_CONFIG_FILE = "/dev/null", AWS_EC2_METADATA_DISABLED = "true", HOME = HOME }, profile = "probe-file" } },
        { "partial credentials file",
          credentials.chain{ env = { AWS_SHARED_CREDENTIALS_FILE = IN .. "/partial-credentials",
          AWS_CONFIG_FILE = "/dev/null", AWS_EC2_METADATA_DISABLED = "true", HOME = HOME }, profile = "probe-file" } },
      }
      for _, c in ipairs(bad) do
        local ok, err = c[2]:get()
        assert.is_nil(ok, c[1])
        assert.is_not_nil(err.code, c[1])
        assert_clean(tostring(err), c[1] .. ": tostring(err)")
        assert_clean(dumps(err), c[1] .. ": the err table")
        assert_clean(tostring(c[2]), c[1] .. ": tostring(provider)")
      end
    end)

    it("shared-file parse errors: file and line, no text of the line", function()
      local config = require "invite.config"
      for _, f in ipairs(PASTED_FILES) do
        local path = IN .. "/" .. f[1]
        local env = { AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
                      AWS_EC2_METADATA_DISABLED = "true", HOME = HOME }
        env[f[1]:find("config$") and "AWS_CONFIG_FILE" or "AWS_SHARED_CREDENTIALS_FILE"] = path
        local where = path .. ":" .. f[3] .. ": "
        -- the parser, config.load, a credential chain and a client call all give the same message
        local text = assert(read_file(path))
        local parsed, perr = require("invite.config.ini").parse(text, path)
        assert.is_nil(parsed, f[4])
        local shared, lerr = config.load{ env = env }
        assert.is_nil(shared, f[4])
        local ok, cerr = credentials.chain{ env = env, profile = "probe-file" }:get()
        assert.is_nil(ok, f[4])
        local res, err = client("macie2", nil, { env = env, profile = "probe-file" }):list_invitations{}
        assert.is_nil(res, f[4])
        for _, e in ipairs{ perr, lerr, cerr, err } do
          local line = tostring(e)
          assert.is_truthy(line:find(where, 1, true), f[4] .. ": no file and line in " .. line)
          assert_clean(line, f[4] .. ": " .. line)
          assert_clean(dumps(e), f[4] .. ": the err table")
        end
      end
    end)

    it("web identity and container credentials: tokens in no provider, info() or error", function()
      local tiny = require "support.tiny_server"
      write_file(IN .. "/web-token", WEB_TOKEN)
      write_file(IN .. "/wrong-web-token", WRONG_WEB_TOKEN)
      local base = { AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
        AWS_EC2_METADATA_DISABLED = "true", AWS_REGION = REGION, HOME = HOME, AWS_ENDPOINT_URL_STS = s.endpoint,
        AWS_ROLE_ARN = "arn:aws:iam::" .. PROBE .. ":role/ProbeWebRole", AWS_ROLE_SESSION_NAME = "secrets-spec" }
      local function with(t)
        local e = {}
        for k, v in pairs(base) do e[k] = v end
        for k, v in pairs(t) do e[k] = v end
        return e
      end
      local srv = tiny.start{ kind = "container", auth = CONTAINER_AUTH, credentials = { AccessKeyId = CONTAINER.id,
        SecretAccessKey = CONTAINER.secret, Token = CONTAINER.token, Expiration = "2099-01-01T00:00:00Z" } }
      local failing = tiny.start{ kind = "container", status = 500 }
      finally(function() srv:stop(); failing:stop() end)
      local good = {
        { "web identity", credentials.chain{ env = with{ AWS_WEB_IDENTITY_TOKEN_FILE = IN .. "/web-token" } } },
        { "container", credentials.chain{ env = with{ AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.url .. "/creds",
          AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_AUTH } } },
      }
      for _, c in ipairs(good) do
        local ok, ak, sk = c[2]:get()
        assert.is_true(ok, c[1] .. ": " .. tostring(ak))
        assert.is_true(leak_in(sk) ~= nil, c[1] .. ": the secret it returned is not a probe")
        assert_clean(tostring(c[2]), c[1] .. ": tostring(provider)")
        assert_clean(dumps(c[2]:info()), c[1] .. ": info()")
      end
      local bad = {
        { "wrong web identity token", with{ AWS_WEB_IDENTITY_TOKEN_FILE = IN .. "/wrong-web-token" },
          "InvalidIdentityToken" },
        { "wrong container authorization token", with{ AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.url .. "/creds",
          AWS_CONTAINER_AUTHORIZATION_TOKEN = WRONG_CONTAINER_AUTH }, "HTTP status 401" },
        { "a container endpoint failing", with{ AWS_CONTAINER_CREDENTIALS_FULL_URI = failing.url .. "/creds",
          AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_AUTH }, "HTTP status 500" },
        { "a container authorization token with a line break", with{
          AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.url .. "/creds",
          AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_AUTH .. "\r\nX-Injected: " .. WRONG_CONTAINER_AUTH },
          "line break" },
      }
      for _, c in ipairs(bad) do
        local p = credentials.chain{ env = c[2], container = { sleep = function() end } }
        local ok, err = p:get()
        assert.is_nil(ok, c[1])
        assert.matches(c[3], tostring(err), 1, true)
        assert_clean(tostring(err), c[1] .. ": tostring(err)")
        assert_clean(dumps(err), c[1] .. ": the err table")
        assert_clean(tostring(p), c[1] .. ": tostring(provider)")
      end
    end)

    it("the signer: the secret appears in no output; the token only where SigV4 puts it", function()
      local headers = { { "Host", "guardduty.us-east-1.amazonaws.com" }, { "Content-Type", "application/json" } }
      local base = { method = "POST", path = "/invitation/decline", headers = headers,
        body = '{"accountIds":["123456789012"]}', access_key = K.session.id, secret_key = K.session.secret,
        session_token = K.session.token, region = REGION, service = "guardduty", time = 1700000000 }
      local out = assert(sigv4.sign(base))
      for _, f in ipairs{ "string_to_sign", "signature", "authorization", "signed_headers", "credential_scope",
                          "amz_date", "query" } do
        assert_clean(out[f], "sign(): out." .. f)
      end
      -- the canonical request signs X-Amz-Security-Token by definition (SigV4), and the header
      -- must be sent; nothing else carries the token, and nothing at all the secret key
      local token_line = "x%-amz%-security%-token:" .. K.session.token:gsub("%p", "%%%0") .. "\n"
      local creq = out.canonical_request:gsub(token_line, "", 1)
      assert_clean(creq, "sign(): out.canonical_request without its x-amz-security-token line")
      local token_headers = 0
      for _, h in ipairs(out.headers) do
        if h[1]:lower() == "x-amz-security-token" then
          assert.are.equal(K.session.token, h[2])
          token_headers = token_headers + 1
        else
          assert_clean(h[1] .. ": " .. h[2], "sign(): header " .. h[1])
        end
      end
      assert.are.equal(1, token_headers)
      -- presigned: the token is a query parameter by definition; the secret is nowhere
      local p = {}
      for k, v in pairs(base) do p[k] = v end
      p.presign = true
      local pre = assert(sigv4.sign(p))
      local q = pre.query:gsub("X%-Amz%-Security%-Token=[^&]*", "", 1)
      assert_clean(q, "presigned query without X-Amz-Security-Token")
      assert_clean(pre.string_to_sign, "presigned string to sign")
      -- refused input: the error names the field, never a value
      local b = {}
      for k, v in pairs(base) do b[k] = v end
      b.headers = { { "Host", "x" }, { "X-Bad", "line\nbreak " .. K.session.token } }
      local none, err = sigv4.sign(b)
      assert.is_nil(none)
      assert_clean(tostring(err), "sign() error")
      assert_clean(dumps(err), "sign() error table")
    end)

    it("dry_run output: the signed request with the signature and the token redacted", function()
      local gd = client("guardduty", session_creds(K.session), { dry_run = true })
      local res = assert(gd:decline_invitations{ AccountIds = { INVITERS[1] } })
      assert.is_true(res.DryRun)
      local text = dumps(res)
      assert_clean(text, "dry_run result")
      assert.matches("Signature=REDACTED", text)
      assert.matches("REDACTED", text)
    end)

    it("invite.run: the report and the audit log, with a failure in one service", function()
      s:reset()
      s:set_faults("always securityhub:DeclineInvitations 500")
      finally(function() s:set_faults("") end)
      local audit = OUT .. "/lib-audit.jsonl"
      local report = invite_lib.run{ services = { "macie2", "securityhub", "guardduty" }, regions = { REGION },
        endpoint = s.endpoint, apply = true, audit_log = audit,
        credentials = credentials.static{ access_key_id = K.session.id, secret_access_key = K.session.secret,
                                          session_token = K.session.token },
        policy = function() return "decline", "probe" end }
      s:set_faults("")
      assert.is_true((report.totals.outcomes.error or 0) > 0, "the forced failure is not in the report")
      assert_clean(dumps(report), "invite.run report")
      local log = assert(read_file(audit))
      assert.matches('"outcome"', log)
    end)
  end)

  -----------------------------------------------------------------------------------------------
  -- Last: every file written
  -----------------------------------------------------------------------------------------------

  it("no file the runs wrote holds a secret: the runs' directory, their HOME, and /tmp", function()
    assert.is_true(runs >= 50, "only " .. runs .. " CLI runs")
    -- the runs' own directory, file by file
    local files = lines_of("find " .. shq(OUT) .. " -type f")
    assert.is_true(#files >= 2 * runs, "the outputs are missing")
    local audits = 0
    for _, f in ipairs(files) do
      if f:match("audit") then audits = audits + 1 end
      assert_clean(read_file(f), f)
    end
    assert.is_true(audits >= 8, "only " .. audits .. " audit logs")
    -- everything else created in /tmp since the spec started (the spec's own inputs excepted):
    -- grep for the probes, then name the probe in each file found
    local pat = IN .. "/probes"
    local texts = {}
    for i, p in ipairs(probes) do texts[i] = p.text end
    write_file(pat, table.concat(texts, "\n") .. "\n")
    local hits = lines_of(("find /tmp -xdev -type f -newer %s -size -64M ! -path %s ! -path '/tmp/bash_jobs*' "
      .. "-print0 2>/dev/null | xargs -0 -r grep -l -F -f %s 2>/dev/null"):format(shq(MARK), shq(IN .. "/*"), shq(pat)))
    local leaking = {}
    for _, f in ipairs(hits) do
      local found = leak_in(read_file(f) or "")
      if found then leaking[#leaking + 1] = f .. ": " .. found end
    end
    assert.are.same({}, leaking)
    -- access key IDs are not secret (AWS logs them; the simulator's request log has them), but the
    -- CLI has no reason to print them either
    local all = table.concat(cli_outputs, "\n")
    for _, k in pairs(K) do
      assert.is_nil(all:find(k.id, 1, true), "the CLI printed access key ID " .. k.id)
    end
  end)
end)
