/* signer.c - the Lua binding of the pure C signer (sigv4.c).
 *
 * Adds to the invite.core table:
 *   sigv4_sign(opts)          -> out | nil, err   (raises on wrong argument types)
 *   sigv4_sha256_hex(s)       -> 64 lowercase hex digits
 *   sigv4_equal(a, b)         -> boolean, constant time for equal lengths
 *   sigv4_cache_stats()       -> hits, misses of the signing-key cache
 * invite.sigv4 (lua/invite/sigv4.lua) is the documented face of these.
 *
 * The signer state (sigv4_ctx: fetched algorithms, reusable OpenSSL
 * contexts, the key cache; and the output arena) lives in one userdata that
 * every function gets as upvalue 1 - no C globals - and its __gc wipes it.
 *
 * Memory and longjmp: sign() first reads and checks every argument (the only
 * part that may raise), keeping each string it uses on the Lua stack so no
 * finaliser can free it; then signs in C with no Lua call; then pushes the
 * results. The arena it signs into belongs to the userdata, so an error
 * raised while pushing (out of memory) leaks nothing: the collector frees it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <lua.h>
#include <lauxlib.h>

#include "compat.h"
#include "signer.h"
#include "sigv4.h"

#define SIGNER_STATE_MT "invite.sigv4.state"
#define SIGNER_ERROR_MT "invite.sigv4.error"
#define SIGNER_ARENA_MIN 8192u
#define SIGNER_ARENA_MAX (16u << 20) /* far above what the input limits can need */
#define SIGNER_ARENA_KEEP (64u << 10) /* a larger arena is freed after the call */
#define SIGNER_FN "invite.sigv4.sign"

typedef struct signer_state {
    sigv4_ctx *ctx;
    char *arena;
    size_t cap;
} signer_state;

static signer_state *signer_state_of(lua_State *L)
{
    signer_state *st = (signer_state *)lua_touserdata(L, lua_upvalueindex(1));
    if (st == NULL || st->ctx == NULL)
        luaL_error(L, "invite.sigv4: signer state is gone");
    return st;
}

static void signer_free_arena(signer_state *st)
{
    if (st->arena != NULL) {
        OPENSSL_cleanse(st->arena, st->cap);
        free(st->arena);
    }
    st->arena = NULL;
    st->cap = 0;
}

/* __gc: idempotent, wipes the key cache and the arena. */
static int signer_gc(lua_State *L)
{
    signer_state *st = (signer_state *)luaL_checkudata(L, 1, SIGNER_STATE_MT);
    sigv4_ctx_free(st->ctx);
    st->ctx = NULL;
    signer_free_arena(st);
    return 0;
}

/* ---- argument reading (may raise) ---------------------------------------- */

static int signer_typeerror(lua_State *L, const char *field, const char *expected)
{
    return luaL_error(L, SIGNER_FN ": field '%s' must be %s (got %s)", field, expected,
                      luaL_typename(L, -1));
}

/* opts[field] as a string, left on the stack so it stays alive. */
static void signer_str(lua_State *L, const char *field, sigv4_str *out, int required)
{
    size_t len = 0;
    lua_getfield(L, 1, field);
    if (lua_type(L, -1) == LUA_TSTRING) {
        out->ptr = lua_tolstring(L, -1, &len);
        out->len = len;
        return;
    }
    if (lua_isnil(L, -1) && !required) {
        out->ptr = NULL;
        out->len = 0;
        return;
    }
    signer_typeerror(L, field, required ? "a string" : "a string or nil");
}

