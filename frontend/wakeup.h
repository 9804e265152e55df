/* wakeup.h - how a worker thread wakes the event loop: one pipe, one byte a batch. */
#ifndef POSTERN_WAKEUP_H
#define POSTERN_WAKEUP_H

struct event_base;
typedef struct wakeup wakeup;

/*
 * fn(arg) runs on the loop thread of base after wakeup_signal(). A pipe
 * rather than event_active() from the worker: it works whether or not
 * the base was made after evthread_use_pthreads(). Aborts when the pipe
 * or the event cannot be made (start-up only).
 */
wakeup *wakeup_new(struct event_base *base, const char *name, void (*fn)(void *arg), void *arg);
/*
 * Any thread: have fn run soon. Signals before fn runs are merged into
 * one call; fn must therefore take everything that is waiting.
 */
void wakeup_signal(wakeup *w);
void wakeup_free(wakeup *w);

#endif
