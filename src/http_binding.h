/* http_binding.h - the Lua binding of the curl engine (curl_engine.c). */
#ifndef INVITE_HTTP_BINDING_H
#define INVITE_HTTP_BINDING_H
#include <lua.h>
/* Adds the transport's functions (http_new) to the table on top of the stack. */
void http_binding_open(lua_State *L);
#endif
