/* sigv4_binding.c - the Lua binding of the pure C signer (sigv4.c).
 *
 * Adds to the invite.core table:
 *   sigv4_sign(method, path, ...) -> the parts of sign()'s result | nil, err
 *                             (raises on wrong argument types; see sigv4_binding_sign)
 *   sigv4_sha256_hex(s)       -> 64 lowercase hex digits
 *   sigv4_equal(a, b)         -> boolean, constant time for equal lengths
 *   sigv4_cache_stats()       -> hits, misses of the signing-key cache
 *   sigv4_ffi()               -> what LuaJIT's FFI needs to call sigv4_sign
 * invite.sigv4 (lua/invite/sigv4.lua) is the documented face of these.
 *
 * The signer state (sigv4_ctx: the signing-key cache with its HMAC
 * starting states) lives in one userdata that every function gets as
 * upvalue 1 - no C globals - and its __gc wipes and frees it. Upvalue 2 holds
 * the names of the headers the signer adds, as Lua strings. Upvalue 3 is the
 * output arena sigv4_sign() writes into: a plain Lua userdata, so no malloc'd
 * buffer exists at all and nothing can leak.
 *
 * Memory and longjmp: sign() first reads and checks every argument (the only
 * part that may raise), keeping each string it uses on the Lua stack so no
 * finaliser can free it; then signs in C with no Lua call; then pushes the
 * results. When a session token was signed, the part of the arena that held
 * it is wiped before returning.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <lua.h>
#include <lauxlib.h>

#include "compat.h"
#include "sigv4_binding.h"
#include "sigv4.h"

#define SIGV4_BINDING_STATE_MT "invite.sigv4.state"
#define SIGV4_BINDING_ERROR_MT "invite.sigv4.error"
#define SIGV4_BINDING_ARENA_MIN 8192u
#define SIGV4_BINDING_ARENA_MAX (16u << 20) /* far above what the input limits can need */
#define SIGV4_BINDING_ARENA_KEEP (64u << 10) /* a larger arena is replaced after the call */
#define SIGV4_BINDING_ARENA lua_upvalueindex(3)
#define SIGV4_BINDING_FN "invite.sigv4.sign"

typedef struct sigv4_binding_state {
    sigv4_ctx *ctx;
} sigv4_binding_state;

static sigv4_binding_state *sigv4_binding_state_of(lua_State *L)
{
    sigv4_binding_state *st = (sigv4_binding_state *)lua_touserdata(L, lua_upvalueindex(1));
    if (st == NULL || st->ctx == NULL)
        luaL_error(L, "invite.sigv4: signer state is gone");
    return st;
}

/* __gc: idempotent; sigv4_ctx_free wipes the key cache. */
static int sigv4_binding_gc(lua_State *L)
{
    sigv4_binding_state *st = (sigv4_binding_state *)luaL_checkudata(L, 1, SIGV4_BINDING_STATE_MT);
    sigv4_ctx_free(st->ctx);
    st->ctx = NULL;
    return 0;
}

/* Replaces the arena (upvalue 3) with a new one of cap bytes; may raise
 * (out of memory) but holds nothing that could leak. */
static char *sigv4_binding_new_arena(lua_State *L, size_t cap)
{
    char *p = (char *)lua_newuserdata(L, cap);
    lua_replace(L, SIGV4_BINDING_ARENA);
    return p;
}

/* ---- argument reading (may raise) ---------------------------------------- */

/* sigv4_sign takes sign()'s options as positional arguments, in this order
 * (lua/invite/sigv4.lua reads the fields: field access is far cheaper in the
 * Lua VM than lua_getfield from C, and it honours __index). */
