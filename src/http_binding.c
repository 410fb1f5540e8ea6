/* http_binding.c - the Lua binding of the curl engine (curl_engine.c): invite.core.http_new.
 *
 *   local h = core.http_new{ verify = true, ca_bundle = nil, connect_timeout_ms = 3000,
 *                            timeout_ms = 30000, max_connections = 64, max_body = 1 MiB }
 *   local res, err = h:request{ method =, url =, headers = {{n, v}, ...}, body =, timeout_ms =,
 *                               max_body = }
 *   local id, err  = h:start(req)      -- same request table
 *   local done     = h:wait(timeout_ms) -- { {id =, res =} | {id =, err =}, ... }
 *   h:pending(); h:close()
 *
 * res = { status =, headers = { {lower-cased name, value}, ... }, body = }
 * err = { kind = "timeout"|"connect"|"tls"|"reset"|"dns"|"other", curl_code =, message = }
 *
 * max_body bounds each response body (CURL_ENGINE_DEFAULT_MAX_BODY); past it the error is kind
 * "other", curl_code 23 (CURLE_WRITE_ERROR, not retried by invite.errors), message "response
 * body exceeds the limit of N bytes (...)". See curl_engine.h for what the engine does.
 *
 * Each Lua entry point works in three phases: read and validate every Lua argument into engine
 * structs (may raise, holds no C memory but the client's scratch), run the engine (no Lua calls
 * at all), push the results (Lua allocates, but all C memory involved is owned by the engine
 * the client userdata holds, whose __gc frees it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "compat.h"
#include "curl_engine.h"
#include "http_binding.h"

#define HTTP_BINDING_CLIENT_MT "invite.http.client"
#define HTTP_BINDING_ERROR_MT "invite.http.error"
#define HTTP_BINDING_MAX_MS ((double)CURL_ENGINE_MAX_MS)
#define HTTP_BINDING_MAX_BODY_LIMIT ((double)(SIZE_MAX / 2 < 0x1p52 ? SIZE_MAX / 2 : 0x1p52))

/* The client userdata. */
typedef struct {
    curl_engine *engine;         /* NULL once released */
    curl_engine_header *refs;    /* scratch for http_binding_parse_request, see there */
    size_t caprefs;
    int closed;                  /* no further use; resources may still await __gc */
    int pushing;                 /* results are being pushed; see http_binding_close */
} http_binding_client;

/* Frees every C resource of the client. Idempotent. */
static void http_binding_release(http_binding_client *c)
{
    c->closed = 1;
    curl_engine_free(c->engine);
    c->engine = NULL;
    free(c->refs);
    c->refs = NULL;
    c->caprefs = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Error objects                                                                               */

/* Pushes { kind =, curl_code =, message = } with the error metatable. */
static void http_binding_push_error(lua_State *L, const curl_engine_error *err)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, curl_engine_kind_name(err->kind));
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, (lua_Integer)err->code);
    lua_setfield(L, -2, "curl_code");
    if (err->fail == CURL_ENGINE_FAIL_TOOBIG)
        lua_pushfstring(L, "%s (client option max_body_bytes, invite.core option max_body)", err->message);
    else
        lua_pushstring(L, err->message);
    lua_setfield(L, -2, "message");
    luaL_getmetatable(L, HTTP_BINDING_ERROR_MT);
    lua_setmetatable(L, -2);
}

static int http_binding_error_tostring(lua_State *L)
{
    const char *kind, *message;
    lua_Integer code;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "kind");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "curl_code");
    kind = lua_tostring(L, -3);
    message = lua_tostring(L, -2);
    code = lua_tointeger(L, -1);
    lua_pushfstring(L, "http %s error: %s (curl %d)", kind ? kind : "other",
                    message ? message : "unknown", (int)code);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Phase 1: read and validate Lua arguments (may raise; holds no C memory)                     */

/* Reads an optional non-negative integral number field of the table at idx. */
static double http_binding_opt_number(lua_State *L, int idx, const char *field, double def, double min,
                                      double max)
{
    double v;
    lua_getfield(L, idx, field);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "%s must be a number", field);
    v = (double)lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(v >= min && v <= max) || v != (double)(long long)v)
        luaL_error(L, "%s must be a whole number, at least %d and not too large", field, (int)min);
    return v;
}

/* Validates the request table at idx into r. The strings r points to stay referenced by the
 * table (or by the stack) for the rest of the call. */
