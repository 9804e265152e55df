# contrib/local.mk - attaching the milter to Postfix and Sendmail, and systemd units (shipped, not installed).
EXTRA_DIST += \
	contrib/postfix/README.md contrib/postfix/main.cf.snippet \
	contrib/sendmail/README.md contrib/sendmail/postern.mc \
	contrib/systemd/postern-milter.service contrib/systemd/postern-smtpd.service \
	contrib/systemd/postern-smtpd.socket contrib/systemd/postern-smtpd-tls.socket \
	contrib/systemd/postern.tmpfiles \
	contrib/haproxy/haproxy.cfg contrib/prometheus/postern.rules.yml

# --- the example policy module, built out of tree against the installed API.
EXTRA_DIST += contrib/example-module/subjectfilter.c contrib/example-module/Makefile \
	contrib/example-module/README.md
TESTS += tests/integration/test_example_module.sh
dist_check_SCRIPTS += tests/integration/test_example_module.sh