enum {
    SIGV4_BINDING_A_METHOD = 1, SIGV4_BINDING_A_PATH, SIGV4_BINDING_A_QUERY, SIGV4_BINDING_A_HEADERS,
    SIGV4_BINDING_A_BODY, SIGV4_BINDING_A_ACCESS_KEY, SIGV4_BINDING_A_SECRET_KEY,
    SIGV4_BINDING_A_SESSION_TOKEN, SIGV4_BINDING_A_REGION, SIGV4_BINDING_A_SERVICE, SIGV4_BINDING_A_TIME,
    SIGV4_BINDING_A_NORMALIZE_PATH, SIGV4_BINDING_A_ENCODE_PATH, SIGV4_BINDING_A_PRESIGN,
    SIGV4_BINDING_A_EXPIRES, SIGV4_BINDING_A_OMIT_SESSION_TOKEN, SIGV4_BINDING_A_SIGN_BODY,
    SIGV4_BINDING_A_PAYLOAD_HASH, SIGV4_BINDING_A_AMZ_DATE, SIGV4_BINDING_A_SIGNED_HEADERS,
    SIGV4_BINDING_A_HEADERS_ONLY, SIGV4_BINDING_A__COUNT
};

static const char *const sigv4_binding_field[SIGV4_BINDING_A__COUNT] = {
    NULL, "method", "path", "query", "headers", "body", "access_key", "secret_key",
    "session_token", "region", "service", "time", "normalize_path", "encode_path", "presign",
    "expires", "omit_session_token", "sign_body", "payload_hash", "amz_date", "signed_headers",
    "headers_only",
};

/* Raises "<where>invite.sigv4.sign: field 'x' must be ... (got T)" at the
 * caller of sign(), as error(msg, 2) would: level 1 is the Lua wrapper in
 * lua/invite/sigv4.lua, level 2 the code that called it. */
static int sigv4_binding_typeerror(lua_State *L, int arg, const char *expected)
{
    luaL_where(L, 2);
    lua_pushfstring(L, SIGV4_BINDING_FN ": field '%s' must be %s (got %s)", sigv4_binding_field[arg],
                    expected, luaL_typename(L, arg));
    lua_concat(L, 2);
    return lua_error(L);
}

static void sigv4_binding_str(lua_State *L, int arg, sigv4_str *out, int required)
{
    int t = lua_type(L, arg);
    if (t == LUA_TSTRING) {
        size_t len = 0;
        out->ptr = lua_tolstring(L, arg, &len);
        out->len = len;
        return;
    }
    out->ptr = NULL;
    out->len = 0;
    if (t != LUA_TNIL || required)
        sigv4_binding_typeerror(L, arg, required ? "a string" : "a string or nil");
}

static int sigv4_binding_bool(lua_State *L, int arg, int dflt)
{
    int t = lua_type(L, arg);
    if (t == LUA_TBOOLEAN)
        return lua_toboolean(L, arg);
    if (t != LUA_TNIL)
        sigv4_binding_typeerror(L, arg, "a boolean or nil");
    return dflt;
}

/* a number argument (nil: *present = 0) */
static lua_Number sigv4_binding_num(lua_State *L, int arg, int *present)
{
    int t = lua_type(L, arg);
    *present = t == LUA_TNUMBER;
    if (t == LUA_TNUMBER)
        return lua_tonumber(L, arg);
    if (t != LUA_TNIL)
        sigv4_binding_typeerror(L, arg, "a number or nil");
    return 0;
}

static void sigv4_binding_header_error(lua_State *L, const char *what, int i, int idx)
{
    luaL_where(L, 2);
    lua_pushfstring(L, SIGV4_BINDING_FN ": headers[%d]%s (got %s)", i, what, luaL_typename(L, idx));
    lua_concat(L, 2);
    lua_error(L);
}

/* The headers argument: a list of {name, value} pairs. Each pair, its name
 * and its value are pushed onto the stack (3 slots per header, from *base),
 * which keeps them alive whatever happens to the tables (a finaliser could
 * run at any allocation), and lets out.headers hand back the very same pair
 * for a header passed through unchanged. Returns the count, or SIZE_MAX when
 * there are more than the signer accepts (a runtime error, not misuse). */
