/* nosym.c - test module without the postern_policy_module symbol: the loader must refuse it. */
int postern_not_a_policy = 1;
