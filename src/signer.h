/* signer.h - Lua binding of the pure C signer (sigv4.c). */
#ifndef INVITE_SIGNER_H
#define INVITE_SIGNER_H
#include <lua.h>
/* Adds the signer's functions to the table on top of the stack. */
void signer_open(lua_State *L);
#endif