static int signer_bool(lua_State *L, const char *field, int dflt)
{
    int v = dflt;
    lua_getfield(L, 1, field);
    if (lua_type(L, -1) == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        signer_typeerror(L, field, "a boolean or nil");
    lua_pop(L, 1);
    return v;
}

/* opts[field] as a number (nil: *present = 0). */
static lua_Number signer_num(lua_State *L, const char *field, int *present)
{
    lua_Number v = 0;
    lua_getfield(L, 1, field);
    *present = 0;
    if (lua_type(L, -1) == LUA_TNUMBER) {
        v = lua_tonumber(L, -1);
        *present = 1;
    } else if (!lua_isnil(L, -1)) {
        signer_typeerror(L, field, "a number or nil");
    }
    lua_pop(L, 1);
    return v;
}

/* opts.headers: a list of {name, value} pairs. Each name and value is left
 * on the stack (2 slots per header, from *base) so that out.headers can
 * reuse the very same string objects. Returns the count, or SIZE_MAX when
 * there are more than the signer accepts (a runtime error, not misuse). */
static size_t signer_headers(lua_State *L, sigv4_header *hdr, int *base)
{
    size_t n, i;
    lua_getfield(L, 1, "headers");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        *base = lua_gettop(L) + 1;
        return 0;
    }
    if (!lua_istable(L, -1))
        signer_typeerror(L, "headers", "a list of {name, value} pairs");
    n = (size_t)lua_rawlen(L, -1);
    if (n > SIGV4_MAX_HEADERS) {
        lua_pop(L, 1);
        return (size_t)-1;
    }
    /* the headers table stays below the pinned strings */
    luaL_checkstack(L, (int)(2 * n + 4), "too many headers");
    *base = lua_gettop(L) + 1;
    for (i = 0; i < n; i++) {
        int t = lua_gettop(L);
        size_t len = 0;
        lua_rawgeti(L, *base - 1, (int)i + 1);
        if (!lua_istable(L, -1))
            luaL_error(L, SIGNER_FN ": headers[%d] must be a {name, value} pair (got %s)", (int)i + 1,
                       luaL_typename(L, -1));
        lua_rawgeti(L, t + 1, 1);
        lua_rawgeti(L, t + 1, 2);
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, SIGNER_FN ": headers[%d][1] (name) must be a string (got %s)", (int)i + 1,
                       luaL_typename(L, -2));
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, SIGNER_FN ": headers[%d][2] (value) must be a string (got %s)", (int)i + 1,
                       luaL_typename(L, -1));
        hdr[i].name = lua_tolstring(L, -2, &len);
        hdr[i].name_len = len;
        hdr[i].value = lua_tolstring(L, -1, &len); /* a number becomes a string on the stack */
        hdr[i].value_len = len;
        lua_remove(L, t + 1); /* the pair; name and value stay */
    }
    return n;
}

/* ---- results --------------------------------------------------------------- */

static void signer_setstr(lua_State *L, const char *field, sigv4_str s)
{
    lua_pushlstring(L, s.ptr, s.len);
    lua_setfield(L, -2, field);
}

/* nil, err where err = {code, message, reason, field, index, retryable} with
 * a __tostring. The message names the field and the rule, never a value. */
static int signer_push_error(lua_State *L, int rc, const char *field, size_t index)
{
    lua_pushnil(L);
    lua_createtable(L, 0, 8);
    lua_pushstring(L, (rc == SIGV4_E_NOMEM || rc == SIGV4_E_CRYPTO) ? "SignerError" : "ValidationError");
    lua_setfield(L, -2, "code");
    if (field != NULL && index > 0)
        lua_pushfstring(L, "sigv4: %s[%d]: %s", field, (int)index, sigv4_strerror(rc));
    else if (field != NULL)
        lua_pushfstring(L, "sigv4: %s: %s", field, sigv4_strerror(rc));
    else
        lua_pushfstring(L, "sigv4: %s", sigv4_strerror(rc));
    lua_setfield(L, -2, "message");
    lua_pushstring(L, sigv4_errname(rc));
    lua_setfield(L, -2, "reason");
    if (field != NULL) {
        lua_pushstring(L, field);
        lua_setfield(L, -2, "field");
    }
    if (index > 0) {
        lua_pushinteger(L, (lua_Integer)index);
        lua_setfield(L, -2, "index");
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "retryable");
    luaL_getmetatable(L, SIGNER_ERROR_MT);
    lua_setmetatable(L, -2);
    return 2;
}

