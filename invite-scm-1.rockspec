rockspec_format = "3.0"
package = "invite"
version = "scm-1"
source = {
  url = "git+https://github.com/invite-lua/invite.git",
}
description = {
  summary = "Lua policy scripts that decline, delete or accept AWS Macie, Security Hub and GuardDuty invitations",
  detailed = [[
invite signs AWS requests with a small C SigV4 signer (OpenSSL), sends them with libcurl
(or nginx cosockets inside OpenResty), and gives boto3-named clients for the invitation APIs
of macie2, securityhub and guardduty, plus a policy runner and a CLI. The local AWS simulator
(`invite sim`) is the separate rock invite-sim.
]],
  license = "Apache-2.0",
  homepage = "https://github.com/invite-lua/invite",
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson >= 2.1.0",
  "argparse >= 0.7",
}
external_dependencies = {
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
  CURL = { header = "curl/curl.h", library = "curl" },
}
build = {
  -- The Makefile's rock-core target compiles invite.core into build/rock/ (never next to the sources
  -- or into the checkout root, where package.cpath's ./?.so would pick it up); its rock-install
  -- target copies the Lua modules (the lua/ tree but the simulator, which is invite-sim's) into the
  -- rock's LUADIR, so that a new module needs no line here, and into PREFIX (the rock's own
  -- directory) the manual page (man/man1/invite.1) and the examples (examples/: the policies, the
  -- demo fixture `invite sim --example` serves, the scheduler files); luarocks then copies the
  -- core and the CLI below.
  type = "make",
  build_target = "rock-core",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    OPENSSL_INCDIR = "$(OPENSSL_INCDIR)",
    OPENSSL_LIBDIR = "$(OPENSSL_LIBDIR)",
    CURL_INCDIR = "$(CURL_INCDIR)",
    CURL_LIBDIR = "$(CURL_LIBDIR)",
  },
  install_target = "rock-install",
  install_variables = {
    LUADIR = "$(LUADIR)",
    PREFIX = "$(PREFIX)",
  },
  install = {
    lib = {
      ["invite.core"] = "build/rock/invite/core.so",
    },
    bin = {
      invite = "bin/invite",
    },
  },
}
