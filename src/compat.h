/* compat.h - the few Lua C API pieces that differ between Lua 5.1, LuaJIT 2.1
 * and Lua 5.4. Shims are prefixed (compat_) and mapped with #define so they
 * never clash with a host that already defines the real name (LuaJIT does). */
#ifndef INVITE_COMPAT_H
#define INVITE_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM == 501
/* Plain 5.1 lacks these; LuaJIT 2.1 has some of them, but mapping the names
 * to our own static copies is harmless there and needs no LuaJIT detection. */
static inline void compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
#define luaL_setfuncs compat_setfuncs

static inline void *compat_testudata(lua_State *L, int ud, const char *tname)
{
    void *p = lua_touserdata(L, ud);
    if (p != NULL && lua_getmetatable(L, ud)) {
        luaL_getmetatable(L, tname);
        if (!lua_rawequal(L, -1, -2))
            p = NULL;
        lua_pop(L, 2);
        return p;
    }
    return NULL;
}
#define luaL_testudata compat_testudata
#define lua_rawlen(L, i) lua_objlen((L), (i))
#define compat_absindex(L, i) (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#define lua_absindex compat_absindex
#endif

#endif
