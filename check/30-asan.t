# Every busted spec with invite.core built with AddressSanitizer + UBSan (leak checking on).
# The sanitizer runtimes are preloaded into lua5.4, which is not itself instrumented; busted runs
# in that very process (--ignore-lua: no re-exec). check/asan-children.c, preloaded last, drops
# LD_PRELOAD from the environment at start-up, so the commands the specs start run uninstrumented.
so=build/asan/asan-children.so
if [ ! -f "$so" ] || [ check/asan-children.c -nt "$so" ]; then
  mkdir -p build/asan && gcc -std=c99 -Wall -Wextra -Werror -shared -fPIC -O1 -o "$so" check/asan-children.c || {
    echo "Bail out! cannot build $so"; exit 1; }
fi
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so) $PWD/$so"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
start=$(date +%s)
lua5.4 /usr/bin/busted --ignore-lua --cpath='build/asan/?.so' -o TAP "$@"
rc=$?
echo "# asan: busted exit $rc after $(( $(date +%s) - start )) s"
exit $rc
