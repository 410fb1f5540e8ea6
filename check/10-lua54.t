# Every busted spec under Lua 5.4 with the optimised build (build/5.4).
exec busted -o TAP
