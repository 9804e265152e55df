# tests/integration/local.mk - integration tests with real MTAs and clients (additive: TESTS += ...).
# postfix.py runs a private Postfix under a temp dir; tests needing it exit 77 (skip) without root/Postfix.
EXTRA_DIST += tests/integration/postfix.py

# postern-milter behind a real Postfix: reply lines, corpus, SIGHUP/SIGTERM, milter down.
TESTS += tests/integration/test_postfix_milter.py
EXTRA_DIST += tests/integration/test_postfix_milter.py
# It loads the engine's verdict.so test module to check RCPT replies and '%' escaping.
tests/integration/test_postfix_milter.log: milter/postern-milter tests/unit/modules/verdict.so

# postern-milter behind a real Sendmail 8 (unpacked from the packages install-deps.sh
# downloads), configured with contrib/sendmail/postern.mc: corpus, queue id, milter down.
TESTS += tests/integration/test_sendmail_milter.py
EXTRA_DIST += tests/integration/test_sendmail_milter.py tests/integration/sendmail.py
tests/integration/test_sendmail_milter.log: milter/postern-milter

# --- frontend integration tests: the real postern-smtpd
# driven by Python smtplib/ssl, raw sockets, swaks and gnutls-cli (harness:
# tests/integration/smtpd.py; dialog scripts: tests/integration/dialogs/).
# Each script prints "N passed, M failed"; exit 77 (SKIP) only when the daemon is not built.
TESTS += \
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
	tests/integration/test_smtpd_proxy.py \
	tests/integration/test_systemd.py \
	tests/integration/test_smtpd_metrics.py \
	tests/integration/test_smtpd_logs.py

EXTRA_DIST += \
	tests/integration/test_smtpd_logs.py \
	tests/integration/test_smtpd_metrics.py \
	tests/integration/test_smtpd_proxy.py \
	tests/integration/test_systemd.py \
	tests/integration/smtpd.py \
	tests/integration/dialogs \
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
	tests/integration/test_smtpd_security.py
