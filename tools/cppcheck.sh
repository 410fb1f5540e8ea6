#!/bin/bash
# cppcheck over the C core, once per Lua header set the core is built against (5.4, 5.1, LuaJIT 2.1).
# Usage: tools/cppcheck.sh [FILE.c ...]   (default: src/*.c). Exit 1 on any finding.
# Inline suppressions are allowed only with a reason on the same line:
#   /* cppcheck-suppress <id> ; why it is a false positive */
# -DLLONG_MAX: cppcheck does not read <limits.h>, and luaconf.h #errors without it (LUA_32BITS path).
# -I .../x86_64-linux-gnu: curl/curl.h, so LIBCURL_VERSION_NUM branches are checked as built.
set -u
cd "$(dirname "$0")/.." || exit 2
if [ $# -eq 0 ]; then set -- src/*.c; fi
command -v cppcheck >/dev/null || { echo "tools/cppcheck.sh: cppcheck not installed (apt-get install cppcheck)" >&2; exit 2; }
status=0
# A suppression without a reason is itself a finding.
if grep -HnE 'cppcheck-suppress[[:space:]]+[A-Za-z0-9_]+[[:space:]]*(\*/)?[[:space:]]*$' "$@"; then
  echo "tools/cppcheck.sh: inline cppcheck suppression without a reason (write: cppcheck-suppress id ; why)" >&2
  status=1
fi
for inc in /usr/include/lua5.4 /usr/include/lua5.1 /usr/include/luajit-2.1; do
  cppcheck --quiet --error-exitcode=1 --std=c99 --inline-suppr \
    --enable=warning,style,performance,portability \
    -D_POSIX_C_SOURCE=200809L -DLLONG_MAX=9223372036854775807LL \
    -I"$inc" -Isrc -I/usr/include/x86_64-linux-gnu \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}] (headers: '"$inc"')' \
    "$@" || status=1
done
exit $status
