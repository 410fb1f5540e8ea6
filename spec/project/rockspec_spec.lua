-- The four rockspecs: the library (invite-scm-1, the release invite-0.1.0-1) and the simulator
-- (invite-sim-scm-1, invite-sim-0.1.0-1). All build with the Makefile (build.type = "make": the
-- library's invite.core compiled from src/*.c into build/, never where package.cpath's ./?.so finds
-- it) and install their Lua modules with a Makefile target (install_target, LUADIR), so no rockspec
-- lists modules. Every file under lua/ must be installed by exactly one of the two rocks under its
-- module name, the core and the CLI by the library rock; the simulator, and luasocket, by invite-sim
-- only. A release must agree with its scm rockspec on everything but the version and the source tag.
local LIBRARY = { "invite-scm-1.rockspec", "invite-0.1.0-1.rockspec" }
local SIM = { "invite-sim-scm-1.rockspec", "invite-sim-0.1.0-1.rockspec" }
local ROCKSPECS = { LIBRARY[1], LIBRARY[2], SIM[1], SIM[2] }

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

--- Output and exit code of a shell command (stderr included).
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo rc=$?"))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return out:gsub("rc=%d+%s*$", ""), rc
end

local function mktemp_dir()
  local out, rc = sh("mktemp -d")
  assert(rc == 0, out)
  return (out:gsub("%s+$", ""))
end

--- The files under a directory (paths relative to it, sorted).
local function files_under(dir)
  local files = {}
  local p = assert(io.popen("cd '" .. dir .. "' && find . -type f | sed 's|^\\./||' | sort"))
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  return files
end

