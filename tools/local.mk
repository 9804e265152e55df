# tools/local.mk - operator tools.
bin_PROGRAMS += tools/postern-passwd
tools_postern_passwd_SOURCES = tools/postern-passwd.c
tools_postern_passwd_LDADD = $(LIBCRYPT_LIBS)

# postern-queue: reads the relay's queue files, writes requests into ctl/ (relay/ctl.h).
bin_PROGRAMS += tools/postern-queue
tools_postern_queue_SOURCES = tools/postern-queue.c
tools_postern_queue_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tools_postern_queue_LDADD = relay/libqueue.a $(POSTERN_LIBS) $(ZLIB_LIBS)
