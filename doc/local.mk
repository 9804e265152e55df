# doc/local.mk - the manual pages (roff, man(7) macros), and the test that keeps them formatted and in line with the code.
dist_man_MANS += doc/postern-policy.3 doc/postern.conf.5 doc/postern-milter.8 \
	doc/postern-smtpd.8 doc/postern-spool.5 doc/postern-check.1 doc/postern-passwd.1 \
	doc/postern-relay.8 doc/postern-queue.1
# Every page formats without groff warnings and every postern_* function is documented
# (the config keys against the parser: tests/unit/test_config_doc.c, tests/local.mk).
TESTS += tests/integration/test_man.sh
dist_check_SCRIPTS += tests/integration/test_man.sh
