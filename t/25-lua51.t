# The C core built against Lua 5.1 headers, loaded by lua5.1: signer specs.
exec busted --lua=lua5.1 --cpath='build/5.1/?.so' -o TAP spec/sigv4_spec.lua
