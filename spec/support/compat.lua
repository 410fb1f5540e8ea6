-- support.compat: drive invite sim with clients nobody here wrote, Debian's boto3 (/usr/bin/python3
-- through spec/support/sim_boto3.py) and AWS CLI v2 (/usr/bin/aws), with no AWS configuration of
-- the machine's leaking in.
--
--   local compat = require "support.compat"
--   local res = compat.boto3(s, "prod", "us-east-1", { { service = "sts", op = "get_caller_identity" } })
--   -- res[i]: { status, code, message, result, headers, body } (see sim_boto3.py); python = another interpreter
--   local out, err, rc = compat.aws(s, "prod", nil, "sts get-caller-identity", "AWS_MAX_ATTEMPTS=1")
--   -- the decoded JSON output ({} when there is none), or nil, stderr, exit code; a 6th argument names
--   -- another AWS CLI (e.g. python3's v1, `compat.AWS_CLIS`), /usr/bin/aws (v2) by default
--   compat.cleanup()      -- teardown: removes the empty config file the CLI runs with
--   local python, version = compat.python_with("account", "list_regions")
--   -- the first of python3, /usr/bin/python3 whose boto3 client has that operation, and its botocore version
--
-- creds: a table { access_key_id, secret_access_key, session_token? } or a name for sim.credentials.
local cjson = require "cjson"
local sim = require "support.sim"

local _M = {}

_M.PY = sim.ROOT .. "/spec/support/sim_boto3.py"

local function tmpname(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. (suffix or "")
end

local q = sim.shell_quote

--- boto3: runs a list of calls (see sim_boto3.py) and returns the decoded results.
function _M.boto3(s, creds, region, calls, python)
  if type(creds) ~= "table" then creds = sim.credentials(creds) end
  local input = tmpname(".json")
  local f = assert(io.open(input, "w"))
  f:write(cjson.encode{ endpoint = s.endpoint, region = region or "us-east-1", access_key = creds.access_key_id,
    secret_key = creds.secret_access_key, session_token = creds.session_token, calls = calls })
  f:close()
  local p = assert(io.popen("env -u LD_PRELOAD -u AWS_PROFILE -u AWS_CONFIG_FILE -u AWS_SHARED_CREDENTIALS_FILE "
    .. "AWS_EC2_METADATA_DISABLED=true " .. (python or "/usr/bin/python3") .. " " .. q(_M.PY) .. " < " .. q(input)
    .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  os.remove(input)
  local ok, res = pcall(cjson.decode, out)
  assert(ok and type(res) == "table", "boto3 driver failed: " .. out)
  return res
end

local empty -- an empty file for AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE

--- The AWS CLIs here, those present: the first `aws` on PATH when it is not Debian's (here the default
-- python3's, pyenv's v1 with botocore 1.43), then Debian's /usr/bin/aws (v2): { {path, version}... }.
function _M.AWS_CLIS()
  local out, list = {}, {}
  local p0 = io.popen("command -v aws 2>/dev/null")
  local first = p0 and (p0:read("*l") or "") or ""
  if p0 then p0:close() end
  if first ~= "" and first ~= "/usr/bin/aws" and first ~= "/bin/aws" then list[1] = first end
  list[#list + 1] = "/usr/bin/aws"
  for _, cli in ipairs(list) do
    local p = io.popen("env -u LD_PRELOAD " .. q(cli) .. " --version 2>&1")
    local v = p and p:read("*a") or ""
    if p then p:close() end
    local version = v:match("^aws%-cli/(%S+)")
    if version then out[#out + 1] = { path = cli, version = version } end
  end
  return out
end

--- AWS CLI v2 (or `cli`): returns the decoded JSON output (or {} when there is none), or nil, stderr, exit code.
function _M.aws(s, creds, region, args, env, cli)
  if type(creds) ~= "table" then creds = sim.credentials(creds) end
  if not empty then
    empty = tmpname(".cfg")
    local f = assert(io.open(empty, "w"))
    f:close()
  end
  local errfile = tmpname(".err")
  local cmd = { "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_REGION",
    "AWS_CONFIG_FILE=" .. q(empty), "AWS_SHARED_CREDENTIALS_FILE=" .. q(empty), "AWS_EC2_METADATA_DISABLED=true",
    "AWS_ACCESS_KEY_ID=" .. q(creds.access_key_id), "AWS_SECRET_ACCESS_KEY=" .. q(creds.secret_access_key),
    "AWS_DEFAULT_REGION=" .. q(region or "us-east-1"), cli and "AWS_PAGER=" or "", env or "",
    cli and (q(cli) .. " --output json --endpoint-url") or "/usr/bin/aws --no-cli-pager --output json --endpoint-url",
    q(s.endpoint), args, "2>" .. q(errfile),
    "; echo \"rc=$?\"" }
  local p = assert(io.popen(table.concat(cmd, " ")))
  local out = p:read("*a")
  p:close()
  local err = sim.read_file(errfile) or ""
  os.remove(errfile)
  local body, rc = out:match("^(.-)rc=(%d+)%s*$")
  rc = tonumber(rc)
  if rc ~= 0 then return nil, err, rc end
  if body:find("^%s*$") then return {} end
  local ok, res = pcall(cjson.decode, body)
  assert(ok, "aws printed something that is not JSON: " .. body .. err)
  return res
end

--- The first of python3 and /usr/bin/python3 whose boto3 `service` client has the method `op`, and
-- that botocore's version; nil when none has it.
function _M.python_with(service, op)
  for _, python in ipairs{ "python3", "/usr/bin/python3" } do
    local p = io.popen("env -u LD_PRELOAD " .. python .. " -c " .. q("import boto3, botocore; "
      .. "c = boto3.client(" .. ("%q"):format(service) .. ", region_name='us-east-1'); "
      .. "print(botocore.__version__, hasattr(c, " .. ("%q"):format(op) .. "))") .. " 2>/dev/null")
    local out = p and p:read("*a") or ""
    if p then p:close() end
    local version, has = out:match("^(%S+) (%a+)")
    if has == "True" then return python, version end
  end
  return nil
end

--- Removes the empty configuration file (call from a teardown).
function _M.cleanup()
  if empty then os.remove(empty) end
  empty = nil
end

return _M
