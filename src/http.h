/* http.h - libcurl transport exposed to Lua. */
#ifndef INVITE_HTTP_H
#define INVITE_HTTP_H
#include <lua.h>
/* Adds the transport's functions to the table on top of the stack. */
void http_open(lua_State *L);
#endif
