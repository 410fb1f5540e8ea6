-- invite.native loads the C core built for the running Lua, and refuses one built for another
-- Lua with an error naming both and how to build the right one (never a bare "undefined
-- symbol: lua_rotate"). Every interpreter the README names is tried against every build of
-- the core, in child processes; Lua 5.1 and LuaJIT share one C API, so their cores are
-- interchangeable.
local interp = require "support.interp"
local sim = require "support.sim"

local shq = sim.shell_quote
local ROOT do
  local p = assert(io.popen("cd " .. shq(sim.ROOT) .. " && pwd"))
  ROOT = p:read("*l")
  p:close()
end

local INTERPRETERS = {
  { lua = "lua5.1", api = "Lua 5.1", build = "5.1", name = "Lua 5.1" },
  { lua = "lua5.2", api = "Lua 5.2", build = "5.2", name = "Lua 5.2" },
  { lua = "lua5.3", api = "Lua 5.3", build = "5.3", name = "Lua 5.3" },
  { lua = "lua5.4", api = "Lua 5.4", build = "5.4", name = "Lua 5.4" },
  { lua = "luajit", api = "Lua 5.1", build = "luajit", name = "LuaJIT", rocks = "5.1" },
}

local have = interp.have
local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function capture(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo rc=$?"))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return rc, out:gsub("rc=%d+\n$", "")
end

-- loads invite.native with only `core_dir` on package.cpath and signs AWS's get-vanilla vector
local CHILD = [[
local root, cpath = ...
package.path = root .. "/lua/?.lua;" .. package.path
package.cpath = cpath
local core = require "invite.native"
local s = require("invite.sigv4").sign{ method = "GET", path = "/", headers = { { "Host", "example.amazonaws.com" } },
  access_key = "AKIDEXAMPLE", secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region = "us-east-1",
  service = "service", time = 1440938160 }
io.write(core.lua_version, " ", s.signature, "\n")
]]

describe("invite.native", function()
  local script
  setup(function()
    script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(CHILD)
    f:close()
  end)
  teardown(function() os.remove(script) end)

  for _, i in ipairs(INTERPRETERS) do
    for _, b in ipairs(INTERPRETERS) do
      local so = ROOT .. "/build/" .. b.build .. "/invite/core.so"
      it(i.lua .. " with the core built for " .. b.build, function()
        if not have(i.lua) then return pending(i.lua .. " is not installed") end
        if not exists(so) then return pending("needs " .. so .. " (make build-all)") end
        local rc, out = capture("env -u LD_PRELOAD " .. i.lua .. " " .. shq(script) .. " " .. shq(ROOT) .. " "
          .. shq(ROOT .. "/build/" .. b.build .. "/?.so"))
        if i.api == b.api then
          assert.are.equal(0, rc, out)
          assert.are.equal(b.api .. " 5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n", out)
        else
          assert.are_not.equal(0, rc, out)
          assert.truthy(out:find("the C core " .. so .. " was built for " .. b.api .. ", but this is " .. i.name,
            1, true), out)
          assert.truthy(out:find("`make build/" .. i.build .. "/invite/core.so`", 1, true), out)
          assert.truthy(out:find("`luarocks --lua-version " .. (i.rocks or i.build) .. " make`", 1, true), out)
          assert.is_nil(out:find("undefined symbol", 1, true), out)
        end
      end)
    end
  end

  it("refuses a core of another version than the Lua modules (a stale build)", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(0 == interp.execute("mkdir -p " .. shq(dir .. "/invite")))
    local inc = ({ ["5.1"] = "lua5.1", ["5.2"] = "lua5.2", ["5.3"] = "lua5.3", ["5.4"] = "lua5.4",
      luajit = "luajit-2.1" })[interp.BUILD]
    local cc = "cd " .. shq(ROOT) .. " && cc -std=c99 -fPIC -shared -D_POSIX_C_SOURCE=200809L "
      .. "-DINVITE_VERSION='\"0.0.9-stale\"' -I/usr/include/" .. inc .. " -o " .. shq(dir .. "/invite/core.so")
      .. " src/*.c -lcrypto -lcurl"
    assert(0 == interp.execute(cc), cc)
    local rc, out = capture("env -u LD_PRELOAD " .. interp.LUA .. " " .. shq(script) .. " " .. shq(ROOT) .. " "
      .. shq(dir .. "/?.so"))
    interp.execute("rm -rf " .. shq(dir))
    assert.are_not.equal(0, rc, out)
    assert.truthy(out:find("the C core invite.core is version 0.0.9-stale, but the Lua modules are "
      .. dofile(ROOT .. "/lua/invite/version.lua") .. " (a stale build)", 1, true), out)
  end)

  it("bin/invite loads its own build, not a core for another Lua in the working directory", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(0 == interp.execute("mkdir -p " .. shq(dir .. "/invite")))
    local other = interp.BUILD == "5.4" and "5.3" or "5.4"
    assert(0 == interp.execute("cp " .. shq(ROOT .. "/build/" .. other .. "/invite/core.so") .. " "
      .. shq(dir .. "/invite/core.so")))
    local rc, out = capture("cd " .. shq(dir) .. " && env -u LD_PRELOAD -u LUA_CPATH -u LUA_CPATH_5_2 "
      .. "-u LUA_CPATH_5_3 -u LUA_CPATH_5_4 AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=x "
      .. "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1 "
      .. interp.LUA .. " " .. shq(ROOT .. "/bin/invite")
      .. " list --services guardduty --regions us-east-1 --endpoint-url http://127.0.0.1:9")
    interp.execute("rm -rf " .. shq(dir))
    -- the core loaded and its libcurl transport tried the (closed) port
    assert.are.equal(1, rc, out)
    assert.truthy(out:find("(curl 7)", 1, true), out)
    assert.is_nil(out:find("was built for", 1, true), out)
  end)
end)
