# The C core built against LuaJIT 2.1 headers, loaded by luajit: signer and transport specs.
exec busted --run=luajit -o TAP spec/sigv4_spec.lua spec/http_spec.lua
