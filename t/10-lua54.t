# Every busted spec under Lua 5.4 with the optimised build.
exec busted -o TAP
