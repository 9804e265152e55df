# tests/integration/smtpd.mk
