# Every busted spec under LuaJIT 2.1 with the core built against its headers (build/luajit):
# the CLI, the simulator and the child scripts the specs start run under it too (spec/support/interp.lua).
exec busted --run=luajit -o TAP
