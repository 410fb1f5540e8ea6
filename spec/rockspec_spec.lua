-- Both rockspecs (the development invite-scm-1 and the release invite-0.1.0-1) build with the
-- Makefile (build.type = "make": invite.core compiled from src/*.c into build/, never where
-- package.cpath's ./?.so finds it), must install every Lua module in lua/, the core and the CLI
-- under the right names (build.install), and must agree on everything but the version and the
-- source tag.
local ROCKSPECS = { "invite-scm-1.rockspec", "invite-0.1.0-1.rockspec" }

local interp = require "support.interp"

local function load_rockspec(path)
  local env = {}
  local f = assert(io.open(path, "rb"))
  local chunk = assert(interp.load(f:read("*a"), "@" .. path, env))
  f:close()
  chunk()
  return env
end

local function lua_files()
  local files = {}
  local p = assert(io.popen("find lua -name '*.lua' | sort"))
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  return files
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

--- The recipe of a Makefile target: its rule line and the tab-indented lines after it, with the
-- backslash continuations joined.
local function make_recipe(target)
  local lines, found = {}, false
  for line in (read("Makefile") .. "\n"):gmatch("([^\n]*)\n") do
    if found then
      if not line:match("^\t") then break end
      lines[#lines + 1] = line
    elseif line:match("^" .. target:gsub("%-", "%%-") .. "%s*:") then
      found = true
      lines[#lines + 1] = line
    end
  end
  if not found then return nil end
  return (table.concat(lines, "\n"):gsub("\\\n", " "))
end

--- Whether the Makefile declares target .PHONY (on any .PHONY line).
local function is_phony(target)
  for deps in read("Makefile"):gmatch("\n%.PHONY%s*:([^\n]*)") do
    for t in deps:gmatch("%S+") do if t == target then return true end end
  end
  return false
end

for _, path in ipairs(ROCKSPECS) do
  describe(path, function()
    it("installs every module under lua/ with its module name (build.install.lua), only existing files", function()
      local spec = load_rockspec(path)
      assert.is_nil(spec.build.modules, "build.modules is for the builtin type: list the modules in build.install.lua")
      local modules = spec.build.install.lua
      local files = lua_files()
      assert.is_true(#files > 0)
      for _, f in ipairs(files) do
        local name = f:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
        assert.are.equal(f, modules[name], "module " .. name .. " (" .. f .. ") missing from " .. path)
      end
      for name, src in pairs(modules) do
        assert.are.equal("string", type(src), name)
        local expect = "lua/" .. name:gsub("%.", "/")
        assert.is_true(src == expect .. ".lua" or src == expect .. "/init.lua",
                       path .. ": " .. name .. " -> " .. src .. " is not the file of module " .. name)
        local fh = io.open(src, "r")
        assert.is_not_nil(fh, path .. " lists " .. name .. " -> " .. src .. ", which does not exist")
        if fh then fh:close() end
      end
    end)

    it("builds invite.core with a phony Makefile target from every C source into build/, installs the CLI", function()
      local spec = load_rockspec(path)
      local build = spec.build
      assert.are.equal("make", build.type)
      assert.is_string(build.build_target)
      assert.is_not.equal("", build.build_target)
      assert.is_false(build.install_pass)
      for _, var in ipairs{ "CFLAGS", "LIBFLAG", "LUA_INCDIR", "OPENSSL_INCDIR", "OPENSSL_LIBDIR",
                            "CURL_INCDIR", "CURL_LIBDIR" } do
        assert.are.equal("$(" .. var .. ")", build.build_variables[var], "build_variables." .. var)
      end

      -- The core lands under build/ (not in the checkout root or src/, where ./?.so finds it), as
      -- invite/core.so so that luarocks installs it as lib/lua/5.x/invite/core.so.
      local lib = build.install.lib
      local libs = {}
      for name in pairs(lib) do libs[#libs + 1] = name end
      assert.are.same({ "invite.core" }, libs)
      local core = lib["invite.core"]
      assert.matches("^build/.+/invite/core%.so$", core)

      local recipe = make_recipe(build.build_target)
      assert.is_not_nil(recipe, "Makefile has no target " .. build.build_target)
      assert.is_true(is_phony(build.build_target), build.build_target .. " must be .PHONY (always rebuilt)")
      local p = assert(io.popen("ls src/*.c"))
      for line in p:lines() do
        assert.is_truthy(recipe:find(line, 1, true),
                         line .. " missing from the Makefile's " .. build.build_target .. " target")
      end
      p:close()

      -- What luarocks runs (make <target> VAR=value ..., values it knows), dry: every variable
      -- reaches the compiler, with the project's flags, and every output is under build/.
      local vars = { CC = "cc", CFLAGS = "-DROCK_CFLAGS", LIBFLAG = "-shared -DROCK_LIBFLAG",
                     LUA_INCDIR = "/rock/lua/include", OPENSSL_INCDIR = "/rock/ssl/include",
                     OPENSSL_LIBDIR = "/rock/ssl/lib", CURL_INCDIR = "/rock/curl/include",
                     CURL_LIBDIR = "/rock/curl/lib" }
      local cmd = "make -n -s " .. build.build_target
      for k, v in pairs(vars) do cmd = cmd .. " " .. k .. "='" .. v .. "'" end
      local mp = assert(io.popen(cmd .. " 2>&1; echo rc=$?"))
      local dry = mp:read("*a")
      mp:close()
      assert.matches("rc=0%s*$", dry, cmd .. ": " .. dry)
      for _, want in ipairs{ "-DROCK_CFLAGS", "-DROCK_LIBFLAG", "-I/rock/lua/include", "-I/rock/ssl/include",
                             "-L/rock/ssl/lib", "-I/rock/curl/include", "-L/rock/curl/lib", "-lcrypto", "-lcurl",
                             "-D_POSIX_C_SOURCE=200809L", "-std=c99", "-Wall", "-Wextra", "-Werror",
                             "-o " .. core } do
        assert.is_truthy(dry:find(want, 1, true), build.build_target .. " does not pass " .. want .. ":\n" .. dry)
      end
      for out in dry:gmatch("%-o%s+(%S+)") do
        assert.matches("^build/", out, build.build_target .. " writes " .. out .. " outside build/")
      end

      assert.are.same({ invite = "bin/invite" }, build.install.bin)
    end)
  end)
end

describe("invite-0.1.0-1.rockspec against invite-scm-1.rockspec", function()
  local scm = load_rockspec("invite-scm-1.rockspec")
  local rel = load_rockspec("invite-0.1.0-1.rockspec")

  it("is version 0.1.0-1 from the git tag v0.1.0 of the same repository", function()
    assert.are.equal("scm-1", scm.version)
    assert.are.equal("0.1.0-1", rel.version)
    assert.are.equal("invite", rel.package)
    assert.are.equal(scm.source.url, rel.source.url)
    -- A public repository, not a path of one machine (git+file:///...).
    assert.matches("^git%+https://", scm.source.url)
    assert.is_nil(scm.source.tag)
    assert.are.equal("v" .. rel.version:gsub("%-%d+$", ""), rel.source.tag)
  end)

  it("has the same modules, build, dependencies and description", function()
    for _, key in ipairs{ "rockspec_format", "package", "description", "dependencies",
                          "external_dependencies", "build" } do
      assert.are.same(scm[key], rel[key], key .. " differs between the two rockspecs")
    end
    local keys = {}
    for k in pairs(rel) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "build", "dependencies", "description", "external_dependencies", "package",
                      "rockspec_format", "source", "version" }, keys)
  end)

  it("passes luarocks lint (both)", function()
    for _, path in ipairs(ROCKSPECS) do
      local p = assert(io.popen("LUAROCKS_CONFIG=luarocks-config.lua luarocks --lua-version 5.4 lint "
                                .. path .. " 2>&1; echo rc=$?"))
      local out = p:read("*a")
      p:close()
      assert.matches("rc=0%s*$", out, path .. ": " .. out)
    end
  end)
end)
