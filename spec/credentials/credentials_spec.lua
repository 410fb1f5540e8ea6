-- invite.credentials: every source, the chain's order and its "looked at" list, refresh, and the
-- rule that no secret ever reaches an error. STS-backed sources are in spec/credentials/sts_spec.lua.
local envh = require "support.env"
local credentials = require "invite.credentials"
local provider = require "invite.credentials.provider"

local SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
local TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"

-- every test gets a fresh environment with IMDS disabled so nothing reaches 169.254.169.254
local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

local function no_secret(err)
  local s = tostring(err)
  assert.is_nil(s:find(SECRET, 1, true), "secret key in error: " .. s)
  assert.is_nil(s:find(TOKEN, 1, true), "session token in error: " .. s)
  for _, v in pairs(err) do
    if type(v) == "string" then
      assert.is_nil(v:find(SECRET, 1, true))
      assert.is_nil(v:find(TOKEN, 1, true))
    end
  end
end

local function sources_of(err)
  local out = {}
  for i, t in ipairs(err.tried or {}) do out[i] = t.source end
  return out
end

describe("credentials.static", function()
  it("returns the keys", function()
    local p = credentials.static{ access_key_id = "AKID", secret_access_key = SECRET, session_token = TOKEN }
    assert.same({ true, "AKID", SECRET, TOKEN }, { p:get() })
    assert.same({ name = "static", source = "static", cached = true }, p:info())
  end)

  it("raises on misuse", function()
    assert.has.error(function() credentials.static{ access_key_id = "A" } end,
      "credentials.static: secret_access_key is required")
    assert.has.error(function() credentials.static("x") end)
    assert.has.error(function()
      credentials.static{ access_key_id = "A", secret_access_key = "s", expiration = "soon" }
    end)
  end)

  it("honours an expiration it cannot refresh", function()
    local now = 1000
    local p = credentials.static{ access_key_id = "A", secret_access_key = SECRET, expiration = 2000,
                                  clock = function() return now end }
    assert.is_true((p:get()))
    now = 1999
    local ok, err = p:get()
    assert.is_nil(ok)
    assert.equal("ExpiredCredentials", err.code)
    no_secret(err)
  end)
end)

