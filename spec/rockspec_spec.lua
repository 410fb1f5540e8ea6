-- The rockspec must install every Lua module in lua/ and the CLI, under the right module names.
describe("invite-scm-1.rockspec", function()
  local function load_rockspec(path)
    local env = {}
    local chunk = assert(loadfile(path, "t", env))
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

  it("lists every module under lua/ with its module name", function()
    local spec = load_rockspec("invite-scm-1.rockspec")
    local modules = spec.build.modules
    local files = lua_files()
    assert.is_true(#files > 0)
    for _, f in ipairs(files) do
      local name = f:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      assert.are.equal(f, modules[name], "module " .. name .. " (" .. f .. ") missing from the rockspec")
    end
    for name, src in pairs(modules) do
      if type(src) == "string" then
        local fh = io.open(src, "r")
        assert.is_not_nil(fh, "rockspec lists " .. name .. " -> " .. src .. ", which does not exist")
        if fh then fh:close() end
      end
    end
  end)

  it("builds invite.core from the C sources and installs the CLI", function()
    local spec = load_rockspec("invite-scm-1.rockspec")
    local core = spec.build.modules["invite.core"]
    local srcs = {}
    for _, s in ipairs(core.sources) do srcs[s] = true end
    local p = assert(io.popen("ls src/*.c"))
    for line in p:lines() do assert.is_true(srcs[line], line .. " missing from invite.core sources") end
    p:close()
    assert.are.equal("bin/invite", spec.build.install.bin.invite)
  end)
end)
