# tests/integration/smtpd.mk - frontend integration tests: the real postern-smtpd
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
	tests/integration/test_smtpd_rspamd.py

EXTRA_DIST += \
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
	tests/integration/test_smtpd_rspamd.py