static size_t sigv4_binding_headers(lua_State *L, sigv4_header *hdr, int *base)
{
    size_t n, i;
    int t = lua_type(L, SIGV4_BINDING_A_HEADERS);
    *base = lua_gettop(L) + 1;
    if (t == LUA_TNIL)
        return 0;
    if (t != LUA_TTABLE)
        sigv4_binding_typeerror(L, SIGV4_BINDING_A_HEADERS, "a list of {name, value} pairs");
    n = (size_t)lua_rawlen(L, SIGV4_BINDING_A_HEADERS);
    if (n > SIGV4_MAX_HEADERS)
        return (size_t)-1;
    luaL_checkstack(L, (int)(3 * n + 24), "too many headers");
    for (i = 0; i < n; i++) {
        size_t len = 0;
        int top = lua_gettop(L);
        lua_rawgeti(L, SIGV4_BINDING_A_HEADERS, (int)i + 1);
        if (lua_type(L, top + 1) != LUA_TTABLE)
            sigv4_binding_header_error(L, " must be a {name, value} pair", (int)i + 1, top + 1);
        lua_rawgeti(L, top + 1, 1);
        lua_rawgeti(L, top + 1, 2);
        if (lua_type(L, top + 2) != LUA_TSTRING)
            sigv4_binding_header_error(L, "[1] (name) must be a string", (int)i + 1, top + 2);
        t = lua_type(L, top + 3);
        if (t != LUA_TSTRING && t != LUA_TNUMBER)
            sigv4_binding_header_error(L, "[2] (value) must be a string", (int)i + 1, top + 3);
        hdr[i].name = lua_tolstring(L, top + 2, &len);
        hdr[i].name_len = len;
        hdr[i].value = lua_tolstring(L, top + 3, &len); /* a number becomes a string in its slot */
        hdr[i].value_len = len;
        if (t == LUA_TNUMBER) {
            /* out.headers gets a new pair with the string, not this one */
            lua_pushboolean(L, 0);
            lua_replace(L, top + 1);
        }
    }
    return n;
}

/* ---- results --------------------------------------------------------------- */

/* nil, err where err = {code, message, reason, field, index, retryable} with
 * a __tostring. The message names the field and the rule, never a value. */
static int sigv4_binding_push_error(lua_State *L, int rc, const char *field, size_t index)
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
    luaL_getmetatable(L, SIGV4_BINDING_ERROR_MT);
    lua_setmetatable(L, -2);
    return 2;
}