static void http_binding_parse_request(lua_State *L, int idx, http_binding_client *c, curl_engine_request *r)
{
    const char *s;
    size_t len, i, n;
    double v;
    int t;

    memset(r, 0, sizeof *r);
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    luaL_checkstack(L, 12, "request");

    /* Values fetched with lua_getfield stay on the stack until the call returns. */
    lua_getfield(L, idx, "method");
    if (lua_isnil(L, -1)) {
        r->method = CURL_ENGINE_GET;
    } else {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "method must be a string");
        s = lua_tolstring(L, -1, &len);
        /* Every byte, not up to the first NUL: "GET\0X" is not GET. The method is not quoted
         * back unless it is a token, so the message carries no control bytes. */
        if (len == 0)
            luaL_error(L, "method must not be empty");
        for (i = 0; i < len; i++)
            if (!curl_engine_is_tchar((unsigned char)s[i]))
                luaL_error(L, "method has a byte that is not a token character (RFC 9110 tchar) "
                           "at position %d", (int)(i + 1));
        for (i = 0; i < CURL_ENGINE_METHODS; i++)
            if (len == strlen(curl_engine_method_names[i]) && memcmp(s, curl_engine_method_names[i], len) == 0)
                break;
        if (i == CURL_ENGINE_METHODS)
            luaL_error(L, "unsupported method '%s' (GET, POST, PUT, DELETE, HEAD)", s);
        r->method = (int)i;
    }

    lua_getfield(L, idx, "url");
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "url must be a string");
    s = lua_tolstring(L, -1, &len);
    if (strlen(s) != len)
        luaL_error(L, "url must not contain NUL bytes");
    r->url = s;

    lua_getfield(L, idx, "body");
    t = lua_type(L, -1);
    if (t == LUA_TSTRING) {
        r->body = lua_tolstring(L, -1, &r->body_len);
        if (r->method == CURL_ENGINE_HEAD && r->body_len > 0)
            luaL_error(L, "a HEAD request cannot have a body");
    } else if (t != LUA_TNIL) {
        luaL_error(L, "body must be a string");
    }

    /* nil: the client's (-1 for the engine's default) */
    r->timeout_ms = (long)http_binding_opt_number(L, idx, "timeout_ms", -1, 0, HTTP_BINDING_MAX_MS);
    v = http_binding_opt_number(L, idx, "max_body", -1, 0, HTTP_BINDING_MAX_BODY_LIMIT);
    r->max_body = v < 0 ? CURL_ENGINE_INHERIT : (size_t)v;

    lua_getfield(L, idx, "headers");
    t = lua_type(L, -1);
    if (t == LUA_TNIL)
        return;
    if (t != LUA_TTABLE)
        luaL_error(L, "headers must be a list of {name, value} pairs");
    n = (size_t)lua_rawlen(L, -1);
    if (n > (size_t)INT32_MAX / sizeof(curl_engine_header))
        luaL_error(L, "too many headers");
    /* Scratch space for the references, owned by the client (freed with it) and reused by every
     * request: nothing between reading the headers below and using them (in http_binding_begin,
     * before the transfer runs) calls Lua or allocates from it, so neither a finalizer nor a
     * metamethod can re-enter this client while the references are in use. Every field read
     * above may have run a metamethod, and one may have closed the client: its resources are
     * then released for good, and scratch allocated now would have no owner left to free it.
     * So: check here, after the last Lua call that can run code and before the allocation. */
    if (c->closed)
        luaL_error(L, "http client is closed");
    if (n > c->caprefs) {
        size_t cap = n < 16 ? 16 : n;
        curl_engine_header *p = realloc(c->refs, cap * sizeof *p);
        if (p == NULL)
            luaL_error(L, "out of memory");
        c->refs = p;
        c->caprefs = cap;
    }
    r->headers = c->refs;
    r->nheaders = n;
    for (i = 0; i < n; i++) {
        curl_engine_header *h = &c->refs[i];
        lua_rawgeti(L, -1, (int)(i + 1)); /* the list is on the top of the stack */
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_error(L, "header #%d must be a {name, value} pair", (int)(i + 1));
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "header #%d: name and value must be strings", (int)(i + 1));
        h->name = lua_tolstring(L, -2, &h->name_len);
        h->value = lua_tolstring(L, -1, &h->value_len);
        lua_pop(L, 3); /* the strings stay referenced by the pair, the pair by the list */
        switch (curl_engine_check_header(h)) {
        case CURL_ENGINE_HEADER_OK:
            break;
        case CURL_ENGINE_HEADER_EMPTY_NAME:
            luaL_error(L, "header #%d: empty name", (int)(i + 1));
            break;
        case CURL_ENGINE_HEADER_BAD_NAME:
            luaL_error(L, "header #%d: invalid character in name", (int)(i + 1));
            break;
        case CURL_ENGINE_HEADER_BAD_VALUE:
            luaL_error(L, "header #%d: CR, LF or NUL in value", (int)(i + 1));
            break;
        default:
            luaL_error(L, "header #%d too long", (int)(i + 1));
            break;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Phase 3: push results                                                                       */

/* Pushes the result of a finished transfer: a res table (returns 1) or an error (returns 0). */
static int http_binding_push_result(lua_State *L, curl_engine_xfer *x)
{
    curl_engine_response res;
    curl_engine_error err;
    size_t i;

    if (!curl_engine_result(x, &res, &err)) {
        http_binding_push_error(L, &err);
        return 0;
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)res.status);
    lua_setfield(L, -2, "status");
    lua_createtable(L, res.nheaders > INT32_MAX ? 0 : (int)res.nheaders, 0);
    for (i = 0; i < res.nheaders; i++) {
        const curl_engine_header *h = &res.headers[i];
        lua_createtable(L, 2, 0);
        lua_pushlstring(L, h->name, h->name_len);
        lua_rawseti(L, -2, 1);
        lua_pushlstring(L, h->value, h->value_len);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)(i + 1));
    }
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, res.body, res.body_len);
    lua_setfield(L, -2, "body");
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Lua methods                                                                                 */

