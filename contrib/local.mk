# contrib/local.mk - Postfix and Sendmail notes, and what make install adds for a system that starts:
# the sample postern.conf, the systemd units (paths from configure), the directories, the README.
EXTRA_DIST += \
	contrib/postfix/README.md contrib/postfix/main.cf.snippet \
	contrib/sendmail/README.md contrib/sendmail/postern.mc \
	contrib/systemd/postern-milter.service.in contrib/systemd/postern-smtpd.service.in \
	contrib/systemd/postern-relay.service.in contrib/postern.conf.in \
	contrib/systemd/postern-smtpd.socket contrib/systemd/postern-smtpd-tls.socket \
	contrib/systemd/postern-milter.socket.in contrib/systemd/postern.tmpfiles.in \
	contrib/haproxy/haproxy.cfg contrib/prometheus/postern.rules.yml

# Made at make time, not by configure: the directories must be expanded (${prefix} and all).
POSTERN_UNITS = contrib/systemd/postern-milter.service contrib/systemd/postern-smtpd.service \
	contrib/systemd/postern-relay.service contrib/systemd/postern-milter.socket
POSTERN_EDIT = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' -e 's|@runstatedir[@]|$(runstatedir)|g'
$(POSTERN_UNITS) contrib/systemd/postern.tmpfiles contrib/postern.conf: %: $(srcdir)/%.in Makefile
	@$(MKDIR_P) $(@D)
	$(AM_V_GEN)$(POSTERN_EDIT) $(srcdir)/$@.in > $@.tmp && mv $@.tmp $@
CLEANFILES += $(POSTERN_UNITS) contrib/systemd/postern.tmpfiles contrib/postern.conf
noinst_DATA = contrib/postern.conf
# Installed, not enabled: socket activation is the operator's choice.
POSTERN_SOCKETS = contrib/systemd/postern-smtpd.socket contrib/systemd/postern-smtpd-tls.socket
if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = $(POSTERN_UNITS) $(POSTERN_SOCKETS)
else
noinst_DATA += $(POSTERN_UNITS)
endif
# Its file name in tmpfiles.d is the package's: postern.conf.
if HAVE_TMPFILESDIR
install-data-local: contrib/systemd/postern.tmpfiles
	$(MKDIR_P) $(DESTDIR)$(tmpfilesdir)
	$(INSTALL_DATA) contrib/systemd/postern.tmpfiles $(DESTDIR)$(tmpfilesdir)/postern.conf
uninstall-local:
	rm -f $(DESTDIR)$(tmpfilesdir)/postern.conf
else
noinst_DATA += contrib/systemd/postern.tmpfiles
endif
dist_doc_DATA = README.md

# Directories and files that belong to the system, not to the package: made
# when missing, never replaced (an edited postern.conf or accounts file stays),
# given to the postern user when install runs as root and that user exists.
POSTERN_SPOOL = $(DESTDIR)$(localstatedir)/spool/postern
POSTERN_RUN = $(DESTDIR)$(runstatedir)/postern
POSTERN_ETC = $(DESTDIR)$(sysconfdir)/postern
install-data-hook: postern-install-system
postern-install-system: contrib/postern.conf
	$(MKDIR_P) $(POSTERN_ETC) $(DESTDIR)$(pkglibdir) $(POSTERN_SPOOL) $(POSTERN_RUN)
	chmod 0750 $(POSTERN_SPOOL) $(POSTERN_RUN)
	@if test -e $(POSTERN_ETC)/postern.conf; then \
		echo "keeping the existing $(POSTERN_ETC)/postern.conf (the sample: contrib/postern.conf)"; \
	else \
		echo " $(INSTALL_DATA) contrib/postern.conf $(POSTERN_ETC)/postern.conf"; \
		$(INSTALL_DATA) contrib/postern.conf $(POSTERN_ETC)/postern.conf; \
	fi
	@if test ! -e $(POSTERN_ETC)/accounts; then \
		echo " (umask 027; : > $(POSTERN_ETC)/accounts)"; \
		(umask 027; : > $(POSTERN_ETC)/accounts); \
	fi
	@if test "`id -u`" = 0 && getent passwd postern > /dev/null; then \
		echo " chown postern:postern $(POSTERN_SPOOL) $(POSTERN_RUN); chgrp postern $(POSTERN_ETC)/accounts"; \
		chown postern:postern $(POSTERN_SPOOL) $(POSTERN_RUN) && chgrp postern $(POSTERN_ETC)/accounts; \
	else \
		echo "note: not root or no postern user: give $(POSTERN_SPOOL) and $(POSTERN_RUN) to the postern user, and the group of $(POSTERN_ETC)/accounts"; \
	fi
.PHONY: postern-install-system

# --- the example policy module, built out of tree against the installed API.
EXTRA_DIST += contrib/example-module/subjectfilter.c contrib/example-module/Makefile \
	contrib/example-module/README.md
TESTS += tests/integration/test_example_module.sh
dist_check_SCRIPTS += tests/integration/test_example_module.sh

# The milter's macro request, main.cf.snippet, the README's table and postern-milter(8) agree.
TESTS += tests/integration/test_postfix_macros.py
EXTRA_DIST += tests/integration/test_postfix_macros.py

# make install into a private root: config, directories, units, README.
TESTS += tests/integration/test_install.sh
dist_check_SCRIPTS += tests/integration/test_install.sh