static int signer_error_tostring(lua_State *L)
{
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_pushfstring(L, "%s: %s", lua_isstring(L, -2) ? lua_tostring(L, -2) : "Error",
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    return 1;
}

/* ---- sign -------------------------------------------------------------------- */

static int signer_sign(lua_State *L)
{
    signer_state *st = signer_state_of(L);
    sigv4_header hdr[SIGV4_MAX_HEADERS];
    sigv4_request req;
    sigv4_result res;
    lua_Number num;
    int present, base = 0, query_idx, rc;
    size_t nh, i;

    /* 1. arguments: everything that may raise happens here */
    if (!lua_istable(L, 1))
        return luaL_error(L, SIGNER_FN ": expected a table of options (got %s)", luaL_typename(L, 1));
    lua_settop(L, 1);
    luaL_checkstack(L, 24, "sigv4 options");
    memset(&req, 0, sizeof req);
    signer_str(L, "method", &req.method, 1);
    signer_str(L, "path", &req.path, 0);
    signer_str(L, "query", &req.query, 0);
    query_idx = lua_gettop(L);
    signer_str(L, "body", &req.body, 0);
    signer_str(L, "payload_hash", &req.payload_hash, 0);
    signer_str(L, "access_key", &req.access_key, 1);
    signer_str(L, "secret_key", &req.secret_key, 1);
    signer_str(L, "session_token", &req.session_token, 0);
    signer_str(L, "region", &req.region, 1);
    signer_str(L, "service", &req.service, 1);
    signer_str(L, "amz_date", &req.amz_date, 0);
    signer_str(L, "signed_headers", &req.signed_headers, 0);
    if (req.path.ptr == NULL) {
        req.path.ptr = "/";
        req.path.len = 1;
    }

    num = signer_num(L, "time", &present);
    if (!present)
        req.time = (int64_t)time(NULL);
    else if (num >= 0 && num <= (lua_Number)SIGV4_MAX_TIME) /* also false for NaN */
        req.time = (int64_t)floor(num);
    else
        req.time = -1; /* refused by the signer: nil, err */

    num = signer_num(L, "expires", &present);
    if (!present)
        req.expires = 3600;
    else if (num >= 1 && num <= (lua_Number)SIGV4_MAX_EXPIRES && num == floor(num))
        req.expires = (long)num;
    else
        req.expires = -1;

    if (signer_bool(L, "normalize_path", 1))
        req.flags |= SIGV4_NORMALIZE_PATH;
    if (!signer_bool(L, "encode_path", 1))
        req.flags |= SIGV4_RAW_PATH;
    if (signer_bool(L, "presign", 0))
        req.flags |= SIGV4_PRESIGN;
    if (signer_bool(L, "omit_session_token", 0))
        req.flags |= SIGV4_OMIT_SESSION_TOKEN;
    if (signer_bool(L, "sign_body", 0))
        req.flags |= SIGV4_SIGN_BODY;

    nh = signer_headers(L, hdr, &base);
    if (nh == (size_t)-1)
        return signer_push_error(L, SIGV4_E_TOO_LARGE, "headers", 0);
    req.headers = hdr;
    req.nheaders = nh;

    /* 2. sign: pure C, no Lua calls; grow the arena if it is too small */
    for (;;) {
        if (st->arena == NULL) {
            st->arena = malloc(SIGNER_ARENA_MIN);
            if (st->arena == NULL)
                return signer_push_error(L, SIGV4_E_NOMEM, NULL, 0);
            st->cap = SIGNER_ARENA_MIN;
        }
        rc = sigv4_sign(st->ctx, &req, &res, st->arena, st->cap);
        if (rc != SIGV4_E_BUFFER)
            break;
        if (st->cap >= SIGNER_ARENA_MAX) {
            signer_free_arena(st);
            return signer_push_error(L, SIGV4_E_TOO_LARGE, "request", 0);
        }
        {
            size_t cap = st->cap * 2;
            signer_free_arena(st);
            st->arena = malloc(cap);
            if (st->arena == NULL)
                return signer_push_error(L, SIGV4_E_NOMEM, NULL, 0);
            st->cap = cap;
        }
    }
    if (rc != SIGV4_OK)
        return signer_push_error(L, rc, res.err_field, res.err_index);

    /* 3. results */
    lua_createtable(L, 0, 12);
    signer_setstr(L, "canonical_request", res.canonical_request);
    signer_setstr(L, "string_to_sign", res.string_to_sign);
    signer_setstr(L, "signature", res.signature);
    signer_setstr(L, "signed_headers", res.signed_headers);
    signer_setstr(L, "credential_scope", res.credential_scope);
    signer_setstr(L, "amz_date", res.amz_date);
    signer_setstr(L, "payload_hash", res.payload_hash);
    if (res.authorization.len > 0)
        signer_setstr(L, "authorization", res.authorization);
    if (res.query.ptr != NULL) {
        signer_setstr(L, "query", res.query);
    } else {
        /* header signing: the query is sent as given */
        if (lua_isnil(L, query_idx))
            lua_pushliteral(L, "");
        else
            lua_pushvalue(L, query_idx);
        lua_setfield(L, -2, "query");
    }
    if (req.signed_headers.ptr == NULL) {
        lua_createtable(L, (int)res.nheaders, 0);
        for (i = 0; i < res.nheaders; i++) {
            const sigv4_out_header *o = &res.headers[i];
            lua_createtable(L, 2, 0);
            if (o->src != SIGV4_NO_SRC)
                lua_pushvalue(L, base + 2 * (int)o->src);
            else
                lua_pushlstring(L, o->name, o->name_len);
            lua_rawseti(L, -2, 1);
            if (o->src != SIGV4_NO_SRC && !o->value_changed)
                lua_pushvalue(L, base + 2 * (int)o->src + 1);
            else
                lua_pushlstring(L, o->value, o->value_len);
            lua_rawseti(L, -2, 2);
            lua_rawseti(L, -2, (int)i + 1);
        }
        lua_setfield(L, -2, "headers");
    }
    if (req.session_token.len > 0)
        OPENSSL_cleanse(st->arena, res.buf_used); /* canonical request / query held the token */
    if (st->cap > SIGNER_ARENA_KEEP)
        signer_free_arena(st);
    return 1;
}

/* sha256_hex(s) -> hex digest of s. */
static int signer_sha256_hex(lua_State *L)
{
    signer_state *st = signer_state_of(L);
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[65];
    int rc = sigv4_sha256_hex(st->ctx, s, len, hex);
    if (rc != SIGV4_OK)
        return signer_push_error(L, rc, NULL, 0);
    lua_pushlstring(L, hex, 64);
    return 1;
}

/* equal(a, b) -> boolean; compares in time independent of the content. */
static int signer_equal(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen);
    const char *b = luaL_checklstring(L, 2, &blen);
    lua_pushboolean(L, sigv4_equal(a, alen, b, blen));
    return 1;
}

