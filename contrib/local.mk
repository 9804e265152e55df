# contrib/local.mk - attaching the milter to Postfix and Sendmail, and systemd units (shipped, not installed).
EXTRA_DIST += \
	contrib/postfix/README.md contrib/postfix/main.cf.snippet \
	contrib/sendmail/README.md contrib/sendmail/postern.mc \
	contrib/systemd/postern-milter.service contrib/systemd/postern-smtpd.service \
	contrib/systemd/postern-relay.service
