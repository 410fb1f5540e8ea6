-- luacheck config: Lua 5.4 code that also runs on LuaJIT/ngx_lua; specs use busted.
-- Run from the project root: `luacheck .` (check/55-lint.t does, in `make check`).
std = "lua54+luajit"
max_line_length = 120
-- Lua sources only: spec/support and bench also hold Python, C and shell files.
include_files = { "lua/**/*.lua", "spec/**/*.lua", "bin/invite", "bench/**/*.lua", "examples/**/*.lua",
                  "tools/**/*.lua", "config.ld", ".luacheckrc" }
exclude_files = { "spec/fixtures" }
read_globals = { "ngx" }
files["spec"] = { std = "+busted" }
files["bin/invite"] = { std = "lua54" }
-- config.ld (LDoc) and this file are Lua whose globals are read by the tool (131: unused global).
files["config.ld"] = { allow_defined_top = true, ignore = { "131" } }
files[".luacheckrc"] = { allow_defined_top = true, ignore = { "131" } }