static int sigv4_binding_error_tostring(lua_State *L)
{
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_pushfstring(L, "%s: %s", lua_isstring(L, -2) ? lua_tostring(L, -2) : "Error",
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    return 1;
}

static void sigv4_binding_pushstr(lua_State *L, sigv4_str s)
{
    lua_pushlstring(L, s.ptr, s.len);
}

/* ---- sign -------------------------------------------------------------------- */

/* sigv4_sign(method, path, query, headers, body, access_key, secret_key,
 *            session_token, region, service, time, normalize_path, encode_path,
 *            presign, expires, omit_session_token, sign_body, payload_hash,
 *            amz_date, signed_headers, headers_only)
 * -> canonical_request, string_to_sign, signature, authorization|nil,
 *    headers|nil, query, signed_headers, credential_scope, amz_date
 * | nil, err
 * headers_only (the client pipeline's signing): canonical_request,
 * string_to_sign, signed_headers, credential_scope and amz_date come back
 * nil - five strings fewer to create per request. */
static int sigv4_binding_sign(lua_State *L)
{
    sigv4_binding_state *st = sigv4_binding_state_of(L);
    sigv4_header hdr[SIGV4_MAX_HEADERS];
    sigv4_request req;
    sigv4_result res;
    lua_Number num;
    char *arena;
    int present, base = 0, rc, r0, headers_only;
    size_t nh, cap;

    /* 1. arguments: everything that may raise happens here */
    lua_settop(L, SIGV4_BINDING_A__COUNT - 1);
    memset(&req, 0, sizeof req);
    sigv4_binding_str(L, SIGV4_BINDING_A_METHOD, &req.method, 1);
    sigv4_binding_str(L, SIGV4_BINDING_A_PATH, &req.path, 0);
    sigv4_binding_str(L, SIGV4_BINDING_A_QUERY, &req.query, 0);
    sigv4_binding_str(L, SIGV4_BINDING_A_BODY, &req.body, 0);
    sigv4_binding_str(L, SIGV4_BINDING_A_ACCESS_KEY, &req.access_key, 1);
    sigv4_binding_str(L, SIGV4_BINDING_A_SECRET_KEY, &req.secret_key, 1);
    sigv4_binding_str(L, SIGV4_BINDING_A_SESSION_TOKEN, &req.session_token, 0);
    sigv4_binding_str(L, SIGV4_BINDING_A_REGION, &req.region, 1);
    sigv4_binding_str(L, SIGV4_BINDING_A_SERVICE, &req.service, 1);
    sigv4_binding_str(L, SIGV4_BINDING_A_PAYLOAD_HASH, &req.payload_hash, 0);
    sigv4_binding_str(L, SIGV4_BINDING_A_AMZ_DATE, &req.amz_date, 0);
    sigv4_binding_str(L, SIGV4_BINDING_A_SIGNED_HEADERS, &req.signed_headers, 0);
    if (req.path.ptr == NULL) {
        req.path.ptr = "/";
        req.path.len = 1;
    }

    num = sigv4_binding_num(L, SIGV4_BINDING_A_TIME, &present);
    if (!present)
        req.time = (int64_t)time(NULL);
    else if (num >= 0 && num <= (lua_Number)SIGV4_MAX_TIME) /* also false for NaN */
        req.time = (int64_t)floor(num);
    else
        req.time = -1; /* refused by the signer: nil, err */

    num = sigv4_binding_num(L, SIGV4_BINDING_A_EXPIRES, &present);
    if (!present)
        req.expires = 3600;
    else if (num >= 1 && num <= (lua_Number)SIGV4_MAX_EXPIRES && num == floor(num))
        req.expires = (long)num;
    else
        req.expires = -1;

    if (sigv4_binding_bool(L, SIGV4_BINDING_A_NORMALIZE_PATH, 1))
        req.flags |= SIGV4_NORMALIZE_PATH;
    if (!sigv4_binding_bool(L, SIGV4_BINDING_A_ENCODE_PATH, 1))
        req.flags |= SIGV4_RAW_PATH;
    if (sigv4_binding_bool(L, SIGV4_BINDING_A_PRESIGN, 0))
        req.flags |= SIGV4_PRESIGN;
    if (sigv4_binding_bool(L, SIGV4_BINDING_A_OMIT_SESSION_TOKEN, 0))
        req.flags |= SIGV4_OMIT_SESSION_TOKEN;
    if (sigv4_binding_bool(L, SIGV4_BINDING_A_SIGN_BODY, 0))
        req.flags |= SIGV4_SIGN_BODY;
    headers_only = sigv4_binding_bool(L, SIGV4_BINDING_A_HEADERS_ONLY, 0);

    nh = sigv4_binding_headers(L, hdr, &base);
    if (nh == (size_t)-1)
        return sigv4_binding_push_error(L, SIGV4_E_TOO_LARGE, "headers", 0);
    req.headers = hdr;
    req.nheaders = nh;

    /* 2. sign: pure C, no Lua calls; grow the arena while it is too small
     * (a failed sigv4_sign has already wiped what it wrote) */
    arena = (char *)lua_touserdata(L, SIGV4_BINDING_ARENA);
    cap = (size_t)lua_rawlen(L, SIGV4_BINDING_ARENA);
    for (;;) {
        rc = sigv4_sign(st->ctx, &req, &res, arena, cap);
        if (rc != SIGV4_E_BUFFER)
            break;
        if (cap >= SIGV4_BINDING_ARENA_MAX)
            return sigv4_binding_push_error(L, SIGV4_E_TOO_LARGE, "request", 0);
        cap *= 2;
        arena = sigv4_binding_new_arena(L, cap);
    }
    if (rc != SIGV4_OK)
        return sigv4_binding_push_error(L, rc, res.err_field, res.err_index);

    /* 3. results (may raise out of memory: nothing to free) */
    luaL_checkstack(L, 16, "sigv4 results");
    r0 = lua_gettop(L) + 1;
    if (headers_only) {                       /* r0, r0 + 1 */
        lua_pushnil(L);
        lua_pushnil(L);
    } else {
        sigv4_binding_pushstr(L, res.canonical_request);
        sigv4_binding_pushstr(L, res.string_to_sign);
    }
    sigv4_binding_pushstr(L, res.signature);         /* r0 + 2 */
    if (res.authorization.len > 0)            /* r0 + 3 */
        sigv4_binding_pushstr(L, res.authorization);
    else
        lua_pushnil(L);
    if (req.signed_headers.ptr == NULL) {     /* r0 + 4 */
        size_t i;
        lua_createtable(L, (int)res.nheaders, 0);
        for (i = 0; i < res.nheaders; i++) {
            const sigv4_out_header *o = &res.headers[i];
            int slot = o->src != SIGV4_NO_SRC ? base + 3 * (int)o->src : 0;
            if (slot != 0 && !o->value_changed && lua_istable(L, slot)) {
                /* passed through unchanged: the caller's own pair */
                lua_pushvalue(L, slot);
                lua_rawseti(L, -2, (int)i + 1);
                continue;
            }
            lua_createtable(L, 2, 0);
            if (slot != 0) {
                lua_pushvalue(L, slot + 1);
                lua_rawseti(L, -2, 1);
                if (o->value_changed)
                    lua_pushlstring(L, o->value, o->value_len);
                else
                    lua_pushvalue(L, slot + 2);
            } else {
                lua_rawgeti(L, lua_upvalueindex(2), o->added); /* the header's name */
                lua_rawseti(L, -2, 1);
                if (o->added == SIGV4_ADDED_AUTHORIZATION)
                    lua_pushvalue(L, r0 + 3);
                else if (o->added == SIGV4_ADDED_TOKEN)
                    lua_pushvalue(L, SIGV4_BINDING_A_SESSION_TOKEN);
                else
                    lua_pushlstring(L, o->value, o->value_len);
            }
            lua_rawseti(L, -2, 2);
            lua_rawseti(L, -2, (int)i + 1);
        }
    } else {
        lua_pushnil(L);
    }
    if (res.query.ptr != NULL)                /* r0 + 5 */
        sigv4_binding_pushstr(L, res.query);
    else if (lua_isnil(L, SIGV4_BINDING_A_QUERY))    /* header signing: the query as given */
        lua_pushliteral(L, "");
    else
        lua_pushvalue(L, SIGV4_BINDING_A_QUERY);
    if (headers_only) {                       /* r0 + 6 .. r0 + 8 */
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
    } else {
        sigv4_binding_pushstr(L, res.signed_headers);
        sigv4_binding_pushstr(L, res.credential_scope);
        sigv4_binding_pushstr(L, res.amz_date);
    }
    if (req.session_token.len > 0)
        OPENSSL_cleanse(arena, res.buf_used); /* canonical request / query held the token */
    if (cap > SIGV4_BINDING_ARENA_KEEP) {
        sigv4_binding_new_arena(L, SIGV4_BINDING_ARENA_MIN); /* let the big one go */
    }
    return 9;
}

/* sha256_hex(s) -> hex digest of s. */
static int sigv4_binding_sha256_hex(lua_State *L)
{
    sigv4_binding_state *st = sigv4_binding_state_of(L);
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[65];
    int rc = sigv4_sha256_hex(st->ctx, s, len, hex);
    if (rc != SIGV4_OK)
        return sigv4_binding_push_error(L, rc, NULL, 0);
    lua_pushlstring(L, hex, 64);
    return 1;
}

/* equal(a, b) -> boolean; compares in time independent of the content. */
static int sigv4_binding_equal(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen);
    const char *b = luaL_checklstring(L, 2, &blen);
    lua_pushboolean(L, sigv4_equal(a, alen, b, blen));
    return 1;
}

