# milter/local.mk - postern-milter, the libmilter policy daemon (milter/main.c, milter/milter.c, milter/verdict.c).
sbin_PROGRAMS += milter/postern-milter
milter_postern_milter_SOURCES = milter/main.c milter/milter.c milter/milter.h \
	milter/milter_activate.c milter/milter_activate.h \
	milter/milter_int.h milter/verdict.c milter/milter_metrics.c milter/milter_metrics.h
milter_postern_milter_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
# -rdynamic: modules loaded with dlopen() resolve the postern_* API from this executable.
milter_postern_milter_LDFLAGS = $(AM_LDFLAGS) -rdynamic
milter_postern_milter_LDADD = $(POLICY_LIBS) $(POSTERN_LIBS) $(MILTER_LIBS) $(LIBEVENT_LIBS)
