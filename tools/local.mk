# tools/local.mk - operator tools.
bin_PROGRAMS += tools/postern-passwd
tools_postern_passwd_SOURCES = tools/postern-passwd.c
tools_postern_passwd_LDADD = $(LIBCRYPT_LIBS)

# postern-check: the policy engine offline over .eml files; prints the verdict line the milter would send.
bin_PROGRAMS += tools/postern-check
tools_postern_check_SOURCES = tools/postern-check.c
tools_postern_check_CFLAGS = $(AM_CFLAGS)
# -rdynamic: modules loaded with dlopen() resolve the postern_* API from this executable.
tools_postern_check_LDFLAGS = $(AM_LDFLAGS) -rdynamic
tools_postern_check_LDADD = $(POLICY_LIBS)
# Golden corpus: one message per rule plus clean ones, shared with the Postfix tests.
TESTS += tests/integration/test_check_corpus.sh
dist_check_SCRIPTS += tests/integration/test_check_corpus.sh
# postern-queue: reads the relay's queue files, writes requests into ctl/ (relay/ctl.h).
bin_PROGRAMS += tools/postern-queue
tools_postern_queue_SOURCES = tools/postern-queue.c
tools_postern_queue_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tools_postern_queue_LDADD = relay/libqueue.a $(POSTERN_LIBS) $(ZLIB_LIBS)
