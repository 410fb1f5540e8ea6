# Signer and transport specs with the core built with AddressSanitizer + UBSan (leak checking on).
# The sanitizer runtimes are preloaded into lua5.4, which is not itself instrumented.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
exec busted --cpath='build/asan/?.so' -o TAP spec/sigv4_spec.lua spec/http_spec.lua