--- Runs the rockspec's install pass the way luarocks does (make <install_target> VAR=value..., with
-- LUADIR a scratch directory, and PREFIX, the rock's own directory, another inside it) and returns
-- the files it installed under LUADIR (sorted), the directory, make's output and the files under
-- PREFIX (the rock's data: the manual page and the examples). The caller removes the directory.
local function install_lua(spec)
  local dir = mktemp_dir()
  local prefix = dir .. ".prefix"
  local build = spec.build
  local cmd = "make -s " .. build.install_target
  for k, v in pairs(build.install_variables) do
    cmd = cmd .. " " .. k .. "='" .. (v == "$(LUADIR)" and dir or v == "$(PREFIX)" and prefix or v) .. "'"
  end
  local out, rc = sh(cmd)
  assert(rc == 0, cmd .. ": " .. out)
  local data = {}
  if os.rename(prefix, prefix) then
    data = files_under(prefix)
    os.execute("rm -rf '" .. prefix .. "'")
  end
  return files_under(dir), dir, out, data
end

--- The module a file under a LUADIR (or under lua/) is found as: invite/sim/init.lua -> invite.sim.
local function module_of(rel)
  return (rel:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", "."))
end

--- The modules a Lua file requires by name (require "x", require("x"), pcall(require, "x")); a
-- name built at run time ("invite.cli." .. name) is left out.
local function requires(path)
  local text, found = read(path), {}
  local function add(name) if not name:find("%.$") then found[#found + 1] = name end end
  for name in text:gmatch("require%s*%(?%s*[\"']([%w_.]+)[\"']") do add(name) end
  for name in text:gmatch("pcall%(%s*require%s*,%s*[\"']([%w_.]+)[\"']") do add(name) end
  return found
end

local function set_of(list)
  local t = {}
  for _, v in ipairs(list) do t[v] = true end
  return t
end

for _, path in ipairs(ROCKSPECS) do
  describe(path, function()
    it("installs its Lua modules with a phony Makefile target into the rock's LUADIR, listing none itself", function()
      local spec = load_rockspec(path)
      local build = spec.build
      assert.are.equal("make", build.type)
      assert.is_nil(build.modules, "build.modules is for the builtin type")
      assert.is_nil(build.install and build.install.lua, "the Makefile installs the Lua modules, not build.install.lua")
      assert.is_not.equal(false, build.install_pass)
      assert.is_string(build.install_target)
      assert.is_not_nil(make_recipe(build.install_target), "Makefile has no target " .. build.install_target)
      assert.is_true(is_phony(build.install_target), build.install_target .. " must be .PHONY")
      if spec.package == "invite" then
        assert.are.same({ LUADIR = "$(LUADIR)", PREFIX = "$(PREFIX)" }, build.install_variables)
      else
        assert.are.same({ LUADIR = "$(LUADIR)" }, build.install_variables)
      end

      local files, dir = install_lua(spec)
      finally(function() os.execute("rm -rf '" .. dir .. "'") end)
      assert.is_true(#files > 0, path .. " installs no Lua module")
      for _, rel in ipairs(files) do
        assert.matches("%.lua$", rel)
        -- byte for byte the file of lua/ at the same path: the module name is unchanged
        local src = io.open("lua/" .. rel, "rb")
        assert.is_not_nil(src, path .. " installs " .. rel .. ", which is no file under lua/")
        if src then
          local want = src:read("*a")
          src:close()
          assert.are.equal(want, read(dir .. "/" .. rel), rel .. " differs from lua/" .. rel)
        end
      end
    end)
  end)
end

-- Each pair: the library rockspec and the simulator rockspec of one version.
for i, lib_path in ipairs(LIBRARY) do
  local sim_path = SIM[i]
  describe(lib_path .. " and " .. sim_path, function()
    local lib, sim = load_rockspec(lib_path), load_rockspec(sim_path)

    it("install every file under lua/ exactly once between them, under its module name; "
       .. "invite-sim has lua/invite/sim/ and the `invite sim` command's module", function()
      local lib_files, lib_dir = install_lua(lib)
      local sim_files, sim_dir = install_lua(sim)
      finally(function() os.execute("rm -rf '" .. lib_dir .. "' '" .. sim_dir .. "'") end)
      local in_lib, in_sim = set_of(lib_files), set_of(sim_files)
      local all = lua_files()
      assert.is_true(#all > 0)
      for _, f in ipairs(all) do
        local rel = f:gsub("^lua/", "")
        local n = (in_lib[rel] and 1 or 0) + (in_sim[rel] and 1 or 0)
        assert.are.equal(1, n, f .. " (module " .. module_of(rel) .. ") is installed by " .. n
                               .. " of " .. lib_path .. " and " .. sim_path)
      end
      assert.are.equal(#all, #lib_files + #sim_files)
      for _, rel in ipairs(sim_files) do
        assert.is_truthy(rel:find("^invite/sim/[%w_]+%.lua$") or rel == "invite/cli/sim.lua",
                         sim_path .. " installs " .. rel .. ", which is not the simulator's")
      end
      for _, f in ipairs(all) do
        local rel = f:gsub("^lua/", "")
        if rel:find("^invite/sim/") or rel == "invite/cli/sim.lua" then
          assert.is_true(in_sim[rel], rel .. " belongs to " .. sim_path)
        end
      end
      for _, rel in ipairs{ "invite/init.lua", "invite/cli.lua", "invite/util.lua", "invite/native.lua" } do
        assert.is_true(in_lib[rel], lib_path .. " must install " .. rel)
      end
    end)

    it("the library has no luasocket and never requires the simulator; invite-sim needs nothing "
       .. "but its own modules, the library's and its dependencies", function()
      assert.are.same({ "lua >= 5.1", "lua-cjson >= 2.1.0", "argparse >= 0.7" }, lib.dependencies)
      assert.are.same({ "lua >= 5.1", "invite == " .. lib.version:gsub("%-%d+$", ""), "lua-cjson >= 2.1.0",
                        "luasocket >= 3.0" }, sim.dependencies)
      local lib_files, lib_dir = install_lua(lib)
      local sim_files, sim_dir = install_lua(sim)
      finally(function() os.execute("rm -rf '" .. lib_dir .. "' '" .. sim_dir .. "'") end)
      local lib_mods, sim_mods = {}, {}
      for _, rel in ipairs(lib_files) do lib_mods[module_of(rel)] = true end
      for _, rel in ipairs(sim_files) do sim_mods[module_of(rel)] = true end
      for _, rel in ipairs(lib_files) do
        for _, m in ipairs(requires("lua/" .. rel)) do
          assert.is_falsy(m == "socket" or m == "mime" or m:find("^socket%.") or m == "ssl",
                          rel .. " requires " .. m .. " (luasocket/luasec are invite-sim's)")
          assert.is_falsy(sim_mods[m], rel .. " requires " .. m .. ", which only invite-sim installs")
          if m:find("^invite") and m ~= "invite.core" then
            assert.is_true(lib_mods[m], rel .. " requires " .. m .. ", which " .. lib_path .. " does not install")
          end
        end
      end
      for _, rel in ipairs(sim_files) do
        for _, m in ipairs(requires("lua/" .. rel)) do
          if m:find("^invite") and m ~= "invite.core" then
            assert.is_true(lib_mods[m] or sim_mods[m], rel .. " requires " .. m .. ", installed by neither rock")
          end
        end
      end
    end)

    it("the library installs the core and the CLI; invite-sim builds nothing and has no command of its own", function()
      assert.are.same({ invite = "bin/invite" }, lib.build.install.bin)
      assert.are.equal("invite-sim", sim.package)
      assert.are.equal(lib.version, sim.version)
      assert.are.same(lib.source, sim.source)
      assert.are.equal(lib.description.license, sim.description.license)
      assert.are.equal(lib.description.homepage, sim.description.homepage)
      assert.is_false(sim.build.build_pass)
      assert.is_nil(sim.build.install)
      assert.is_nil(sim.external_dependencies)
    end)
  end)
end

for _, path in ipairs(LIBRARY) do
  describe(path, function()
    it("installs into the rock's directory (PREFIX) the manual page, the example policies, the demo fixture "
       .. "and the scheduler examples, byte for byte; invite-sim installs none", function()
      local spec = load_rockspec(path)
      local prefix = mktemp_dir()
      local dir = mktemp_dir()
      finally(function() os.execute("rm -rf '" .. dir .. "' '" .. prefix .. "'") end)
      local out, rc = sh("make -s " .. spec.build.install_target .. " LUADIR='" .. dir .. "' PREFIX='" .. prefix .. "'")
      assert.are.equal(0, rc, out)
      local want = { ["man/man1/invite.1"] = "docs/invite.1",
                     ["examples/fixtures/org.json"] = "examples/fixtures/org.json" }
      local p = assert(io.popen("ls examples/*.lua examples/deploy/*"))
      for line in p:lines() do want[line] = line end
      p:close()
      assert.is_truthy(want["examples/policy.lua"] and want["examples/deploy/invite.cron"])
      local names = {}
      for name in pairs(want) do names[#names + 1] = name end
      table.sort(names)
      assert.are.same(names, files_under(prefix))
      for _, name in ipairs(names) do
        assert.are.equal(read(want[name]), read(prefix .. "/" .. name), name .. " differs from " .. want[name])
      end
      local _, sdir, _, sdata = install_lua(load_rockspec((path:gsub("^invite%-", "invite-sim-"))))
      os.execute("rm -rf '" .. sdir .. "'")
      assert.are.same({}, sdata)
    end)

    it("builds invite.core with a phony Makefile target from every C source into build/, installs the CLI", function()
      local spec = load_rockspec(path)
      local build = spec.build
      assert.are.equal("make", build.type)
      assert.is_string(build.build_target)
      assert.is_not.equal("", build.build_target)
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

-- The CLI from the library's modules alone, then with invite-sim's beside them (each installed by
-- its rock's Makefile target into a scratch LUADIR), run under the interpreter running this spec.
describe("invite sim", function()
  local lib_dir, sim_dir
  setup(function()
    local _
    _, lib_dir = install_lua(load_rockspec(LIBRARY[1]))
    _, sim_dir = install_lua(load_rockspec(SIM[1]))
  end)
  teardown(function() os.execute("rm -rf '" .. lib_dir .. "' '" .. sim_dir .. "'") end)

  -- stdout, stderr and the exit code of `invite <args>` with package.path = the given LUADIRs, then
  -- the interpreter's default (Debian's argparse, cjson, socket), run outside the checkout.
  local function cli(dirs, args)
    local path = {}
    for _, d in ipairs(dirs) do path[#path + 1] = d .. "/?.lua;" .. d .. "/?/init.lua" end
    local quoted = {}
    for _, a in ipairs(args) do quoted[#quoted + 1] = string.format("%q", a) end
    local script = dirs[1] .. "/run.lua"
    local f = assert(io.open(script, "wb"))
    f:write("package.path = ", string.format("%q", table.concat(path, ";") .. ";"), " .. package.path\n",
            "io.stdout:setvbuf('no')\n",
            "os.exit(require('invite.cli').main{", table.concat(quoted, ", "), "})\n")
    f:close()
    local out = os.tmpname()
    local rc = interp.execute("cd '" .. dirs[1] .. "' && env -u LUA_PATH -u LUA_PATH_5_1 -u LUA_PATH_5_2 "
      .. "-u LUA_PATH_5_3 -u LUA_PATH_5_4 -u LUA_INIT " .. interp.LUA .. " run.lua >'" .. out .. "' 2>'"
      .. out .. ".err'")
    os.remove(script)
    local stdout, stderr = read(out), read(out .. ".err")
    os.remove(out)
    os.remove(out .. ".err")
    return stdout, stderr, rc
  end

  it("without invite-sim: exits 2 and says to install invite-sim; the other commands are unaffected", function()
    for _, args in ipairs{ { "sim", "--help" }, { "sim", "--fixtures", "examples/fixtures/org.json" }, { "sim" } } do
      local stdout, stderr, rc = cli({ lib_dir }, args)
      assert.are.equal(2, rc, table.concat(args, " ") .. ": " .. stderr)
      assert.are.equal("", stdout)
      assert.are.equal("invite: `invite sim` needs the invite-sim rock, which is not installed beside invite: "
        .. "install it into the same tree (from a source checkout: luarocks make invite-sim-scm-1.rockspec)\n", stderr)
    end
    local stdout, _, rc = cli({ lib_dir }, { "--help" })
    assert.are.equal(0, rc)
    assert.matches("\n%s+sim%s+Run the local AWS simulator", stdout)
    local dout, derr, drc = cli({ lib_dir }, { "decline", "--help" })
    assert.are.equal(0, drc, derr)
    assert.matches("^Usage: invite decline", dout)
  end)

  it("with invite-sim beside it: invite sim runs (its help, its own usage errors)", function()
    local stdout, stderr, rc = cli({ lib_dir, sim_dir }, { "sim", "--help" })
    assert.are.equal(0, rc, stderr)
    assert.matches("^Usage: invite sim ", stdout)
    assert.matches("%-%-fixtures <file>", stdout)
    local _, err2, rc2 = cli({ lib_dir, sim_dir }, { "sim", "--fixtures", "x.json", "--host", "0.0.0.0" })
    assert.are.equal(2, rc2)
    assert.matches("refusing to listen on 0.0.0.0", err2)
  end)
end)

describe("each release rockspec against its scm rockspec", function()
  for _, pair in ipairs{ { LIBRARY[1], LIBRARY[2] }, { SIM[1], SIM[2] } } do
    local scm = load_rockspec(pair[1])
    local rel = load_rockspec(pair[2])

    it(pair[2] .. " is version 0.1.0-1 from the git tag v0.1.0 of the same repository", function()
      assert.are.equal("scm-1", scm.version)
      assert.are.equal("0.1.0-1", rel.version)
      assert.are.equal(scm.package, rel.package)
      assert.are.equal(scm.source.url, rel.source.url)
      -- A public repository, not a path of one machine (git+file:///...).
      assert.matches("^git%+https://", scm.source.url)
      assert.is_nil(scm.source.tag)
      assert.are.equal("v" .. rel.version:gsub("%-%d+$", ""), rel.source.tag)
    end)

    it(pair[2] .. " releases the version lua/invite/version.lua says (the one place it is written)", function()
      local version = dofile("lua/invite/version.lua")
      assert.are.equal(version .. "-1", rel.version)
      assert.are.equal(pair[2], rel.package .. "-" .. rel.version .. ".rockspec")
    end)

    it(pair[2] .. " has the same build, dependencies (but its own version of invite) and description", function()
      for _, key in ipairs{ "rockspec_format", "package", "description", "external_dependencies", "build" } do
        assert.are.same(scm[key], rel[key], key .. " differs between " .. pair[1] .. " and " .. pair[2])
      end
      local deps = {}
      for j, d in ipairs(scm.dependencies) do
        deps[j] = d == "invite == scm" and "invite == " .. rel.version:gsub("%-%d+$", "") or d
      end
      assert.are.same(deps, rel.dependencies)
      local keys = {}
      for k in pairs(rel) do keys[#keys + 1] = k end
      table.sort(keys)
      local want = { "build", "dependencies", "description", "external_dependencies", "package",
                     "rockspec_format", "source", "version" }
      if scm.external_dependencies == nil then table.remove(want, 4) end
      assert.are.same(want, keys)
    end)
  end

  it("all four pass luarocks lint", function()
    for _, path in ipairs(ROCKSPECS) do
      local out, rc = sh("LUAROCKS_CONFIG=luarocks-config.lua luarocks --lua-version 5.4 lint " .. path)
      assert.are.equal(0, rc, path .. ": " .. out)
    end
  end)
end)