static http_binding_client *http_binding_check_client(lua_State *L)
{
    http_binding_client *c = luaL_checkudata(L, 1, HTTP_BINDING_CLIENT_MT);
    if (c->closed)
        luaL_error(L, "http client is closed");
    return c;
}

/* Shared by request() and start(): phase 1, then the engine's perform (blocking) or start.
 * Returns the transfer, or NULL after pushing nil, err. */
static curl_engine_xfer *http_binding_begin(lua_State *L, http_binding_client *c, int blocking)
{
    curl_engine_request r;
    curl_engine_error err;
    curl_engine_xfer *x;

    http_binding_parse_request(L, 2, c, &r);
    if (c->closed) /* a finalizer run by the allocations above may have closed it */
        luaL_error(L, "http client is closed");
    x = blocking ? curl_engine_perform(c->engine, &r, &err) : curl_engine_start(c->engine, &r, &err);
    if (x == NULL) {
        lua_pushnil(L);
        http_binding_push_error(L, &err);
    }
    return x;
}

/* h:request(req) -> res | nil, err */
static int http_binding_request(lua_State *L)
{
    http_binding_client *c = http_binding_check_client(L);
    curl_engine_xfer *x = http_binding_begin(L, c, 1);
    int ok;
    if (x == NULL)
        return 2;
    c->pushing++;
    ok = http_binding_push_result(L, x);
    c->pushing--;
    curl_engine_recycle(c->engine, x);
    if (c->closed && c->pushing == 0)
        http_binding_release(c);
    if (ok)
        return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* h:start(req) -> id | nil, err */
static int http_binding_start(lua_State *L)
{
    http_binding_client *c = http_binding_check_client(L);
    curl_engine_xfer *x = http_binding_begin(L, c, 0);
    if (x == NULL)
        return 2;
    lua_pushinteger(L, (lua_Integer)curl_engine_xfer_id(x));
    return 1;
}

/* h:wait([timeout_ms]) -> { {id =, res =} | {id =, err =}, ... }
 * Returns as soon as at least one started transfer has finished, when none is in flight, or
 * after timeout_ms (0: poll once; nil: no limit). */
static int http_binding_wait(lua_State *L)
{
    http_binding_client *c = http_binding_check_client(L);
    double t = luaL_optnumber(L, 2, -1);
    long timeout_ms;
    int n = 0;
    curl_engine_xfer *x;
    if (lua_isnoneornil(L, 2))
        timeout_ms = -1;
    else if (t >= 0 && t <= HTTP_BINDING_MAX_MS)
        timeout_ms = (long)t;
    else
        return luaL_argerror(L, 2, "timeout_ms must be between 0 and 2^31-1");
    lua_settop(L, 1);

    curl_engine_wait(c->engine, timeout_ms);

    lua_newtable(L);
    c->pushing++;
    /* Take one transfer off the queue at a time: if a finalizer re-enters wait() while we push,
     * it only sees the ones not yet taken. */
    while (!c->closed && (x = curl_engine_next_done(c->engine)) != NULL) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, (lua_Integer)curl_engine_xfer_id(x));
        lua_setfield(L, -2, "id");
        if (http_binding_push_result(L, x))
            lua_setfield(L, -2, "res");
        else
            lua_setfield(L, -2, "err");
        lua_rawseti(L, -2, ++n);
        curl_engine_recycle(c->engine, x);
    }
    c->pushing--;
    if (c->closed && c->pushing == 0)
        http_binding_release(c);
    return 1;
}

