/* test_smtpd_spool.c - frontend/spool.c: header block, write + group commit, early sync, abort, stale tmp cleanup. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "spool.h"
#include "uuid.h"

static char dir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_smtpd_spool.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
count_files(const char *sub)
{
	char path[512];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
fill_env(struct spool_envelope *env, const char *id, char **rcpts, size_t n)
{
	memset(env, 0, sizeof(*env));
	env->id = id;
	env->arrival_ms = 1700000000123ULL;
	env->client_addr = "192.0.2.1";
	env->client_port = 40000;
	env->helo = "client\x01.example";
	env->protocol = "ESMTPSA";
	env->tls_version = "TLSv1.3";
	env->tls_cipher = "TLS_AES_256_GCM_SHA384";
	env->account = "alice";
	env->body = "8BITMIME";
	env->smtputf8 = 0;
	env->sender = "<alice@example.com>";
	env->rcpts = rcpts;
	env->nrcpts = n;
}

static void
test_header_format(void **state)
{
	char *rcpts[] = { "<b@example.org>", "<c@example.net>" };
	struct spool_envelope env;
	char out[2048];
	size_t off, n;

	(void)state;
	fill_env(&env, "0190c1a2-7b3c-7d4e-8f00-123456789abc", rcpts, 2);
	n = spool_format_header(&env, out, sizeof(out), &off);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out,
	    "postern-spool 1\n"
	    "id 0190c1a2-7b3c-7d4e-8f00-123456789abc\n"
	    "arrival 1700000000123\n"
	    "client-address 192.0.2.1\n"
	    "client-port 40000\n"
	    "helo client?.example\n"
	    "protocol ESMTPSA\n"
	    "tls-version TLSv1.3\n"
	    "tls-cipher TLS_AES_256_GCM_SHA384\n"
	    "account alice\n"
	    "body 8BITMIME\n"
	    "smtputf8 no\n"
	    "sender <alice@example.com>\n"
	    "rcpt <b@example.org>\n"
	    "rcpt <c@example.net>\n"
	    "size 00000000000000000000\n"
	    "\n");
	assert_memory_equal(out + off, "00000000000000000000\n", 21);
	/* Too small a buffer fails cleanly. */
	assert_int_equal(spool_format_header(&env, out, 40, &off), 0);
}

struct done_rec {
	int calls;
	int ok;
	struct event_base *base;
	int want;
};

static void
on_done(void *arg, int ok)
{
	struct done_rec *d = arg;

	d->calls++;
	d->ok += ok;
	if (d->calls == d->want)
		event_base_loopbreak(d->base);
}

/* Keeps the loop alive while the worker runs, and bounds the wait. */
static void
on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void
dispatch(struct event_base *base)
{
	struct timeval tv = { 30, 0 };
	struct event *ka = evtimer_new(base, on_keepalive, base);

	evtimer_add(ka, &tv);
	event_base_dispatch(base);
	event_free(ka);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
test_write_commit_abort(void **state)
{
	char *rcpts[] = { "<b@example.org>" };
	struct event_base *base = event_base_new();
	struct spool_envelope env;
	struct done_rec rec = { 0, 0, base, 1 };
	char id[UUID_STR_SIZE], id2[UUID_STR_SIZE], path[512], big[40000], *data, *body;
	spool *sp;
	spool_file *f;
	char err[256];
	size_t len;

	(void)state;
	/* A stale file of a crashed run goes away at open. */
	snprintf(path, sizeof(path), "%s/tmp", dir);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "%s/tmp/stale", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	sp = spool_open(base, dir, err, sizeof(err));
	assert_non_null(sp);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_files("new"), 0);

	/* Write (small and large spans), commit, wait for the loop callback. */
	uuid_v7(id);
	fill_env(&env, id, rcpts, 1);
	f = spool_file_new(sp, &env);
	assert_non_null(f);
	spool_file_write(f, "Subject: t\r\n\r\n", 14);
	memset(big, 'x', sizeof(big));
	spool_file_write(f, big, sizeof(big));
	spool_file_write(f, "\r\n", 2);
	assert_false(spool_file_failed(f));
	spool_file_commit(f, 14 + sizeof(big) + 2, on_done, &rec);
	dispatch(base);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.ok, 1);
	assert_int_equal(spool_busy(sp), 0);
	assert_int_equal(count_files("new"), 1);
	snprintf(path, sizeof(path), "%s/new/%s", dir, id);
	data = read_file(path, &len);
	assert_non_null(strstr(data, "size 00000000000000040016\n"));
	body = strstr(data, "\n\n");
	assert_non_null(body);
	body += 2;
	assert_int_equal(len - (size_t)(body - data), 40016);
	assert_memory_equal(body, "Subject: t\r\n\r\nxxx", 17);
	free(data);

	/* Abort leaves nothing. */
	uuid_v7(id2);
	fill_env(&env, id2, rcpts, 1);
	f = spool_file_new(sp, &env);
	assert_non_null(f);
	spool_file_write(f, "x", 1);
	spool_file_abort(f);
	assert_int_equal(count_files("new"), 1);

	/* A bad id is refused. */
	fill_env(&env, "../escape", rcpts, 1);
	assert_null(spool_file_new(sp, &env));

	/* The files created ahead go at close: tmp/ is empty, so the abort left nothing. */
	spool_close(sp);
	assert_int_equal(count_files("tmp"), 0);
	assert_int_equal(count_files("new"), 1);
	event_base_free(base);
}