describe("credentials.env", function()
  it("reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN", function()
    e:set("AWS_ACCESS_KEY_ID", "AKENV"):set("AWS_SECRET_ACCESS_KEY", SECRET):set("AWS_SESSION_TOKEN", TOKEN)
    assert.same({ true, "AKENV", SECRET, TOKEN }, { credentials.env{ env = e.vars }:get() })
  end)

  it("accepts the legacy AWS_SECURITY_TOKEN, read first as botocore does", function()
    e:set("AWS_ACCESS_KEY_ID", "A"):set("AWS_SECRET_ACCESS_KEY", SECRET):set("AWS_SESSION_TOKEN", TOKEN)
    assert.same({ true, "A", SECRET, TOKEN }, { credentials.env{ env = e.vars }:get() })
    e:set("AWS_SECURITY_TOKEN", "old")
    assert.same({ true, "A", SECRET, "old" }, { credentials.env{ env = e.vars }:get() })
  end)

  it("is not found without AWS_ACCESS_KEY_ID and an error with only half the pair", function()
    local ok, err = credentials.env{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.is_true(err.not_found)
    e:set("AWS_ACCESS_KEY_ID", "A")
    ok, err = credentials.env{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.equal("PartialCredentials", err.code)
    assert.is_nil(err.not_found)
  end)

  it("re-reads the environment when AWS_CREDENTIAL_EXPIRATION nears", function()
    local now = 0
    e:set("AWS_ACCESS_KEY_ID", "A1"):set("AWS_SECRET_ACCESS_KEY", SECRET)
      :set("AWS_CREDENTIAL_EXPIRATION", "1970-01-01T01:00:00Z")
    local p = credentials.env{ env = e.vars, clock = function() return now end }
    assert.equal("A1", select(2, p:get()))
    e:set("AWS_ACCESS_KEY_ID", "A2"):set("AWS_CREDENTIAL_EXPIRATION", "1970-01-01T02:00:00Z")
    now = 3000
    assert.equal("A1", select(2, p:get()))
    now = 3600 - 60
    assert.equal("A2", select(2, p:get()))
  end)
end)

describe("credentials.chain", function()
  local function files(cfg, cred)
    if cfg then e:write(".aws/config", cfg) end
    if cred then e:write(".aws/credentials", cred) end
  end

  it("prefers explicit client credentials over everything", function()
    e:set("AWS_ACCESS_KEY_ID", "AKENV"):set("AWS_SECRET_ACCESS_KEY", "x")
    local p = credentials.chain{ env = e.vars, access_key_id = "AKOPT", secret_access_key = SECRET }
    assert.same({ true, "AKOPT", SECRET, nil }, { p:get() })
    local given = credentials.static{ access_key_id = "AKP", secret_access_key = "s" }
    assert.equal(given, credentials.chain{ env = e.vars, credentials = given })
    assert.has.error(function() credentials.chain{ access_key_id = "x" } end)
  end)

  it("takes the environment before the shared files", function()
    files(nil, "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = s\n")
    e:set("AWS_ACCESS_KEY_ID", "AKENV"):set("AWS_SECRET_ACCESS_KEY", "s")
    local p = credentials.chain{ env = e.vars }
    assert.equal("AKENV", select(2, p:get()))
    assert.equal("environment", p:info().source)
  end)

  it("skips the environment when the profile is a client option, not when it is AWS_PROFILE", function()
    files(nil, "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = s\n")
    e:set("AWS_ACCESS_KEY_ID", "AKENV"):set("AWS_SECRET_ACCESS_KEY", "s")
    assert.equal("AKDEV", select(2, credentials.chain{ env = e.vars, profile = "dev" }:get()))
    e:set("AWS_PROFILE", "dev")
    assert.equal("AKENV", select(2, credentials.chain{ env = e.vars }:get()))
  end)

  it("takes the credentials file before credential_process before the config file", function()
    local script = e:write("proc.sh",
      "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKPROC\",\"SecretAccessKey\":\"s\"}'\n", "755")
    files("[default]\naws_access_key_id = AKCFG\naws_secret_access_key = s\ncredential_process = " .. script .. "\n",
          "[default]\naws_access_key_id = AKCRED\naws_secret_access_key = s\n")
    assert.equal("AKCRED", select(2, credentials.chain{ env = e.vars }:get()))
    files(nil, "[other]\n")
    local p = credentials.chain{ env = e.vars }
    assert.equal("AKPROC", select(2, p:get()))
    assert.equal("credential_process of profile default", p:info().source)
    files("[default]\naws_access_key_id = AKCFG\naws_secret_access_key = s\n")
    p = credentials.chain{ env = e.vars }
    assert.equal("AKCFG", select(2, p:get()))
    assert.equal("config file " .. e.home .. "/.aws/config [default]", p:info().source)
  end)

  it("reads named profiles from [profile x] in config and [x] in credentials", function()
    files("[profile cfgonly]\naws_access_key_id = AKC\naws_secret_access_key = s\naws_session_token = t\n",
          "[credonly]\naws_access_key_id = AKR\naws_secret_access_key = s\naws_security_token = legacy\n")
    assert.same({ true, "AKC", "s", "t" }, { credentials.chain{ env = e.vars, profile = "cfgonly" }:get() })
    assert.same({ true, "AKR", "s", "legacy" }, { credentials.chain{ env = e.vars, profile = "credonly" }:get() })
    e:set("AWS_SHARED_CREDENTIALS_FILE",
      e:write("elsewhere", "[credonly]\naws_access_key_id = AKX\naws_secret_access_key = s\n"))
    assert.equal("AKX", select(2, credentials.chain{ env = e.vars, profile = "credonly" }:get()))
  end)

  it("lists every place looked at, in order, when nothing is found", function()
    local ok, err = credentials.chain{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.equal("NoCredentials", err.code)
    assert.same({ "client options", "environment", "assume role", "web identity",
                  "shared credentials file " .. e.home .. "/.aws/credentials", "credential_process",
                  "config file " .. e.home .. "/.aws/config", "container", "instance metadata" }, sources_of(err))
    local s = tostring(err)
    assert.matches("^NoCredentials: no AWS credentials found; looked at, in order: 1%. client options: ", s)
    assert.matches("2%. environment: AWS_ACCESS_KEY_ID is not set; ", s)
    assert.matches("5%. shared credentials file [^:]+: file not found or not readable; ", s)
    assert.matches("9%. instance metadata: AWS_EC2_METADATA_DISABLED is true$", s)
    assert.is_nil(s:find("\n", 1, true))
  end)

  it("says why a present profile gave nothing", function()
    files("[default]\nregion = us-east-1\n", "[default]\nregion = x\n")
    local _, err = credentials.chain{ env = e.vars }:get()
    assert.matches("shared credentials file [^:]+: %[default%] has no aws_access_key_id", tostring(err))
    assert.matches("config file [^:]+: %[default%] has no aws_access_key_id", tostring(err))
  end)

  it("reports SSO profiles as unsupported with a workaround", function()
    files("[profile sso]\nsso_start_url = https://x.awsapps.com/start\nsso_account_id = 111122223333\n")
    local _, err = credentials.chain{ env = e.vars, profile = "sso" }:get()
    assert.matches("IAM Identity Center %(SSO%)", err.message)
    assert.matches("aws configure export%-credentials %-%-profile sso %-%-format process", err.message)
  end)

  it("stops at a broken source instead of skipping it, and keeps what it saw before", function()
    files(nil, "[default]\naws_access_key_id = AKONLY\n")
    local ok, err = credentials.chain{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.equal("PartialCredentials", err.code)
    assert.matches("has aws_access_key_id but no aws_secret_access_key", err.message)
    assert.matches("looked at before: 1%. client options", err.message)
  end)

  it("fails on a broken config file or a missing named profile before any source (botocore)", function()
    e:set("AWS_ACCESS_KEY_ID", "A"):set("AWS_SECRET_ACCESS_KEY", "s")
    files("[default\n")
    local ok, err = credentials.chain{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.equal("InvalidConfiguration", err.code)
    assert.matches("config:1: section header", err.message)
    files("[default]\n")
    e:set("AWS_PROFILE", "missing")
    ok, err = credentials.chain{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.equal("ProfileNotFound", err.code)
  end)

  it("resolves once and keeps the source it found", function()
    e:set("AWS_ACCESS_KEY_ID", "A1"):set("AWS_SECRET_ACCESS_KEY", "s")
    local p = credentials.chain{ env = e.vars }
    assert.equal("A1", select(2, p:get()))
    e:unset("AWS_ACCESS_KEY_ID")
    assert.equal("A1", select(2, p:get()))
  end)

  it("does no I/O at require time or when a chain is built", function()
    local saved = {}
    for k in pairs(package.loaded) do
      if k:match("^invite%.credentials") or k:match("^invite%.config") or k == "invite.sts" then
        saved[k] = package.loaded[k]; package.loaded[k] = nil
      end
    end
    -- luacheck: push ignore 122
    local open, popen, getenv = io.open, io.popen, os.getenv
    local touched = {}
    io.open = function(p) touched[#touched + 1] = "open " .. tostring(p); return nil, "blocked" end
    io.popen = function(c) touched[#touched + 1] = "popen " .. tostring(c); return nil, "blocked" end
    os.getenv = function(n) touched[#touched + 1] = "getenv " .. tostring(n); return nil end
    local ok, err = pcall(function()
      local c = require "invite.credentials"
      require "invite.config"
      require "invite.sts"
      c.chain{ http = function() error("network") end }
      c.chain{ profile = "x" }
      c.imds{}
      c.container{}
      c.env{}
    end)
    io.open, io.popen, os.getenv = open, popen, getenv
    -- luacheck: pop
    for k, v in pairs(saved) do package.loaded[k] = v end
    assert.is_true(ok, tostring(err))
    assert.same({}, touched)
  end)
end)

describe("refresh", function()
  local function counting(exp_step)
    local n, now = 0, 0
    local p = provider.new("t", function()
      n = n + 1
      return { access_key_id = "K" .. n, secret_access_key = SECRET, expiration = now + exp_step, source = "t" }
    end, { clock = function() return now end })
    return p, function() return n end, function(t) now = t end
  end

  it("caches until the advisory window, then refreshes", function()
    local p, count, set = counting(3600)
    assert.equal("K1", select(2, p:get()))
    set(3600 - 301)
    assert.equal("K1", select(2, p:get()))
    assert.equal(1, count())
    set(3600 - 299)
    assert.equal("K2", select(2, p:get()))
    assert.equal(2, count())
  end)

  it("keeps old credentials if an advisory refresh fails, and errors in the mandatory window", function()
    local now, fail, n = 0, false, 0
    local p = provider.new("t", function()
      n = n + 1
      if fail then return nil, credentials.provider.not_found("t", "down") end
      return { access_key_id = "K" .. n, secret_access_key = SECRET, expiration = now + 1000 }
    end, { clock = function() return now end })
    assert.equal("K1", select(2, p:get()))
    fail = true
    now = 1000 - 200                          -- advisory window: stale but usable
    assert.equal("K1", select(2, p:get()))
    assert.equal(2, n)
    now = now + 10                            -- within retry_interval: no new attempt
    assert.equal("K1", select(2, p:get()))
    assert.equal(2, n)
    now = 1000 - 100                          -- mandatory window: the failure is returned
    local ok, err = p:get()
    assert.is_nil(ok)
    assert.equal("down", err.message)
    fail = false
    assert.equal("K4", select(2, p:get()))
  end)

  it("refuses refreshed credentials that are already expired", function()
    local now = 100
    local p = provider.new("t", function()
      return { access_key_id = "K", secret_access_key = SECRET, expiration = "1970-01-01T00:00:50Z", source = "t" }
    end, { clock = function() return now end })
    local ok, err = p:get()
    assert.is_nil(ok)
    assert.equal("ExpiredCredentials", err.code)
    assert.equal("t: the credentials it returned expired at 1970-01-01T00:00:50Z", err.message)
  end)

  it("runs one refresh at a time: others get cached credentials, or fetch when they cannot wait", function()
    local now, n, yields = 0, 0, true
    local p = provider.new("t", function()
      n = n + 1
      local mine = n
      if yields then coroutine.yield() end -- a transport that yields (nginx cosockets, the scheduler)
      return { access_key_id = "K" .. mine, secret_access_key = SECRET, expiration = now + 1000 }
    end, { clock = function() return now end })
    local first = coroutine.create(function() return p:get() end)
    assert.is_true(coroutine.resume(first))           -- suspended inside the refresh
    -- a blocking caller (no scheduler task, no nginx) cannot wait for it: it fetches itself,
    -- and never sees a "refresh in progress" (scheduler tasks wait: refresh_single_flight_spec)
    yields = false
    assert.same({ true, "K2", SECRET }, { p:get() })
    assert.is_true(p._refreshing)                      -- the first refresh is still in flight
    assert.same({ true, true, "K1", SECRET }, { coroutine.resume(first) })
    assert.is_false(p._refreshing)
    assert.equal(2, n)
    now = 800                                          -- advisory window: refresh in a coroutine
    yields = true
    local second = coroutine.create(function() return p:get() end)
    assert.is_true(coroutine.resume(second))
    assert.equal("K1", select(2, p:get()))             -- the waiting caller keeps the cached keys
    assert.same({ true, true, "K3", SECRET }, { coroutine.resume(second) })
    assert.equal(3, n)
  end)

  it("lets the refresh function be wrapped (the nginx lock hook)", function()
    local p = counting(3600)
    local calls = 0
    local inner = p.refresh
    p.refresh = function(self) calls = calls + 1; return inner(self) end
    assert.is_true((p:get()))
    assert.equal(1, calls)
  end)
end)

describe("credentials.process", function()
  local function script(body)
    return e:write("proc-" .. math.random(1e9) .. ".sh", "#!/bin/sh\n" .. body, "755")
  end

  it("runs the command and reads Version 1 JSON", function()
    local s = script(('cat <<EOF\n{"Version": 1, "AccessKeyId": "AKP", "SecretAccessKey": "%s", '
      .. '"SessionToken": "%s"}\nEOF\n')
      :format(SECRET, TOKEN))
    assert.same({ true, "AKP", SECRET, TOKEN }, { credentials.process{ command = s }:get() })
  end)

  it("passes words, not a shell line", function()
    local marker = e:path("pwned")
    local s = script('printf \'{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"x"}\' "$1"\n')
    local p = credentials.process{ command = s .. " 'a b'\\;c ; touch " .. marker }
    assert.equal("a b;c", select(2, p:get()))
    assert.is_nil(io.open(marker))
  end)

  it("honours Expiration by running the command again before it passes", function()
    local countf = e:path("count")
    local s = script(([[
n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s
echo "{\"Version\":1,\"AccessKeyId\":\"AK$n\",\"SecretAccessKey\":\"s\",\"Expiration\":\"2030-01-01T00:00:00Z\"}"
]]):format(countf, countf))
    local now = os.time{ year = 2029, month = 12, day = 31, hour = 0 }
    local p = credentials.process{ command = s, clock = function() return now end }
    assert.equal("AK1", select(2, p:get()))
    assert.equal("AK1", select(2, p:get()))
    now = 1893456000 - 250       -- 2030-01-01 minus 250 s: inside the refresh window
    assert.equal("AK2", select(2, p:get()))
    assert.equal(1893456000, p:info().expiration)
  end)

  it("reports a failing command with its status and stderr, never its stdout", function()
    local s = script(('echo \'{"Version":1,"AccessKeyId":"A","SecretAccessKey":"%s"}\'\n'
      .. 'echo "token expired, run login" >&2\nexit 3\n')
      :format(SECRET))
    local ok, err = credentials.process{ command = s }:get()
    assert.is_nil(ok)
    assert.equal("CredentialProcessError", err.code)
    assert.equal(3, err.exit_status)
    assert.matches("exited with status 3: token expired, run login$", err.message)
    no_secret(err)
  end)

  it("checks the Version and the keys without echoing the output", function()
    local cases = {
      { ('{"Version":2,"AccessKeyId":"A","SecretAccessKey":"%s"}'):format(SECRET), "unsupported Version 2" },
      { ('{"AccessKeyId":"A","SecretAccessKey":"%s"}'):format(SECRET), "unsupported Version <missing>" },
      { ('{"Version":1,"SecretAccessKey":"%s"}'):format(SECRET), "AccessKeyId is missing" },
      { ('not json %s'):format(SECRET), "the output is not a JSON object" },
      { ('{"Version":1,"AccessKeyId":"A","SecretAccessKey":"%s","Expiration":"tomorrow"}'):format(SECRET),
        "Expiration is not an ISO 8601 time" },
    }
    for _, c in ipairs(cases) do
      local ok, err = credentials.process{ command = script("cat <<'EOF'\n" .. c[1] .. "\nEOF\n") }:get()
      assert.is_nil(ok)
      assert.matches(c[2], err.message, 1, true)
      no_secret(err)
    end
  end)

  it("uses an injected runner (for nginx's ngx.pipe)", function()
    local seen
    local p = credentials.process{ command = "get-creds --profile 'a b'", run = function(argv)
      seen = argv
      return '{"Version":1,"AccessKeyId":"AKR","SecretAccessKey":"s"}', "", 0
    end }
    assert.equal("AKR", select(2, p:get()))
    assert.same({ "get-creds", "--profile", "a b" }, seen)
  end)
end)

describe("iso8601", function()
  local common = require "invite.credentials.common"
  it("parses the forms AWS sends", function()
    assert.equal(1893456000, common.parse_iso8601("2030-01-01T00:00:00Z"))
    assert.equal(1893456000, common.parse_iso8601("2030-01-01T00:00:00.359Z"))
    assert.equal(1893456000, common.parse_iso8601("2030-01-01T02:00:00+02:00"))
    assert.equal(951782400, common.parse_iso8601("2000-02-29T00:00:00Z"))
    assert.is_nil(common.parse_iso8601("2030-13-01T00:00:00Z"))
    assert.is_nil(common.parse_iso8601("2030-01-01"))
  end)
end)
