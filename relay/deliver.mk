# relay/deliver.mk - the relay's delivery client (relay/deliver.h) as a library, its unit tests, fuzz replay and test tool.
#
# postern-relay (relay/local.mk) links relay/libdeliver.a; the tests link the very same objects.
noinst_LIBRARIES += relay/libdeliver.a
relay_libdeliver_a_SOURCES = \
	relay/deliver.h relay/hop_int.h \
	relay/hop.c \
	relay/hop_addr.c relay/hop_addr.h \
	relay/hop_resolve.c relay/hop_resolve.h \
	relay/hop_auth.c relay/hop_auth.h \
	relay/smtp_client.c relay/smtp_client_io.c relay/smtp_client_tx.c \
	relay/smtp_reply.c relay/smtp_reply.h \
	relay/dotstuff.c relay/dotstuff.h \
	relay/client_tls.c relay/client_tls.h \
	relay/deliver_reason.c relay/deliver_reason.h
relay_libdeliver_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS)
DELIVER_LIBS = relay/libdeliver.a $(POSTERN_LIBS) $(LIBEVENT_LIBS) $(GNUTLS_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_relay_reply tests/unit/test_relay_dotstuff tests/unit/test_relay_hop_addr \
	tests/unit/test_relay_hop
TESTS += tests/unit/test_relay_reply tests/unit/test_relay_dotstuff tests/unit/test_relay_hop_addr \
	tests/unit/test_relay_hop
RELAY_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS) -I$(top_srcdir)/relay
tests_unit_test_relay_reply_SOURCES = tests/unit/test_relay_reply.c
tests_unit_test_relay_reply_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_reply_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_dotstuff_SOURCES = tests/unit/test_relay_dotstuff.c
tests_unit_test_relay_dotstuff_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_dotstuff_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_hop_addr_SOURCES = tests/unit/test_relay_hop_addr.c
tests_unit_test_relay_hop_addr_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_hop_addr_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_hop_SOURCES = tests/unit/test_relay_hop.c
tests_unit_test_relay_hop_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_hop_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
endif

# The reply/EHLO parser's fuzz seeds replay under gcc in make check.
check_PROGRAMS += tests/fuzz/regress_smtp_reply
TESTS += tests/fuzz/regress_smtp_reply
tests_fuzz_regress_smtp_reply_SOURCES = tests/fuzz/fuzz_smtp_reply.c tests/fuzz/standalone.c
tests_fuzz_regress_smtp_reply_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/relay \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/smtp_reply"'
tests_fuzz_regress_smtp_reply_LDADD = $(DELIVER_LIBS)

# ... and the relay_auth_file parser's.
check_PROGRAMS += tests/fuzz/regress_relay_auth
TESTS += tests/fuzz/regress_relay_auth
tests_fuzz_regress_relay_auth_SOURCES = tests/fuzz/fuzz_relay_auth.c tests/fuzz/standalone.c
tests_fuzz_regress_relay_auth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/relay \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/relay_auth"'
tests_fuzz_regress_relay_auth_LDADD = $(DELIVER_LIBS)

# relay_deliver_tool: one relay_hop_deliver() from the command line, for the integration tests.
check_PROGRAMS += tests/relay/relay_deliver_tool
tests_relay_relay_deliver_tool_SOURCES = tests/relay/relay_deliver_tool.c
tests_relay_relay_deliver_tool_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) -I$(top_srcdir)/relay
tests_relay_relay_deliver_tool_LDADD = $(DELIVER_LIBS)

# The delivery client against a scripted SMTP/LMTP next hop (tests/integration/relay_hop.py).
TESTS += tests/integration/test_relay_deliver.py
EXTRA_DIST += tests/integration/test_relay_deliver.py tests/integration/relay_hop.py
tests/integration/test_relay_deliver.log: tests/relay/relay_deliver_tool

# ... and against a private Postfix: byte-identical delivery, STARTTLS encrypt/verify, Cyrus SASL AUTH.
TESTS += tests/integration/test_relay_postfix.py
EXTRA_DIST += tests/integration/test_relay_postfix.py
tests/integration/test_relay_postfix.log: tests/relay/relay_deliver_tool
