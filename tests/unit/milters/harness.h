/* harness.h - shared helpers of the milter client tests (tests/unit/test_milter_client*.c). */
#ifndef POSTERN_TEST_MC_HARNESS_H
#define POSTERN_TEST_MC_HARNESS_H

#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "milter_client/milter_client.h"
#include "milter_proto.h"

#ifndef TEST_FILTER
#define TEST_FILTER "tests/unit/milters/test_filter"
#endif
#ifndef POSTERN_MILTER
#define POSTERN_MILTER "milter/postern-milter"
#endif

/* The last verdict. */
struct verdict_got {
	int got;
	enum mc_action act;
	char reply[MP_REPLY_MAX + 1];
	int close;
	struct mc_mods *mods;
};

extern struct event_base *base;
extern char dir[64];
extern char sock[100], rec_file[128];	/* of the filter started last */
extern pid_t filter_pid[2];
extern struct verdict_got V;
extern int ready_calls;
extern const struct mc_client client;
extern const struct mc_tls tls;
extern const char *const from_argv[];
extern const char *const rcpt_argv[];
extern const char msg[];
#define MSG_LEN	(strlen(msg))

void on_verdict(void *arg, const struct mc_verdict *v);
void on_ready(void *arg);
void wait_verdict(void);
void spin(int ms);
/* Wait until something accepts on the unix socket path (20 s at most), else fail naming what. */
void wait_socket(const char *path, const char *what);
/* postern-milter -c conf [-d], stderr to errpath (NULL: /dev/null); returns once sockpath answers. */
pid_t start_postern_milter(const char *conf, const char *sockpath, const char *errpath, int debug);
void start_filter_at(const char *mode, int idx);
void start_filter(const char *mode);
void stop_filter(void);
char *slurp(const char *path);
int rec_has(const char *line);
int rec_count(const char *prefix);
/* Every line of want (NULL-terminated) is in the record of the last filter. */
void assert_rec(const char *const *want);
/* pool: idle connections kept per milter; above 0 it also turns reuse on (milter_reuse). */
mc_list *list_of(const char *spec, unsigned timeout, const char *def, unsigned pool);
mc_list *filter_list(unsigned timeout, const char *def, unsigned pool);
/* A session on a new test_filter in mode (5 s, tempfail, no pool); end_session frees both and lets the record settle. */
mc_session *filter_session(const char *mode, mc_list **l);
void end_session(mc_session *s, mc_list *l);
/* "Subject: x", an empty line, then fill up to n bytes (malloc'd). */
char *big_message(size_t n, char fill);
void envelope(mc_session *s);
void message(mc_session *s, const char *m, size_t len, size_t n);
const struct mc_mod *find_mod(enum mc_mod_kind k, const char *name);
int setup(void **state);
int teardown(void **state);

#define CALL(expr) do { V.got = 0; expr; wait_verdict(); } while (0)
#define VERDICT(expr, want) do { CALL(expr); assert_int_equal(V.act, (want)); } while (0)

#endif
