# tests/integration/local.mk - integration tests with real MTAs and clients (additive: TESTS += ...).
# postfix.py runs a private Postfix under a temp dir; tests needing it exit 77 (skip) without root/Postfix.
EXTRA_DIST += tests/integration/postfix.py

# postern-milter behind a real Postfix: reply lines, corpus, SIGHUP/SIGTERM, milter down.
TESTS += tests/integration/test_postfix_milter.py
EXTRA_DIST += tests/integration/test_postfix_milter.py
# It loads the engine's verdict.so test module to check RCPT replies and '%' escaping.
tests/integration/test_postfix_milter.log: milter/postern-milter tests/unit/modules/verdict.so \
	tests/unit/modules/blockdomain.so
# The same suite over a unix socket made with milter_socket_mode/milter_socket_group.
TESTS += tests/integration/test_postfix_milter_unix.sh
EXTRA_DIST += tests/integration/test_postfix_milter_unix.sh
tests/integration/test_postfix_milter_unix.log: milter/postern-milter tests/unit/modules/verdict.so \
	tests/unit/modules/blockdomain.so

# postern-milter behind a real Sendmail 8 (unpacked from the packages install-deps.sh
# downloads), configured with contrib/sendmail/postern.mc: corpus, queue id, milter down.
TESTS += tests/integration/test_sendmail_milter.py
EXTRA_DIST += tests/integration/test_sendmail_milter.py tests/integration/sendmail.py
tests/integration/test_sendmail_milter.log: milter/postern-milter

# --- frontend integration tests: the real postern-smtpd
# driven by Python smtplib/ssl, raw sockets, swaks and gnutls-cli (harness:
# tests/integration/smtpd.py; dialog scripts: tests/integration/dialogs/).
# Each script prints "N passed, M failed"; exit 77 (SKIP) only when the daemon is not built.
SMTPD_SUITES = \
	tests/integration/test_smtpd_dialogs.py \
	tests/integration/test_smtpd_replies.py \
	tests/integration/test_smtpd_auth.py \
	tests/integration/test_smtpd_tls.py \
	tests/integration/test_smtpd_limits.py \
	tests/integration/test_smtpd_config.py \
	tests/integration/test_smtpd_data.py \
	tests/integration/test_smtpd_bdat.py \
	tests/integration/test_smtpd_spool.py \
	tests/integration/test_smtpd_memory.py \
	tests/integration/test_smtpd_milter.py \
	tests/integration/test_smtpd_rspamd.py \
	tests/integration/test_smtpd_security.py \
	tests/integration/test_smtpd_faults.py \
	tests/integration/test_smtpd_proxy.py \
	tests/integration/test_systemd.py \
	tests/integration/test_smtpd_metrics.py \
	tests/integration/test_smtpd_logs.py
TESTS += $(SMTPD_SUITES)
EXTRA_DIST += tests/integration/smtpd.py tests/integration/dialogs $(SMTPD_SUITES)

# The per-recipient test compares the live milter with postern-check, with the blockdomain module.
tests/integration/test_smtpd_milter.log: tools/postern-check tests/unit/modules/blockdomain.so

# The Quick start and the test script stay out of each other's way; the Quick start
# installs no test tool (scripts/, issues 19.5, 19.6, 22.4).
TESTS += tests/integration/test_scripts.sh
dist_check_SCRIPTS += tests/integration/test_scripts.sh
