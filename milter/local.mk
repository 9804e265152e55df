# milter/local.mk - postern-milter, the libmilter policy daemon (milter/main.c, milter/milter.c, milter/verdict.c).
sbin_PROGRAMS += milter/postern-milter
milter_postern_milter_SOURCES = milter/main.c milter/milter.c milter/milter.h \
	milter/milter_int.h milter/verdict.c
milter_postern_milter_CFLAGS = $(AM_CFLAGS)
# -rdynamic: modules loaded with dlopen() resolve the postern_* API from this executable.
milter_postern_milter_LDFLAGS = $(AM_LDFLAGS) -rdynamic
milter_postern_milter_LDADD = $(POLICY_LIBS) $(POSTERN_LIBS) $(MILTER_LIBS)

# --- postern-check (engine engineer) ---
# postern-check: the same engine offline over .eml files; prints the verdict line the milter would send.
bin_PROGRAMS += milter/postern-check
milter_postern_check_SOURCES = milter/postern-check.c
milter_postern_check_CFLAGS = $(AM_CFLAGS)
# -rdynamic: modules loaded with dlopen() resolve the postern_* API from this executable.
milter_postern_check_LDFLAGS = $(AM_LDFLAGS) -rdynamic
milter_postern_check_LDADD = $(POLICY_LIBS)
# Golden corpus: one message per rule plus clean ones, shared with the Postfix tests.
TESTS += tests/integration/test_check_corpus.sh
dist_check_SCRIPTS += tests/integration/test_check_corpus.sh
# --- end postern-check ---
