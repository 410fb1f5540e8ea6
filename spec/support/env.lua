-- support.env: environments and temporary HOME directories for the credential/config specs.
--
-- Lua cannot setenv, so invite.config and invite.credentials read the environment through
-- opts.env (a table or getenv function). A spec builds a fake environment per test:
--
--   local envh = require "support.env"
--   local e = envh.new{ AWS_PROFILE = "x" }   -- starts with only HOME = a fresh temp dir
--   e:set("AWS_REGION", "eu-west-1"); e:unset("AWS_PROFILE")
--   config.region{ env = e.vars }
--   e:write(".aws/config", "[default]\nregion = us-east-1\n")   -- file under its HOME
--   envh.cleanup()                              -- after_each: removes every temp dir made
--
-- Nothing from the real process environment leaks in (a developer's AWS_PROFILE cannot change a
-- test), and since each test gets a new table there is nothing to restore; `e:restore()` puts
-- back the values the environment had when it was created, for tests that change it midway.
local interp = require "support.interp"
local _M = {}

local made = {}

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function _M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(0 == interp.execute("mkdir -p " .. shq(p)))
  made[#made + 1] = p
  return p
end

function _M.write(path, content, mode)
  local dir = path:match("^(.*)/[^/]*$")
  if dir then os.execute("mkdir -p " .. shq(dir)) end
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  if mode then os.execute(("chmod %s %s"):format(mode, shq(path))) end
  return path
end

function _M.cleanup()
  for i = #made, 1, -1 do
    os.execute("rm -rf " .. shq(made[i]))
    made[i] = nil
  end
end

local env_mt = {}
env_mt.__index = env_mt

function env_mt:set(name, value) self.vars[name] = value; return self end
function env_mt:unset(name) self.vars[name] = nil; return self end
function env_mt:getenv() return function(n) return self.vars[n] end end

function env_mt:restore()
  for k in pairs(self.vars) do self.vars[k] = nil end
  for k, v in pairs(self.initial) do self.vars[k] = v end
end

-- Writes a file relative to this environment's HOME; returns its absolute path.
function env_mt:write(rel, content, mode)
  return _M.write(self.home .. "/" .. rel, content, mode)
end

function env_mt:path(rel) return self.home .. "/" .. rel end

function _M.new(vars)
  local home = _M.tmpdir()
  local e = setmetatable({ home = home, vars = { HOME = home } }, env_mt)
  for k, v in pairs(vars or {}) do e.vars[k] = v end
  e.initial = {}
  for k, v in pairs(e.vars) do e.initial[k] = v end
  return e
end

return _M