static int signer_cache_stats(lua_State *L)
{
    signer_state *st = signer_state_of(L);
    unsigned long hits = 0, misses = 0;
    sigv4_cache_stats(st->ctx, &hits, &misses);
    lua_pushinteger(L, (lua_Integer)hits);
    lua_pushinteger(L, (lua_Integer)misses);
    return 2;
}

void signer_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"sigv4_sign", signer_sign},
        {"sigv4_sha256_hex", signer_sha256_hex},
        {"sigv4_equal", signer_equal},
        {"sigv4_cache_stats", signer_cache_stats},
        {NULL, NULL},
    };
    signer_state *st;

    if (luaL_newmetatable(L, SIGNER_ERROR_MT)) {
        lua_pushcfunction(L, signer_error_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);

    /* the userdata and its metatable exist before the resource: if creating
     * the context fails, the collector still sees a consistent object */
    st = (signer_state *)lua_newuserdata(L, sizeof *st);
    st->ctx = NULL;
    st->arena = NULL;
    st->cap = 0;
    if (luaL_newmetatable(L, SIGNER_STATE_MT)) {
        lua_pushcfunction(L, signer_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    st->ctx = sigv4_ctx_new();
    if (st->ctx == NULL)
        luaL_error(L, "invite.sigv4: OpenSSL could not provide SHA-256/HMAC");
    luaL_setfuncs(L, funcs, 1); /* pops the userdata: each function's upvalue */
}
