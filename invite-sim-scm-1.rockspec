rockspec_format = "3.0"
package = "invite-sim"
version = "scm-1"
source = {
  url = "git+https://github.com/invite-lua/invite.git",
}
description = {
  summary = "A local AWS simulator of the macie2, securityhub and guardduty invitation APIs and STS, for invite",
  detailed = [[
invite-sim serves the invitation APIs of macie2, securityhub and guardduty and STS on one loopback
port, verifying SigV4 like AWS, with fixtures, fault injection and a request log: the `invite sim`
command and the invite.sim module, to try the invite library and its policies on without AWS.
]],
  license = "Apache-2.0",
  homepage = "https://github.com/invite-lua/invite",
}
dependencies = {
  "lua >= 5.1",
  "invite == scm",
  "lua-cjson >= 2.1.0",
  "luasocket >= 3.0",
}
build = {
  -- Pure Lua: nothing to build. The Makefile's sim-install target copies lua/invite/sim/ and the
  -- module of the `invite sim` command (lua/invite/cli/sim.lua) into the rock's LUADIR; the invite
  -- command itself and everything else under lua/ come with the invite rock.
  type = "make",
  build_pass = false,
  -- (unused with build_pass = false; passed only so that luarocks does not warn that a make build
  -- gets no CFLAGS)
  build_variables = {
    CFLAGS = "$(CFLAGS)",
  },
  install_target = "sim-install",
  install_variables = {
    LUADIR = "$(LUADIR)",
  },
}
