# Signer and transport specs under valgrind memcheck: no errors, 0 bytes definitely lost.
log=$(mktemp)
valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
  --log-file="$log" lua5.4 /usr/bin/busted --ignore-lua -o TAP spec/sigv4_spec.lua spec/http_spec.lua
rc=$?
if [ $rc -ne 0 ]; then echo "# valgrind exit $rc"; sed 's/^/# /' "$log"; fi
rm -f "$log"
exit $rc
