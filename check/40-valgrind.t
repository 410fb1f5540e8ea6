# Specs under valgrind memcheck: no errors, 0 bytes definitely lost. lua5.4 runs busted itself
# (--ignore-lua: no re-exec); commands the specs start are not traced (no --trace-children).
# Arguments are the specs to run (a directory runs every spec in it). Without arguments: the
# signer, the transport and the memory loops, the parts of `make check` that exercise invite.core
# most; check/valgrind-full (`make valgrind`) runs every spec.
[ $# -gt 0 ] || set -- spec/core/sigv4_spec.lua spec/core/http_spec.lua spec/core/memory_spec.lua
log=$(mktemp)
start=$(date +%s)
valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
  --log-file="$log" lua5.4 /usr/bin/busted --ignore-lua -o TAP "$@"
rc=$?
echo "# valgrind: exit $rc after $(( $(date +%s) - start )) s"
if [ $rc -ne 0 ]; then sed 's/^/# /' "$log"; fi
rm -f "$log"
exit $rc