/*
 * An envelope larger than the write buffer (hundreds of long recipients)
 * is written out on its own ahead of the body, its size field filled in at
 * commit; one larger than the worst case is refused.
 */
static void
test_large_envelope(void **state)
{
	enum { NR = 400, NBIG = 1000 };
	struct event_base *base = event_base_new();
	struct spool_envelope env;
	struct done_rec rec = { 0, 0, base, 1 };
	char id[UUID_STR_SIZE], path[512], err[256], line[160], *data, *body, *p;
	char **rcpts = calloc(NBIG, sizeof(*rcpts));
	spool *sp;
	spool_file *f;
	size_t len, i, n;

	(void)state;
	for (i = 0; i < NBIG; i++) {
		rcpts[i] = malloc(1001);
		snprintf(rcpts[i], 1001, "<recipient-%04zu-%s@example.org>", i,
		    "with-a-long-local-part-to-make-the-envelope-larger-than-sixteen-kilobytes");
	}
	sp = spool_open(base, dir, err, sizeof(err));
	assert_non_null(sp);
	uuid_v7(id);
	fill_env(&env, id, rcpts, NR);
	f = spool_file_new(sp, &env);
	assert_non_null(f);
	spool_file_write(f, "Subject: t\r\n\r\nbody\r\n", 20);
	spool_file_commit(f, 20, on_done, &rec);
	dispatch(base);
	assert_int_equal(rec.ok, 1);
	snprintf(path, sizeof(path), "%s/new/%s", dir, id);
	data = read_file(path, &len);
	assert_true(len > 16384 + 20);
	assert_non_null(strstr(data, "size 00000000000000000020\n"));
	for (i = 0, n = 0, p = data; i < NR; i++) {
		snprintf(line, sizeof(line), "\nrcpt %s\n", rcpts[i]);
		p = strstr(p, line);
		assert_non_null(p);
		n++;
	}
	assert_int_equal(n, NR);
	body = strstr(data, "\n\n");
	assert_non_null(body);
	assert_int_equal(len - (size_t)(body + 2 - data), 20);
	assert_memory_equal(body + 2, "Subject: t\r\n\r\nbody\r\n", 20);
	free(data);

	/* 1,000 recipients of 1,000 bytes: over the worst case, refused. */
	for (i = 0; i < NBIG; i++) {
		memset(rcpts[i] + 1, 'x', 998);
		rcpts[i][0] = '<';
		rcpts[i][998] = '>';
		rcpts[i][999] = '\0';
	}
	uuid_v7(id);
	fill_env(&env, id, rcpts, NBIG);
	assert_null(spool_file_new(sp, &env));
	spool_close(sp);
	assert_int_equal(count_files("tmp"), 0);
	assert_int_equal(count_files("new"), 1);
	event_base_free(base);
	for (i = 0; i < NBIG; i++)
		free(rcpts[i]);
	free(rcpts);
}

static void
test_group_commit_and_cancel(void **state)
{
	char *rcpts[] = { "<b@example.org>" };
	struct event_base *base = event_base_new();
	struct spool_envelope env;
	struct done_rec rec = { 0, 0, base, 200 }, canceled = { 0, 0, base, 1000 };
	char id[UUID_STR_SIZE], err[256];
	spool *sp;
	int i;

	(void)state;
	sp = spool_open(base, dir, err, sizeof(err));
	assert_non_null(sp);
	/* Many commits at once: the worker batches them; every callback comes. */
	for (i = 0; i < 201; i++) {
		spool_file *f;
		uuid_v7(id);
		fill_env(&env, id, rcpts, 1);
		f = spool_file_new(sp, &env);
		assert_non_null(f);
		spool_file_write(f, "hello\r\n", 7);
		/* The last one's session "went away": its commit happens, its callback does not. */
		spool_file_commit(f, 7, on_done, i < 200 ? (void *)&rec : (void *)&canceled);
		if (i == 200)
			spool_cancel(sp, &canceled);
	}
	dispatch(base);
	assert_int_equal(rec.calls, 200);
	assert_int_equal(rec.ok, 200);
	spool_close(sp);		/* drains */
	assert_int_equal(canceled.calls, 0);
	assert_int_equal(count_files("new"), 201);
	assert_int_equal(count_files("tmp"), 0);
	event_base_free(base);
}

