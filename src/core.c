/* core.c - luaopen_invite_core: the one exported symbol. It builds the module
 * table and lets each C file add its own functions (signer_open, http_open). */
#include <lua.h>
#include <lauxlib.h>

#include "compat.h"
#include "signer.h"
#include "http.h"

#if defined(__GNUC__)
#define CORE_EXPORT __attribute__((visibility("default")))
#else
#define CORE_EXPORT
#endif

CORE_EXPORT int luaopen_invite_core(lua_State *L);

CORE_EXPORT int luaopen_invite_core(lua_State *L)
{
    lua_newtable(L);
    signer_open(L);
    http_open(L);
    lua_pushliteral(L, "0.1.0");
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
