# The C core built against LuaJIT 2.1 headers, loaded by luajit: every spec that exercises the
# library in-process (the CLI and simulator specs run lua5.4 subprocesses and are covered by t/10).
exec busted --run=luajit -o TAP spec/sigv4_spec.lua spec/http_spec.lua spec/scheduler_spec.lua \
  spec/client_pipeline_spec.lua spec/runner_spec.lua spec/credentials_spec.lua spec/config_spec.lua \
  spec/sigv4_ffi_spec.lua spec/bad_input_spec.lua spec/faults_spec.lua spec/memory_spec.lua \
  spec/secrets_spec.lua spec/validate_passes_spec.lua
