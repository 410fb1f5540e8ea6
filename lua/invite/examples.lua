-- invite.examples: where the example policies, the demo fixture and the manual page are, with or
-- without a source checkout.
--
--   local examples = require "invite.examples"
--   local where, err = examples.locate()
--   -- where.dir      ".../examples"  (policy.lua, stale.lua, ..., deploy/)
--   -- where.fixture  ".../examples/fixtures/org.json"
--   -- where.man      ".../invite.1" (nil when it is not there)
--   -- where.from     "checkout" | "rock"
--   -- nil, err when neither layout has them (the message says where it looked)
--
-- A checkout has them beside lua/: ROOT/examples/ and ROOT/docs/invite.1. The invite rock installs
-- them in its own directory of the tree (the Makefile's rock-install, PREFIX): TREE/lib/luarocks/
-- rocks-5.x/invite/VERSION/examples/ and .../man/man1/invite.1, where TREE is the tree whose
-- share/lua/5.x/ holds this module. VERSION is the one the tree's manifest says provides this
-- module (its first entry: the deployed one), so that no version is written here.
local _M = {}

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

--- This module's own file, as package.path found it (made a path with a directory part).
local function own_path()
  local src = debug.getinfo(1, "S").source
  if type(src) ~= "string" or src:sub(1, 1) ~= "@" then return nil end
  return src:sub(2)
end

--- A luarocks manifest (a Lua file of assignments) read as a table, with no access to globals.
local function load_manifest(path)
  local text = read(path)
  if not text then return nil end
  local env = {}
  local chunk
  if setfenv and loadstring then -- luacheck: ignore 113
    chunk = loadstring(text, "@" .. path) -- luacheck: ignore 113
    if chunk then setfenv(chunk, env) end -- luacheck: ignore 113
  else
    chunk = load(text, "@" .. path, "t", env)
  end
  if not chunk or not pcall(chunk) then return nil end
  return env
end

--- dir/x/../y -> dir/y (bin/invite's checkout root is bin/..); a ../ after . or .. stays.
local function tidy(path)
  local done
  repeat
    done = true
    path = path:gsub("/([^/]+)/%.%./", function(name)
      if name == "." or name == ".." or not done then return nil end
      done = false
      return "/"
    end)
  until done
  return path
end

local function found(from, dir, man)
  dir, man = tidy(dir), tidy(man)
  return { from = from, dir = dir, fixture = dir .. "/fixtures/org.json", man = exists(man) and man or nil }
end

--- Where the examples are (see the top of the file); `path` is this module's file (for tests).
function _M.locate(path)
  path = path or own_path()
  if not path then return nil, "invite.examples: cannot tell where the invite module was loaded from" end
  if not path:find("^%.?%.?/") then path = "./" .. path end
  local looked = {}

  local root = path:match("^(.*)/lua/invite/examples%.lua$")
  if root then
    local dir = root .. "/examples"
    if exists(dir .. "/fixtures/org.json") then return found("checkout", dir, root .. "/docs/invite.1") end
    looked[#looked + 1] = dir .. "/fixtures/org.json"
  end

  local tree, lv = path:match("^(.*)/share/lua/(%d+%.%d+)/invite/examples%.lua$")
  if tree then
    local rocks = tree .. "/lib/luarocks/rocks-" .. lv
    local manifest = load_manifest(rocks .. "/manifest")
    local provider = manifest and type(manifest.modules) == "table" and manifest.modules["invite.examples"]
    local name_version = type(provider) == "table" and provider[1]
    if type(name_version) == "string" and name_version:find("^invite/") then
      local rock = rocks .. "/" .. name_version
      local dir = rock .. "/examples"
      if exists(dir .. "/fixtures/org.json") then return found("rock", dir, rock .. "/man/man1/invite.1") end
      looked[#looked + 1] = dir .. "/fixtures/org.json"
    else
      looked[#looked + 1] = rocks .. "/manifest (no rock of invite.examples in it)"
    end
  end

  if #looked == 0 then looked[1] = "nothing: " .. path .. " is in neither a checkout's lua/ nor a tree's share/lua/" end
  for i, l in ipairs(looked) do looked[i] = tidy(l) end
  return nil, "the example fixture is not installed: looked at " .. table.concat(looked, ", ")
    .. " (install the invite rock with luarocks, or run from a source checkout)"
end

return _M
