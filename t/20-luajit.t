# The C core built against LuaJIT 2.1 headers, loaded by luajit: signer and transport specs.
exec busted --run=luajit -o TAP spec/sigv4_spec.lua spec/http_spec.lua spec/scheduler_spec.lua \
  spec/client_pipeline_spec.lua spec/runner_spec.lua spec/credentials_spec.lua spec/config_spec.lua