/* The LuaJIT FFI path of lua/invite/sigv4.lua calls sigv4_sign through this
 * pointer, on this binding's state, with its own arena (an FFI buffer). */
static int sigv4_binding_ffi_sign(void *ctx, const sigv4_request *req, sigv4_result *res, char *buf,
                                  size_t cap)
{
    return sigv4_sign((sigv4_ctx *)ctx, req, res, buf, cap);
}

/* sigv4_ffi() -> ctx, sign, layout: for LuaJIT's FFI. ctx is the signer
 * state's sigv4_ctx and sign the address of sigv4_binding_ffi_sign (light
 * userdata; no symbol is exported for them). The state lives as long as
 * invite.core (it is every core function's upvalue 1). layout lists the
 * sizes and offsets of the sigv4.h structs the FFI declares, so a mismatch
 * turns the FFI path off instead of corrupting memory. */
static int sigv4_binding_ffi(lua_State *L)
{
    sigv4_binding_state *st = sigv4_binding_state_of(L);
    int (*fn)(void *, const sigv4_request *, sigv4_result *, char *, size_t) = sigv4_binding_ffi_sign;
    void *addr = NULL;
    /* the function's address as an object pointer (POSIX guarantees they
     * have the same size and representation, as dlsym needs) */
    /* cppcheck-suppress duplicateValueTernary ; both sizes are 8 on this ABI, the min() is for others */
    memcpy(&addr, &fn, sizeof addr < sizeof fn ? sizeof addr : sizeof fn);
    lua_pushlightuserdata(L, st->ctx);
    lua_pushlightuserdata(L, addr);
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, (lua_Integer)sizeof(sigv4_header));
    lua_setfield(L, -2, "header");
    lua_pushinteger(L, (lua_Integer)sizeof(sigv4_request));
    lua_setfield(L, -2, "request");
    lua_pushinteger(L, (lua_Integer)offsetof(sigv4_request, signed_headers));
    lua_setfield(L, -2, "request_signed_headers");
    lua_pushinteger(L, (lua_Integer)sizeof(sigv4_out_header));
    lua_setfield(L, -2, "out_header");
    lua_pushinteger(L, (lua_Integer)offsetof(sigv4_out_header, added));
    lua_setfield(L, -2, "out_header_added");
    lua_pushinteger(L, (lua_Integer)sizeof(sigv4_result));
    lua_setfield(L, -2, "result");
    lua_pushinteger(L, (lua_Integer)offsetof(sigv4_result, buf_used));
    lua_setfield(L, -2, "result_buf_used");
    lua_pushinteger(L, (lua_Integer)SIGV4_MAX_HEADERS);
    lua_setfield(L, -2, "max_headers");
    return 3;
}

