# luarocks lint and an offline `luarocks make` from the rockspec into a scratch tree, then a load test.
export LUAROCKS_CONFIG="$PWD/luarocks-config.lua"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
echo "1..3"
if luarocks --lua-version 5.4 lint invite-scm-1.rockspec >/dev/null 2>&1; then echo "ok 1 - luarocks lint"; else echo "not ok 1 - luarocks lint"; luarocks --lua-version 5.4 lint invite-scm-1.rockspec 2>&1 | sed 's/^/# /'; fi
if out=$(luarocks --lua-version 5.4 make --tree="$tree" invite-scm-1.rockspec 2>&1); then echo "ok 2 - luarocks make (offline)"; else echo "not ok 2 - luarocks make"; echo "$out" | sed 's/^/# /'; fi
if lua5.4 -e "package.path='$tree/share/lua/5.4/?.lua;$tree/share/lua/5.4/?/init.lua;'..package.path; package.cpath='$tree/lib/lua/5.4/?.so;'..package.cpath
  local s = require('invite.sigv4').sign{method='GET', path='/', headers={{'Host','example.amazonaws.com'}}, access_key='AKIDEXAMPLE',
    secret_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region='us-east-1', service='service', time=1440938160}
  assert(s.signature == '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31', s.signature)" 2>&1; then
  echo "ok 3 - installed rock loads and signs get-vanilla"; else echo "not ok 3 - installed rock loads and signs"; fi