/* h:pending() -> number of started transfers not yet returned by wait() */
static int http_binding_pending(lua_State *L)
{
    http_binding_client *c = http_binding_check_client(L);
    lua_pushinteger(L, (lua_Integer)curl_engine_pending(c->engine));
    return 1;
}

/* __close and h:close(): idempotent. Transfers in flight are abandoned. */
static int http_binding_close(lua_State *L)
{
    http_binding_client *c = luaL_checkudata(L, 1, HTTP_BINDING_CLIENT_MT);
    c->closed = 1;
    /* A finalizer can only run h:close() in the middle of this client's own result pushing
     * (an allocation there may run the GC). Then the memory being read must survive: the
     * interrupted call, or __gc, releases it. */
    if (c->pushing == 0)
        http_binding_release(c);
    return 0;
}

static int http_binding_gc(lua_State *L)
{
    http_binding_client *c = luaL_checkudata(L, 1, HTTP_BINDING_CLIENT_MT);
    http_binding_release(c); /* unreachable, so nothing can be using it */
    return 0;
}

static int http_binding_tostring(lua_State *L)
{
    http_binding_client *c = luaL_checkudata(L, 1, HTTP_BINDING_CLIENT_MT);
    lua_pushfstring(L, "invite.http.client (%p%s)", (void *)c, c->closed ? ", closed" : "");
    return 1;
}

/* core.http_new([opts]) -> client | nil, err */
static int http_binding_new(lua_State *L)
{
    curl_engine_options o;
    curl_engine_error err;
    const char *ca = NULL;
    size_t ca_len = 0;
    http_binding_client *c;

    /* Phase 1: every option, before anything is allocated. */
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    else
        luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    memset(&o, 0, sizeof o);
    o.verify = 1;
    lua_getfield(L, 1, "verify");
    if (lua_type(L, -1) == LUA_TBOOLEAN)
        o.verify = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        return luaL_error(L, "verify must be a boolean");
    lua_getfield(L, 1, "ca_bundle"); /* stays on the stack while ca is in use */
    if (lua_type(L, -1) == LUA_TSTRING) {
        ca = lua_tolstring(L, -1, &ca_len);
        if (strlen(ca) != ca_len || ca_len == 0)
            return luaL_error(L, "ca_bundle must be a non-empty path without NUL bytes");
    } else if (!lua_isnil(L, -1)) {
        return luaL_error(L, "ca_bundle must be a string");
    }
    o.ca_bundle = ca;
    o.connect_timeout_ms = (long)http_binding_opt_number(L, 1, "connect_timeout_ms",
                                                         (double)CURL_ENGINE_DEFAULT_CONNECT_TIMEOUT_MS, 0,
                                                         HTTP_BINDING_MAX_MS);
    o.timeout_ms = (long)http_binding_opt_number(L, 1, "timeout_ms", (double)CURL_ENGINE_DEFAULT_TIMEOUT_MS, 0,
                                                 HTTP_BINDING_MAX_MS);
    o.max_connections = (long)http_binding_opt_number(L, 1, "max_connections",
                                                      (double)CURL_ENGINE_DEFAULT_MAX_CONNECTIONS, 1,
                                                      (double)CURL_ENGINE_MAX_CONNECTIONS_LIMIT);
    o.max_body = (size_t)http_binding_opt_number(L, 1, "max_body", (double)CURL_ENGINE_DEFAULT_MAX_BODY, 0,
                                                 HTTP_BINDING_MAX_BODY_LIMIT);

    /* The handle exists, with its metatable, before any resource is acquired. */
    c = lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    luaL_getmetatable(L, HTTP_BINDING_CLIENT_MT);
    lua_setmetatable(L, -2);
    c->engine = curl_engine_new(&o, &err);
    if (c->engine == NULL) {
        c->closed = 1;
        lua_pushnil(L);
        http_binding_push_error(L, &err);
        return 2;
    }
    return 1;
}

void http_binding_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "request", http_binding_request },
        { "start", http_binding_start },
        { "wait", http_binding_wait },
        { "pending", http_binding_pending },
        { "close", http_binding_close },
        { NULL, NULL },
    };

    /* Once per process: libcurl's global state is shared by every Lua state (http_new reports
     * a failure). */
    curl_engine_global_init();

    if (luaL_newmetatable(L, HTTP_BINDING_CLIENT_MT)) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, http_binding_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, http_binding_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, http_binding_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "invite.http.client");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, HTTP_BINDING_ERROR_MT)) {
        lua_pushcfunction(L, http_binding_error_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);

    lua_pushcfunction(L, http_binding_new);
    lua_setfield(L, -2, "http_new");
}
