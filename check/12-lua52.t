# Every busted spec under Lua 5.2 with the core built against its headers (build/5.2):
# the CLI, the simulator and the child scripts the specs start run under it too (spec/support/interp.lua).
exec busted --run=lua52 -o TAP