/* Wait (bounded) until the worker has made n syncs. */
static void
wait_syncs(spool *sp, uint64_t n)
{
	struct spool_stats st;
	int i;

	for (i = 0; i < 3000; i++) {
		spool_stats(sp, &st);
		if (st.syncs >= n)
			return;
		usleep(10000);
	}
	fail_msg("the early sync did not happen");
}

static spool_file *
new_file(spool *sp, char *id, const char *text)
{
	char *rcpts[] = { "<b@example.org>" };
	struct spool_envelope env;
	spool_file *f;

	uuid_v7(id);
	fill_env(&env, id, rcpts, 1);
	f = spool_file_new(sp, &env);
	assert_non_null(f);
	spool_file_write(f, text, strlen(text));
	return f;
}

/* The body and the size field of new/<id>. */
static void
assert_spooled(const char *id, const char *body, const char *size_line)
{
	char path[512], *data, *p;
	size_t len;

	snprintf(path, sizeof(path), "%s/new/%s", dir, id);
	data = read_file(path, &len);
	assert_non_null(strstr(data, size_line));
	p = strstr(data, "\n\n");
	assert_non_null(p);
	assert_string_equal(p + 2, body);
	free(data);
}

/* Commit f and wait for its callback: it must be queued. */
static void
commit_wait(struct event_base *base, spool_file *f, uint64_t size)
{
	struct done_rec rec = { 0, 0, base, 1 };

	spool_file_commit(f, size, on_done, &rec);
	dispatch(base);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.ok, 1);
}

/* The worker's syncfs calls so far, and the commits that needed none. */
static void
assert_syncs(spool *sp, uint64_t syncs, uint64_t covered)
{
	struct spool_stats st;

	spool_stats(sp, &st);
	assert_int_equal(st.syncs, syncs);
	assert_int_equal(st.covered, covered);
}

/*
 * spool_file_presync: a commit whose bytes an early sync covered needs no
 * syncfs of its own; a write or another size after it does.
 */
static void
test_presync(void **state)
{
	struct event_base *base = event_base_new();
	char id[UUID_STR_SIZE], err[256];
	spool *sp;
	spool_file *f;

	(void)state;
	sp = spool_open(base, dir, err, sizeof(err));
	assert_non_null(sp);

	/* Covered: the early sync, then a commit without a sync. */
	f = new_file(sp, id, "hello\r\n");
	spool_file_presync(f, 7);
	wait_syncs(sp, 1);
	commit_wait(base, f, 7);
	assert_syncs(sp, 1, 1);
	assert_spooled(id, "hello\r\n", "size 00000000000000000007\n");

	/* A write after the early sync: the commit syncs again, with the new bytes. */
	f = new_file(sp, id, "hello\r\n");
	spool_file_presync(f, 7);
	wait_syncs(sp, 2);
	spool_file_write(f, "x\r\n", 3);
	commit_wait(base, f, 10);
	assert_syncs(sp, 3, 1);
	assert_spooled(id, "hello\r\nx\r\n", "size 00000000000000000010\n");

	/* Another size at commit: synced again, the header has the new one. */
	f = new_file(sp, id, "abcdef");
	spool_file_presync(f, 5);
	wait_syncs(sp, 4);
	commit_wait(base, f, 6);
	assert_syncs(sp, 5, 1);
	assert_spooled(id, "abcdef", "size 00000000000000000006\n");

	/* Committed at once, maybe before the early sync ran: still queued. */
	f = new_file(sp, id, "now\r\n");
	spool_file_presync(f, 5);
	commit_wait(base, f, 5);
	assert_spooled(id, "now\r\n", "size 00000000000000000005\n");

	/* Refused after the early sync: nothing left behind. */
	f = new_file(sp, id, "refused\r\n");
	spool_file_presync(f, 9);
	spool_file_abort(f);
	spool_close(sp);
	assert_int_equal(count_files("new"), 4);
	assert_int_equal(count_files("tmp"), 0);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_format),
		cmocka_unit_test_setup_teardown(test_write_commit_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_envelope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_and_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_presync, setup, teardown),
	};

	evthread_use_pthreads();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
