-- Both rockspecs (the development invite-scm-1 and the release invite-0.1.0-1) must install every Lua
-- module in lua/ and the CLI under the right module names, and must agree on everything but the
-- version and the source tag.
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

for _, path in ipairs(ROCKSPECS) do
  describe(path, function()
    it("lists every module under lua/ with its module name, and only existing files", function()
      local spec = load_rockspec(path)
      local modules = spec.build.modules
      local files = lua_files()
      assert.is_true(#files > 0)
      for _, f in ipairs(files) do
        local name = f:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
        assert.are.equal(f, modules[name], "module " .. name .. " (" .. f .. ") missing from " .. path)
      end
      for name, src in pairs(modules) do
        if type(src) == "string" then
          local fh = io.open(src, "r")
          assert.is_not_nil(fh, path .. " lists " .. name .. " -> " .. src .. ", which does not exist")
          if fh then fh:close() end
        end
      end
    end)

    it("builds invite.core from the C sources and installs the CLI", function()
      local spec = load_rockspec(path)
      local core = spec.build.modules["invite.core"]
      local srcs = {}
      for _, s in ipairs(core.sources) do srcs[s] = true end
      local p = assert(io.popen("ls src/*.c"))
      for line in p:lines() do assert.is_true(srcs[line], line .. " missing from invite.core sources") end
      p:close()
      assert.are.equal("bin/invite", spec.build.install.bin.invite)
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
