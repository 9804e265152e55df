/* verdict2.c - the verdict test module under a second name, without reload() (teardown + init on SIGHUP). */
#define MODNAME "verdicttwo"
#define NO_RELOAD 1
#include "verdict.c"
