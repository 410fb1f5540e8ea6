/* Preloaded after libasan/libubsan into the lua5.4 that runs the specs (check/30-asan.t): removes
 * LD_PRELOAD from the process environment once the sanitizer runtimes are loaded, so commands the
 * specs start (sh, find, sort, python3, the simulator...) run uninstrumented. Without it a leak
 * in /usr/bin/sort (8 bytes at exit) makes LeakSanitizer abort that child. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

__attribute__((constructor)) static void asan_children_unset_preload(void)
{
    unsetenv("LD_PRELOAD");
}