static int sigv4_binding_cache_stats(lua_State *L)
{
    sigv4_binding_state *st = sigv4_binding_state_of(L);
    unsigned long hits = 0, misses = 0;
    sigv4_cache_stats(st->ctx, &hits, &misses);
    lua_pushinteger(L, (lua_Integer)hits);
    lua_pushinteger(L, (lua_Integer)misses);
    return 2;
}

void sigv4_binding_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"sigv4_sign", sigv4_binding_sign},
        {"sigv4_sha256_hex", sigv4_binding_sha256_hex},
        {"sigv4_equal", sigv4_binding_equal},
        {"sigv4_cache_stats", sigv4_binding_cache_stats},
        {"sigv4_ffi", sigv4_binding_ffi},
        {NULL, NULL},
    };
    sigv4_binding_state *st;

    if (luaL_newmetatable(L, SIGV4_BINDING_ERROR_MT)) {
        lua_pushcfunction(L, sigv4_binding_error_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);

    /* the userdata and its metatable exist before the resource: if creating
     * the context fails, the collector still sees a consistent object */
    st = (sigv4_binding_state *)lua_newuserdata(L, sizeof *st);
    st->ctx = NULL;
    if (luaL_newmetatable(L, SIGV4_BINDING_STATE_MT)) {
        lua_pushcfunction(L, sigv4_binding_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    st->ctx = sigv4_ctx_new();
    if (st->ctx == NULL)
        luaL_error(L, "invite.sigv4: out of memory for the signer state");
    /* upvalue 2: the names of the headers the signer adds, by SIGV4_ADDED_* */
    lua_createtable(L, 4, 0);
    lua_pushliteral(L, "X-Amz-Date");
    lua_rawseti(L, -2, SIGV4_ADDED_DATE);
    lua_pushliteral(L, "X-Amz-Security-Token");
    lua_rawseti(L, -2, SIGV4_ADDED_TOKEN);
    lua_pushliteral(L, "X-Amz-Content-Sha256");
    lua_rawseti(L, -2, SIGV4_ADDED_CONTENT_SHA256);
    lua_pushliteral(L, "Authorization");
    lua_rawseti(L, -2, SIGV4_ADDED_AUTHORIZATION);
    /* upvalue 3: the output arena (only sigv4_sign uses it) */
    lua_newuserdata(L, SIGV4_BINDING_ARENA_MIN);
    luaL_setfuncs(L, funcs, 3); /* pops all three: every function's upvalues */
}
