--- invite.native: loads invite.core, the C core (SigV4 signing, the libcurl transport, clocks),
-- and says in words why when it cannot. `require "invite.native"` returns the core.
--
-- A core compiled for another Lua usually fails inside dlopen with a bare
-- "undefined symbol: lua_rotate". This module then finds the file that failed, reads the Lua
-- it was built for (core.c embeds "invite.core built for Lua 5.4"), and raises an error naming
-- both Lua versions and how to build the right core. Lua 5.1 and LuaJIT share one C API, so a
-- core built for either loads in both.
-- @module invite.native
local type, tostring, error, pcall, require = type, tostring, error, pcall, require

local MARKER = "invite.core built for "
local READ_MAX = 64 * 1024 * 1024 -- a core is well under 2 MB even with debug information

-- this Lua: its C API ("Lua 5.4"; LuaJIT's is "Lua 5.1"), a name for people, and its build
-- directory (build/<dir>/invite/core.so) and luarocks --lua-version
local function this_lua()
  local jit = rawget(_G, "jit")
  if jit then return "Lua 5.1", tostring(jit.version or "LuaJIT") .. " (the Lua 5.1 C API)", "luajit", "5.1" end
  local v = _VERSION:match("%d+%.%d+") or "?"
  return _VERSION, _VERSION, v, v
end

-- the "Lua 5.x" a core file says it was built for, or nil
local function built_for(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read(READ_MAX) or ""
  f:close()
  return data:match(MARKER .. "(Lua %d+%.%d+)")
end

local function how_to_build(dir, rocks)
  return ("build the core for this Lua: `make build/%s/invite/core.so` in a source checkout (bin/invite "
    .. "finds it there), or `luarocks --lua-version %s make`"):format(dir, rocks)
end

local api, name, dir, rocks = this_lua()
local ok, core = pcall(require, "invite.core")
if ok then
  if type(core) == "table" and core.lua_version and core.lua_version ~= api then
    error(("invite: the C core invite.core was built for %s, but this is %s: %s")
      :format(core.lua_version, name, how_to_build(dir, rocks)), 0)
  end
  local version = require "invite.version"
  if type(core) == "table" and core._VERSION ~= version then
    error(("invite: the C core invite.core is version %s, but the Lua modules are %s (a stale build): %s")
      :format(tostring(core._VERSION), version, how_to_build(dir, rocks)), 0)
  end
  return core
end
local path = require("invite.util").searchpath("invite.core", package.cpath)
local built = path and built_for(path)
if built and built ~= api then
  error(("invite: the C core %s was built for %s, but this is %s: %s")
    :format(path, built, name, how_to_build(dir, rocks)), 0)
end
error(("invite: cannot load the C core invite.core (%s): %s"):format(tostring(core), how_to_build(dir, rocks)), 0)
