# Every busted spec under Lua 5.3 with the core built against its headers (build/5.3):
# the CLI, the simulator and the child scripts the specs start run under it too (spec/support/interp.lua).
exec busted --run=lua53 -o TAP
