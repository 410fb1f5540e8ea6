rockspec_format = "3.0"
package = "invite"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/invite-lua/invite.git",
  tag = "v0.1.0",
}
description = {
  summary = "Lua policy scripts that decline, delete or accept AWS Macie, Security Hub and GuardDuty invitations",
  detailed = [[
invite signs AWS requests with a small C SigV4 signer (OpenSSL), sends them with libcurl
(or nginx cosockets inside OpenResty), and gives boto3-named clients for the invitation APIs
of macie2, securityhub and guardduty, plus a policy runner, a CLI and a local simulator.
]],
  license = "Apache-2.0",
  homepage = "https://github.com/invite-lua/invite",
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson >= 2.1.0",
  "argparse >= 0.7",
  "luasocket >= 3.0",
}
external_dependencies = {
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
  CURL = { header = "curl/curl.h", library = "curl" },
}
build = {
  -- The Makefile's rock-core target compiles invite.core into build/rock/ (never next to the sources
  -- or into the checkout root, where package.cpath's ./?.so would pick it up), then luarocks copies
  -- the files below into the tree.
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
  install_pass = false,
  install = {
    lua = {
      ["invite"] = "lua/invite/init.lua",
      ["invite.audit"] = "lua/invite/audit.lua",
      ["invite.batch"] = "lua/invite/batch.lua",
      ["invite.build"] = "lua/invite/build.lua",
      ["invite.cli"] = "lua/invite/cli.lua",
      ["invite.cli.apply"] = "lua/invite/cli/apply.lua",
      ["invite.cli.common"] = "lua/invite/cli/common.lua",
      ["invite.cli.count"] = "lua/invite/cli/count.lua",
      ["invite.cli.decline"] = "lua/invite/cli/decline.lua",
      ["invite.cli.delete"] = "lua/invite/cli/delete.lua",
      ["invite.cli.list"] = "lua/invite/cli/list.lua",
      ["invite.cli.plan"] = "lua/invite/cli/plan.lua",
      ["invite.cli.sim"] = "lua/invite/cli/sim.lua",
      ["invite.client"] = "lua/invite/client.lua",
      ["invite.config"] = "lua/invite/config.lua",
      ["invite.config.ini"] = "lua/invite/config/ini.lua",
      ["invite.cosocket"] = "lua/invite/cosocket.lua",
      ["invite.credentials"] = "lua/invite/credentials.lua",
      ["invite.credentials.assume_role"] = "lua/invite/credentials/assume_role.lua",
      ["invite.credentials.common"] = "lua/invite/credentials/common.lua",
      ["invite.credentials.container"] = "lua/invite/credentials/container.lua",
      ["invite.credentials.env"] = "lua/invite/credentials/env.lua",
      ["invite.credentials.imds"] = "lua/invite/credentials/imds.lua",
      ["invite.credentials.process"] = "lua/invite/credentials/process.lua",
      ["invite.credentials.profile"] = "lua/invite/credentials/profile.lua",
      ["invite.credentials.provider"] = "lua/invite/credentials/provider.lua",
      ["invite.credentials.web_identity"] = "lua/invite/credentials/web_identity.lua",
      ["invite.errors"] = "lua/invite/errors.lua",
      ["invite.model"] = "lua/invite/model.lua",
      ["invite.native"] = "lua/invite/native.lua",
      ["invite.paginate"] = "lua/invite/paginate.lua",
      ["invite.parse"] = "lua/invite/parse.lua",
      ["invite.policy"] = "lua/invite/policy.lua",
      ["invite.protocols.json"] = "lua/invite/protocols/json.lua",
      ["invite.protocols.query"] = "lua/invite/protocols/query.lua",
      ["invite.protocols.rest_json"] = "lua/invite/protocols/rest_json.lua",
      ["invite.report"] = "lua/invite/report.lua",
      ["invite.redact"] = "lua/invite/redact.lua",
      ["invite.retry"] = "lua/invite/retry.lua",
      ["invite.runner"] = "lua/invite/runner.lua",
      ["invite.scheduler"] = "lua/invite/scheduler.lua",
      ["invite.services.guardduty"] = "lua/invite/services/guardduty.lua",
      ["invite.services.macie2"] = "lua/invite/services/macie2.lua",
      ["invite.services.securityhub"] = "lua/invite/services/securityhub.lua",
      ["invite.sign"] = "lua/invite/sign.lua",
      ["invite.sigv4"] = "lua/invite/sigv4.lua",
      ["invite.sim"] = "lua/invite/sim/init.lua",
      ["invite.sim.auth"] = "lua/invite/sim/auth.lua",
      ["invite.sim.control"] = "lua/invite/sim/control.lua",
      ["invite.sim.faults"] = "lua/invite/sim/faults.lua",
      ["invite.sim.fixtures"] = "lua/invite/sim/fixtures.lua",
      ["invite.sim.guardduty"] = "lua/invite/sim/guardduty.lua",
      ["invite.sim.http"] = "lua/invite/sim/http.lua",
      ["invite.sim.log"] = "lua/invite/sim/log.lua",
      ["invite.sim.macie2"] = "lua/invite/sim/macie2.lua",
      ["invite.sim.rest"] = "lua/invite/sim/rest.lua",
      ["invite.sim.securityhub"] = "lua/invite/sim/securityhub.lua",
      ["invite.sim.state"] = "lua/invite/sim/state.lua",
      ["invite.sim.sts"] = "lua/invite/sim/sts.lua",
      ["invite.sim.util"] = "lua/invite/sim/util.lua",
      ["invite.sts"] = "lua/invite/sts.lua",
      ["invite.time"] = "lua/invite/time.lua",
      ["invite.transport"] = "lua/invite/transport.lua",
      ["invite.validate"] = "lua/invite/validate.lua",
      ["invite.xml"] = "lua/invite/xml.lua",
    },
    lib = {
      ["invite.core"] = "build/rock/invite/core.so",
    },
    bin = {
      invite = "bin/invite",
    },
  },
}
