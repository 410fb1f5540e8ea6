-- luacheck config: Lua 5.4 code that also runs on LuaJIT/ngx_lua; specs use busted.
std = "lua54+luajit"
max_line_length = 120
include_files = { "lua", "spec", "bin", "bench", "examples" }
exclude_files = { "spec/fixtures" }
read_globals = { "ngx" }
files["spec"] = { std = "+busted" }
files["bin/invite"] = { std = "lua54" }
