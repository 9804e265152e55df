/*
 * fdslots.c - libevent's per-descriptor entries made ahead, so that a
 * burst of connections leaves nothing behind on the heap.
 *
 * libevent keeps one small entry per descriptor number it has ever
 * watched (its evmap: allocated at the first event_add on that number,
 * freed only with the base). Made during a burst, those entries sit
 * between the sessions' allocations; when the sessions go, almost every
 * heap page still holds one, and malloc_trim() can give back hardly
 * anything: postern-smtpd stayed 80 % above its resting size after 5,000
 * connections (bench/README.md, memory). Made here, at start, they are
 * packed together below everything the sessions allocate: about 50 bytes
 * per descriptor number (150 KiB for the default 1,000 connections with
 * one milter). Numbers past the budget still work; their entries are
 * only made as they come.
 *
 * A descriptor number is borrowed by dup3() of a pipe onto it, watched
 * once and closed. Should libevent ever stop keeping the entries, this
 * costs a few system calls per number at start and nothing else.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* dup3 */
#endif
#include "fdslots.h"
#include "log.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

unsigned
fdslots_reserve(struct event_base *base, unsigned nfds)
{
	struct rlimit rl;
	struct event ev;
	unsigned made = 0;
	int pfd[2], fd;

	if (nfds > FDSLOTS_MAX)
		nfds = FDSLOTS_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < nfds)
		nfds = (unsigned)rl.rlim_cur;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		log_warn("fdslots: pipe");
		return 0;
	}
	for (fd = 0; (unsigned)fd < nfds; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;	/* in use: its entry comes when it is watched */
		if (dup3(pfd[0], fd, O_CLOEXEC) != fd)
			break;		/* a limit lower than getrlimit said (valgrind's) */
		if (event_assign(&ev, base, fd, EV_READ, NULL, NULL) == 0 && event_add(&ev, NULL) == 0) {
			event_del(&ev);
			made++;
		}
		close(fd);
	}
	close(pfd[0]);
	close(pfd[1]);
	return made;
}
