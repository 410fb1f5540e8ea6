/* core.c - luaopen_invite_core: the one exported symbol. It builds the module
 * table, lets each binding add its own functions (sigv4_binding_open,
 * http_binding_open), and adds the three OS primitives plain Lua lacks: a
 * monotonic clock, a sleep, and fsync of a Lua file handle (the audit log must
 * reach the disk). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "compat.h"
#include "sigv4_binding.h"
#include "http_binding.h"

#if defined(__GNUC__)
#define CORE_EXPORT __attribute__((visibility("default")))
#else
#define CORE_EXPORT
#endif

CORE_EXPORT int luaopen_invite_core(lua_State *L);

/* The version, from lua/invite/version.lua (the Makefile passes it; invite.native refuses a core
 * whose version is not the Lua modules'). */
#ifndef INVITE_VERSION
#define INVITE_VERSION "unknown (not built by the Makefile)"
#endif

/* core.monotime() -> seconds (float) from CLOCK_MONOTONIC. */
static int core_monotime(lua_State *L)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return luaL_error(L, "clock_gettime: %s", strerror(errno));
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* core.sleep(seconds): blocking sleep, restarted after signals. */
static int core_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    struct timespec req, rem;
    if (!(s > 0))
        return 0;
    if (s > 86400)
        return luaL_argerror(L, 1, "sleep longer than a day");
    req.tv_sec = (time_t)s;
    req.tv_nsec = (long)((s - (lua_Number)req.tv_sec) * 1e9);
    if (req.tv_nsec > 999999999L)
        req.tv_nsec = 999999999L;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
    return 0;
}

/* core_checkfile: the FILE* of an open Lua file handle. Lua 5.1/LuaJIT store a
 * FILE* set to NULL on close; 5.2+ store a luaL_Stream whose closef is NULL once
 * closed (its FILE* is then dangling, so closef must be checked first). */
static FILE *core_checkfile(lua_State *L, int idx)
{
#if LUA_VERSION_NUM >= 502
    luaL_Stream *p = (luaL_Stream *)luaL_checkudata(L, idx, LUA_FILEHANDLE);
    if (p->closef == NULL)
        luaL_argerror(L, idx, "file is closed");
    return p->f;
#else
    FILE **fp = (FILE **)luaL_checkudata(L, idx, LUA_FILEHANDLE);
    if (*fp == NULL)
        luaL_argerror(L, idx, "file is closed");
    return *fp;
#endif
}

/* core.fsync(file) -> true | nil, message: flush a Lua file handle and fsync it. */
static int core_fsync(lua_State *L)
{
    FILE *f = core_checkfile(L, 1);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* The Lua whose headers this core was compiled with ("Lua 5.4"; LuaJIT's say "Lua 5.1"). A
 * core built for another Lua usually fails in dlopen, before any of this runs: invite.native
 * then reads this marker out of the file to say which Lua it was built for. */
static const char core_built_for[] = "invite.core built for " LUA_VERSION;
#define CORE_MARKER_PREFIX_LEN (sizeof("invite.core built for ") - 1)

/* core_check_version: raise, naming both, when the running Lua is not the one this core was
 * compiled for (5.2+ can ask; 5.1 and LuaJIT cannot, and share one ABI). */
static void core_check_version(lua_State *L)
{
#if LUA_VERSION_NUM >= 504
    lua_Number running = lua_version(L);
#elif LUA_VERSION_NUM >= 502
    lua_Number running = *lua_version(L);
#endif
#if LUA_VERSION_NUM >= 502
    if (running != (lua_Number)LUA_VERSION_NUM)
        luaL_error(L, "invite.core was built for %s but is loaded by Lua %d.%d: build the core for this "
                   "Lua (make build/%d.%d/invite/core.so in a checkout, or luarocks --lua-version %d.%d make)",
                   core_built_for + CORE_MARKER_PREFIX_LEN, (int)running / 100, (int)running % 100,
                   (int)running / 100, (int)running % 100, (int)running / 100, (int)running % 100);
    luaL_checkversion(L); /* the numeric types too */
#else
    (void)L;
#endif
}

CORE_EXPORT int luaopen_invite_core(lua_State *L)
{
    static const luaL_Reg core_funcs[] = {
        {"monotime", core_monotime},
        {"sleep", core_sleep},
        {"fsync", core_fsync},
        {NULL, NULL},
    };
    core_check_version(L);
    lua_newtable(L);
    luaL_setfuncs(L, core_funcs, 0);
    sigv4_binding_open(L);
    http_binding_open(L);
    lua_pushliteral(L, INVITE_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushstring(L, core_built_for + CORE_MARKER_PREFIX_LEN);
    lua_setfield(L, -2, "lua_version");
    return 1;
}
