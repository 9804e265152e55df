# contrib/example-module.mk - the example policy module, built out of tree against the installed API.
EXTRA_DIST += contrib/example-module/subjectfilter.c contrib/example-module/Makefile \
	contrib/example-module/README.md
TESTS += tests/integration/test_example_module.sh
dist_check_SCRIPTS += tests/integration/test_example_module.sh
