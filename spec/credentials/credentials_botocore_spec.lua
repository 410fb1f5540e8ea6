-- Parity with boto3: the same HOME, files and environment given to Debian's botocore
-- (/usr/bin/python3, run with a clean environment) and to invite's chain must pick the same
-- credentials, or fail alike. Network sources are disabled on both sides.
local interp = require "support.interp"
local envh = require "support.env"
local credentials = require "invite.credentials"
local cjson = require "cjson"

local have_botocore = interp.execute("env -u LD_PRELOAD /usr/bin/python3 -c 'import botocore' >/dev/null 2>&1") == 0

local PY = [[
import json, sys
import botocore.session
profile = sys.argv[1] or None
try:
    s = botocore.session.Session(profile=profile)
    c = s.get_credentials()
    if c is None:
        print(json.dumps({"ok": False, "error": "none"}))
    else:
        f = c.get_frozen_credentials()
        print(json.dumps({"ok": True, "ak": f.access_key, "token": f.token, "method": c.method}))
except Exception as e:
    print(json.dumps({"ok": False, "error": type(e).__name__}))
]]

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function botocore_view(e, profile)
  local script = e:write("probe.py", PY)
  local parts = { "env -i" }
  for k, v in pairs(e.vars) do parts[#parts + 1] = shq(k .. "=" .. v) end
  parts[#parts + 1] = "/usr/bin/python3 " .. shq(script) .. " " .. shq(profile or "")
  local p = assert(io.popen(table.concat(parts, " ")))
  local out = p:read("*a")
  p:close()
  return cjson.decode(out)
end

local function invite_view(e, profile)
  local ok, ak, _, tok = credentials.chain{ env = e.vars, profile = profile }:get()
  if not ok then return { ok = false, error = ak.code } end
  return { ok = true, ak = ak, token = tok }
end

local KEYS = "aws_secret_access_key = s\n"

local scenarios = {
  { "environment only", { AWS_ACCESS_KEY_ID = "AKENV", AWS_SECRET_ACCESS_KEY = "s" } },
  { "environment before the credentials file", { AWS_ACCESS_KEY_ID = "AKENV", AWS_SECRET_ACCESS_KEY = "s" },
    nil, "[default]\naws_access_key_id = AKFILE\n" .. KEYS },
  { "AWS_PROFILE does not disable the environment",
    { AWS_ACCESS_KEY_ID = "AKENV", AWS_SECRET_ACCESS_KEY = "s", AWS_PROFILE = "dev" },
    nil, "[dev]\naws_access_key_id = AKDEV\n" .. KEYS },
  { "an explicit profile disables the environment",
    { AWS_ACCESS_KEY_ID = "AKENV", AWS_SECRET_ACCESS_KEY = "s" },
    nil, "[dev]\naws_access_key_id = AKDEV\n" .. KEYS, "dev" },
  { "the credentials file before the config file", {},
    "[default]\naws_access_key_id = AKCFG\n" .. KEYS, "[default]\naws_access_key_id = AKCRED\n" .. KEYS },
  { "the config file alone", {}, "[profile p]\naws_access_key_id = AKCFG\n" .. KEYS, nil, "p" },
  { "credential_process before the config file", {},
    "[default]\naws_access_key_id = AKCFG\n" .. KEYS
      .. "credential_process = /bin/echo {\"Version\":1,\"AccessKeyId\":\"AKPROC\",\"SecretAccessKey\":\"s\"}\n" },
  { "AWS_DEFAULT_PROFILE before AWS_PROFILE", { AWS_PROFILE = "a", AWS_DEFAULT_PROFILE = "b" }, nil,
    "[a]\naws_access_key_id = AKA\n" .. KEYS .. "[b]\naws_access_key_id = AKB\n" .. KEYS },
  { "AWS_SECURITY_TOKEN read before AWS_SESSION_TOKEN",
    { AWS_ACCESS_KEY_ID = "A", AWS_SECRET_ACCESS_KEY = "s", AWS_SESSION_TOKEN = "new", AWS_SECURITY_TOKEN = "old" } },
  { "files elsewhere", { AWS_SHARED_CREDENTIALS_FILE = "@/creds2", AWS_CONFIG_FILE = "@/cfg2" } },
  { "nothing anywhere", {} },
  { "a missing named profile", { AWS_PROFILE = "ghost" }, "[default]\nregion = us-east-1\n" },
  { "half a key pair in the credentials file", {}, nil, "[default]\naws_access_key_id = AKHALF\n" },
}

describe("parity with botocore's credential chain", function()
  if not have_botocore then
    pending("/usr/bin/python3 with botocore is not installed")
    return
  end
  after_each(function() envh.cleanup() end)

  for _, sc in ipairs(scenarios) do
    it(sc[1], function()
      local e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" }
      for k, v in pairs(sc[2]) do e:set(k, (v:gsub("^@", e.home))) end
      if sc[3] then e:write(".aws/config", sc[3]) end
      if sc[4] then e:write(".aws/credentials", sc[4]) end
      if sc[1] == "files elsewhere" then
        e:write("creds2", "[default]\naws_access_key_id = AKELSE\n" .. KEYS)
        e:write("cfg2", "[default]\nregion = eu-west-1\n")
      end
      local b = botocore_view(e, sc[5])
      local i = invite_view(e, sc[5])
      assert.equal(b.ok, i.ok, ("botocore %s, invite %s"):format(cjson.encode(b), cjson.encode(i)))
      if b.ok then
        assert.equal(b.ak, i.ak)
        assert.equal(b.token ~= cjson.null and b.token or nil, i.token)
      end
    end)
  end
end)
