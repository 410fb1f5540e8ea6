#!/usr/bin/env bash
# examples/nginx/run.sh - runs examples/nginx/nginx.conf from wherever this checkout is: renders
# the configuration with the checkout's location (@INVITE_ROOT@) into a scratch prefix and starts
# nginx there. Arguments go to nginx, so `examples/nginx/run.sh -s stop` stops it.
#   INVITE_NGINX_PREFIX  the scratch prefix (default: $TMPDIR/invite-nginx, else /tmp/invite-nginx)
#   NGINX                the nginx binary (default: nginx)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=${INVITE_NGINX_PREFIX:-${TMPDIR:-/tmp}/invite-nginx}
mkdir -p "$prefix/logs" "$prefix/conf"
# the checkout's path as sed replacement text (\, & and the | delimiter escaped)
root_sed=$(printf '%s' "$root" | sed 's/[\\&|]/\\&/g')
sed "s|@INVITE_ROOT@|$root_sed|g" "$here/nginx.conf" > "$prefix/conf/nginx.conf"
exec "${NGINX:-nginx}" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/conf/nginx.conf" "$@"
