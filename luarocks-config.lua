-- Project luarocks config (LUAROCKS_CONFIG=luarocks-config.lua).
-- Debian ships lua-cjson, lua-argparse and lua-socket as system packages, not as
-- registered rocks: declare them provided so `luarocks make` works offline (luasocket is a
-- dependency of invite-sim only). invite-sim's other dependency, the invite rock itself, is
-- found offline in the tree it goes to: make invite-scm-1.rockspec into that --tree first.
-- Debian puts curl/curl.h and the multiarch libraries under x86_64-linux-gnu.
rocks_provided = {
  ["lua-cjson"] = "2.1.0-1",
  argparse = "0.7.1-1",
  luasocket = "3.1.0-1",
}
external_deps_subdirs = {
  bin = "bin",
  lib = { "lib", "lib/x86_64-linux-gnu" },
  include = { "include", "include/x86_64-linux-gnu" },
}
runtime_external_deps_subdirs = external_deps_subdirs
