/* sigv4_binding.h - Lua binding of the pure C signer (sigv4.c). */
#ifndef INVITE_SIGV4_BINDING_H
#define INVITE_SIGV4_BINDING_H
#include <lua.h>
/* Adds the signer's functions to the table on top of the stack. */
void sigv4_binding_open(lua_State *L);
#endif
