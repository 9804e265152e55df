/* harness.c - what the milter client tests share: an event loop, test_filter processes, verdict capture. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct event_base *base;
char dir[64];
char sock[100], rec_file[128];
pid_t filter_pid[2];

struct verdict_got V;
int ready_calls;

void
on_verdict(void *arg, const struct mc_verdict *v)
{
	(void)arg;
	V.got = 1;
	V.act = v->action;
	snprintf(V.reply, sizeof(V.reply), "%s", v->reply ? v->reply : "");
	V.close = v->close;
	if (V.mods)
		mc_mods_free(V.mods);
	V.mods = v->mods;
}

void
on_ready(void *arg)
{
	(void)arg;
	ready_calls++;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until the verdict comes (or fail after 20 s). */
void
wait_verdict(void)
{
	struct timeval tv = { 0, 100000 };
	struct event *t = evtimer_new(base, tick, NULL);
	time_t end = time(NULL) + 20;

	while (!V.got) {
		evtimer_add(t, &tv);
		event_base_loop(base, EVLOOP_ONCE);
		if (time(NULL) > end)
			fail_msg("no verdict within 20 s");
	}
	event_free(t);
}

/* Run the loop for ms milliseconds. */
void
spin(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}


void
wait_socket(const char *path, const char *what)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int i, fd;

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	for (i = 0; i < 400; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0) {
			close(fd);
			return;
		}
		close(fd);
		usleep(50000);
	}
	fail_msg("%s did not listen on %s within 20 s", what, path);
}

pid_t
start_postern_milter(const char *conf, const char *sockpath, const char *errpath, int debug)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = errpath ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600) :
		    open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		if (debug)
			execl(POSTERN_MILTER, "postern-milter", "-d", "-c", conf, (char *)NULL);
		else
			execl(POSTERN_MILTER, "postern-milter", "-c", conf, (char *)NULL);
		_exit(127);
	}
	wait_socket(sockpath, "postern-milter");
	return pid;
}

/* Filter idx listens on DIR/fIDX.sock, records into DIR/recordIDX; sock, rec_file: the last one. */
void
start_filter_at(const char *mode, int idx)
{
	char conn[160];

	snprintf(sock, sizeof(sock), "%s/f%d.sock", dir, idx);
	snprintf(rec_file, sizeof(rec_file), "%s/record%d", dir, idx);
	unlink(sock);
	unlink(rec_file);
	snprintf(conn, sizeof(conn), "unix:%s", sock);
	if ((filter_pid[idx] = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a crashed test */
		execl(TEST_FILTER, "test_filter", "-p", conn, "-m", mode, "-o", rec_file, (char *)NULL);
		_exit(127);
	}
	wait_socket(sock, "test_filter");
}

void
start_filter(const char *mode)
{
	start_filter_at(mode, 0);
}

void
stop_filter(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (filter_pid[i] > 0) {
			kill(filter_pid[i], SIGKILL);
			waitpid(filter_pid[i], NULL, 0);
			filter_pid[i] = 0;
		}
	}
}

char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 2);	/* room for rec_has()'s leading newline */
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

int
rec_has(const char *line)
{
	char *r = slurp(rec_file), want[4096];
	int yes;

	snprintf(want, sizeof(want), "\n%s\n", line);
	memmove(r + 1, r, strlen(r) + 1);
	r[0] = '\n';
	yes = strstr(r, want) != NULL;
	if (!yes)
		fprintf(stderr, "record lacks \"%s\":\n%s\n", line, r + 1);
	free(r);
	return yes;
}

int
rec_count(const char *prefix)
{
	char *r = slurp(rec_file), *p;
	int n = 0;

	for (p = r; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	free(r);
	return n;
}

void
assert_rec(const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++)
		if (!rec_has(want[i]))
			fail_msg("the milter's record lacks \"%s\"", want[i]);
}

mc_list *
list_of(const char *spec, unsigned timeout, const char *def, unsigned pool)
{
	struct mc_options o = { .timeout_s = timeout, .default_action = def, .tmpdir = dir,
	    .pool_max = pool, .reuse = pool > 0 };
	char err[256];
	mc_list *l = mc_list_parse(spec, &o, err, sizeof(err));

	if (l == NULL)
		fail_msg("parse %s: %s", spec, err);
	return l;
}

mc_list *
filter_list(unsigned timeout, const char *def, unsigned pool)
{
	char spec[200];

	snprintf(spec, sizeof(spec), "unix:%s", sock);
	return list_of(spec, timeout, def, pool);
}

const struct mc_client client = {
	.hostname = "mx.test", .daemon_name = "postern-smtpd", .version = "Postern 0.1",
	.family = AF_INET, .addr = "192.0.2.1", .port = 4711, .name = NULL,
};
const struct mc_tls tls = { "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, NULL, NULL };

const char *const from_argv[] = { "<a@example.com>", "SIZE=100", NULL };
const char *const rcpt_argv[] = { "<b@example.com>", NULL };
const char msg[] =
	"From: a@example.com\r\n"
	"Subject: hello\r\n"
	" world\r\n"
	"X-Tight:value\r\n"
	"X-Tab:\tt\r\n"
	"X-Drop: gone\r\n"
	"\r\n"
	"Body line 1\r\n"
	"..leading dot kept as given\r\n";

mc_session *
filter_session(const char *mode, mc_list **l)
{
	start_filter(mode);
	*l = filter_list(5, "tempfail", 0);
	return mc_session_new(*l, base, on_verdict, on_ready, NULL);
}

void
end_session(mc_session *s, mc_list *l)
{
	mc_session_free(s);
	mc_list_free(l);
	spin(100);
}

char *
big_message(size_t n, char fill)
{
	static const char head[] = "Subject: x\r\n\r\n";
	char *m = malloc(n);

	assert_non_null(m);
	assert_true(n > sizeof(head));
	memcpy(m, head, sizeof(head) - 1);
	memset(m + sizeof(head) - 1, fill, n - (sizeof(head) - 1));
	return m;
}

/* Connect through DATA; each step must continue. */
void
envelope(mc_session *s)
{
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_helo(s, "client.example", &tls), MC_CONTINUE);
	VERDICT(mc_mail(s, from_argv, "PLAIN", "alice", NULL), MC_CONTINUE);
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q123"), MC_CONTINUE);
}

/* The message in pieces of n bytes, then end of data. */
void
message(mc_session *s, const char *m, size_t len, size_t n)
{
	size_t off;

	for (off = 0; off < len; off += n)
		mc_body(s, m + off, len - off < n ? len - off : n);
	CALL(mc_eom(s));
}

const struct mc_mod *
find_mod(enum mc_mod_kind k, const char *name)
{
	size_t i;

	for (i = 0; V.mods && i < V.mods->n; i++)
		if (V.mods->v[i].kind == k && strcmp(V.mods->v[i].name, name) == 0)
			return &V.mods->v[i];
	return NULL;
}

int
setup(void **state)
{
	(void)state;
	base = event_base_new();
	snprintf(dir, sizeof(dir), "/tmp/mctest.XXXXXX");
	assert_non_null(mkdtemp(dir));
	memset(&V, 0, sizeof(V));
	ready_calls = 0;
	return 0;
}

int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop_filter();
	if (V.mods)
		mc_mods_free(V.mods);
	V.mods = NULL;
	spin(10);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	return 0;
}
