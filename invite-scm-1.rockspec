rockspec_format = "3.0"
package = "invite"
version = "scm-1"
source = {
  url = "git+file:///work/main",
}
description = {
  summary = "Lua policy scripts that decline, delete or accept AWS Macie, Security Hub and GuardDuty invitations",
  detailed = [[
invite signs AWS requests with a small C SigV4 signer (OpenSSL), sends them with libcurl
(or nginx cosockets inside OpenResty), and gives boto3-named clients for the invitation APIs
of macie2, securityhub and guardduty, plus a policy runner, a CLI and a local simulator.
]],
  license = "Apache-2.0",
  homepage = "https://example.invalid/invite",
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
  type = "builtin",
  modules = {
    ["invite.core"] = {
      sources = { "src/core.c", "src/sigv4.c", "src/signer.c", "src/http.c" },
      libraries = { "crypto", "curl" },
      incdirs = { "$(OPENSSL_INCDIR)", "$(CURL_INCDIR)" },
      libdirs = { "$(OPENSSL_LIBDIR)", "$(CURL_LIBDIR)" },
      defines = { "_POSIX_C_SOURCE=200809L" },
    },
    ["invite"] = "lua/invite/init.lua",
    ["invite.sigv4"] = "lua/invite/sigv4.lua",
  },
  install = {
    bin = { invite = "bin/invite" },
  },
}
