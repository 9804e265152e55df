/* badname.c - test module with a name that cannot prefix config keys: the loader must refuse it. */
#define MODNAME "Bad_Name"
#include "verdict.c"
