#!/bin/bash
# `make docs`: the API reference (LDoc, config.ld) as HTML in docs/api/, and the invite(1) manual
# page docs/invite.1 regenerated from the CLI's argparse definitions.
#   tools/docs.sh            docs/api/ and docs/invite.1
#   tools/docs.sh DIR        the HTML in DIR only (docs/invite.1 untouched; check/60-docs.t uses this)
# Fails when a public function has no doc comment (tools/check_docs.lua), when an operation or an
# exported name of a service module is undocumented (tools/service_docs.lua), when a CLI flag has
# no example (tools/manpage.lua), and on any LDoc warning.
# docs/api/ is generated, not committed: LDoc stamps every page with the build time.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
out=${1:-docs/api}
command -v ldoc >/dev/null || { echo "tools/docs.sh: ldoc not installed (apt-get install lua-ldoc lua-markdown)" >&2; exit 2; }
lua5.4 tools/check_docs.lua || exit 1
rm -rf build/docs-src
lua5.4 tools/service_docs.lua build/docs-src || exit 1
if [ $# -eq 0 ]; then
  lua5.4 tools/manpage.lua > docs/invite.1.new || { rm -f docs/invite.1.new; exit 1; }
  mv docs/invite.1.new docs/invite.1
fi
mkdir -p "$out"
# /usr/bin/ldoc starts through lua-any, which takes the newest Lua its header names (5.2 once
# lua5.2 is installed); Debian's lua-markdown exists for Lua 5.1 only, and without it LDoc falls
# back to plain text. So LDoc runs under lua5.1, always.
log=$(lua5.1 "$(command -v ldoc)" -d "$out" . 2>&1)
status=$?
warnings=$(printf '%s\n' "$log" | grep -v -e '^reading configuration from' -e '^output written to' -e '^$')
if [ $status -ne 0 ] || [ -n "$warnings" ]; then
  printf '%s\n' "$warnings" >&2
  echo "tools/docs.sh: ldoc failed or warned (exit $status)" >&2
  exit 1
fi
echo "tools/docs.sh: API reference in $out/index.html ($(ls "$out"/modules | wc -l) modules)"
