/* wakeup.c - a worker thread wakes the event loop through a non-blocking pipe. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* pipe2 */
#endif
#include "wakeup.h"
#include "log.h"
#include "xalloc.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct wakeup {
	struct event *ev;		/* read side of the pipe */
	int pipefd[2];
	atomic_int pending;		/* a byte is in the pipe, fn has not run yet */
	void (*fn)(void *arg);
	void *arg;
	const char *name;		/* for log lines */
};

static void
wakeup_on_read(evutil_socket_t fd, short what, void *arg)
{
	wakeup *w = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
	/* Cleared before fn takes the work: a signal from here on wakes us again. */
	atomic_store(&w->pending, 0);
	w->fn(w->arg);
}

wakeup *
wakeup_new(struct event_base *base, const char *name, void (*fn)(void *arg), void *arg)
{
	wakeup *w = xcalloc(1, sizeof(*w));

	w->fn = fn;
	w->arg = arg;
	w->name = name;
	atomic_init(&w->pending, 0);
	if (pipe2(w->pipefd, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("%s: pipe2", name);
	w->ev = event_new(base, w->pipefd[0], EV_READ | EV_PERSIST, wakeup_on_read, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0)
		log_fatalx("%s: cannot register the wake-up event", name);
	return w;
}

void
wakeup_signal(wakeup *w)
{
	if (atomic_exchange(&w->pending, 1))
		return;
	/* Cannot block (O_NONBLOCK) and cannot fill: at most one byte is in flight. */
	if (write(w->pipefd[1], "", 1) != 1)
		log_warn("%s: wake-up pipe", w->name);
}

void
wakeup_free(wakeup *w)
{
	if (w == NULL)
		return;
	event_free(w->ev);
	close(w->pipefd[0]);
	close(w->pipefd[1]);
	free(w);
}
