-- support.interp: the Lua interpreter running this spec, so that the subprocesses a spec starts
-- (the CLI, the simulator, child scripts) run under the same Lua and load the same build of
-- invite.core as the spec itself. `make check` runs the whole suite under each of lua5.1,
-- lua5.2, lua5.3, lua5.4 and luajit.
--
--   local interp = require "support.interp"
--   interp.LUA      -- "lua5.3" (the command), "luajit" under LuaJIT
--   interp.BUILD    -- "5.3" (the build/ directory of its invite.core), "luajit"
--   interp.CPATH    -- "build/5.3/?.so"
--   interp.execute(cmd)          -- cmd's exit code (os.execute's result differs between Luas)
--   interp.load(text, name, env) -- load() of a string chunk, with an environment, on every Lua
local _M = {}

if rawget(_G, "jit") then
  _M.BUILD, _M.LUA = "luajit", "luajit"
else
  _M.BUILD = assert(_VERSION:match("^Lua (%d+%.%d+)$"), "unknown Lua " .. tostring(_VERSION))
  _M.LUA = "lua" .. _M.BUILD
end
_M.CPATH = "build/" .. _M.BUILD .. "/?.so"

--- os.execute's results as an exit code: Lua 5.2+ give true | nil, "exit" | "signal", n; Lua 5.1
-- and LuaJIT (without its 5.2 extensions) a wait status. A signal gives 128 + its number.
function _M.exit_code(a, how, n)
  if type(a) == "number" then
    if a >= 256 then return math.floor(a / 256) end
    if a > 0 then return 128 + a end
    return 0
  end
  if a == true then return 0 end
  if how == "signal" then return 128 + n end
  return n
end

function _M.execute(cmd) return _M.exit_code(os.execute(cmd)) end

--- True when `cmd` is on PATH.
function _M.have(cmd) return _M.execute("command -v " .. cmd .. " >/dev/null 2>&1") == 0 end

--- load(text, name, "t", env) on Lua 5.2+; loadstring + setfenv on 5.1 and LuaJIT.
function _M.load(text, name, env)
  if setfenv and loadstring then -- luacheck: ignore 113
    local f, err = loadstring(text, name) -- luacheck: ignore 113
    if f and env then setfenv(f, env) end -- luacheck: ignore 113
    return f, err
  end
  if env == nil then return load(text, name) end -- (an explicit nil env would be an empty _ENV)
  return load(text, name, "t", env)
end

return _M
