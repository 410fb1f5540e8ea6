-- The README's library example runs as written: its first ```lua block after "## Library use" is
-- run by this spec's Lua, from a scratch directory, against the simulator's example organisation
-- as its management account (AWS_ENDPOINT_URL pointing at the simulator, keys in the environment).
-- It must exit 0 and print what it promises: the caller's account, the organisation's accounts and
-- a run summary; and a listing failure comes back as `false, err` that the loop prints, not a crash.
local interp = require "support.interp"
local sim = require "support.sim"

local function readme_block()
  local text = assert(sim.read_file("README.md"))
  local from = assert(text:find("## Library use", 1, true), "README has no '## Library use'")
  local code = text:match("```lua\n(.-)\n```", from)
  assert(code, "no lua block after '## Library use'")
  return code
end

describe("README's library example", function()
  local s, dir
  setup(function()
    s = sim.start{ fixtures = "examples/fixtures/org.json" }
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. sim.shell_quote(dir)))
  end)
  teardown(function()
    s:stop()
    os.execute("rm -rf " .. sim.shell_quote(dir))
  end)

  local function run(code, extra_env)
    local script = dir .. "/example.lua"
    sim.write_file(script, code)
    local root = assert(io.popen("pwd")):read("*l")
    local admin = sim.keys["org-admin"]
    local cmd = "cd " .. sim.shell_quote(dir) .. " && env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN"
      .. " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true"
      .. " AWS_REGION=us-east-1 AWS_ENDPOINT_URL=" .. s.endpoint
      .. " AWS_ACCESS_KEY_ID=" .. admin.access_key_id
      .. " AWS_SECRET_ACCESS_KEY=" .. sim.shell_quote(admin.secret_access_key) .. " " .. (extra_env or "")
      .. " LUA_PATH=" .. sim.shell_quote(root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;")
      .. " LUA_CPATH=" .. sim.shell_quote(root .. "/build/" .. interp.BUILD .. "/?.so;;")
      .. " " .. interp.LUA .. " example.lua > out.txt 2> err.txt"
    if os.getenv("INVITE_VERBOSE") then io.stderr:write(cmd, "\n") end
    local code_ = interp.execute(cmd)
    return code_, sim.read_file(dir .. "/out.txt") or "", sim.read_file(dir .. "/err.txt") or ""
  end

  it("runs as written and prints the caller, a summary and the organisation's accounts", function()
    local code, out, err = run(readme_block())
    assert.are.equal(0, code, err .. out)
    assert.matches("111111111111%s+%d+%s+%d+%s+%d+ invitations", out)
    assert.matches("222222222222%s+ACTIVE", out)
    assert.truthy(sim.read_file(dir .. "/audit.jsonl"), "the example's audit log")
  end)

  it("its loops print a listing failure instead of crashing on it", function()
    -- a simulator that refuses every ListInvitations and ListAccounts
    s:set_faults("guardduty:ListInvitations 500; organizations:ListAccounts 500")
    local code, out, err = run(readme_block())
    s:set_faults("")
    assert.are.equal(0, code, err .. out)
    assert.matches("listing failed: ", out)
    assert.matches("cannot list the organisation: ", out)
  end)
end)
