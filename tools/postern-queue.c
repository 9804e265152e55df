/*
 * postern-queue.c - show and steer postern-relay's queue: list, show,
 * status, and requests (flush, hold, release, delete) that the relay
 * applies. It only reads the spool (new/, state/, status/): a journal
 * being appended is read up to its last whole record. Requests are files
 * renamed whole into ctl/ (relay/ctl.h), so nothing it does can tear or
 * lose the relay's state. Exit 1 for an unknown id, 2 for usage or config.
 * An id the relay set aside in corrupt/ is reported as such, with the reason.
 */
#include "autoconf.h"

#include "config.h"
#include "relay/ctl.h"
#include "relay/journal.h"
#include "spool_read.h"
#include "usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PQ_PROG		"postern-queue"
#define PQ_WAIT_MS	10000	/* how long a request may take the running relay */

static const char *spool_dir;
static int json;

static void
usage(int asked)
{
	fprintf(usage_stream(asked), "usage: %s [-hV] [-c config-file] COMMAND [--json]\n"
	    "  list              the queued messages\n"
	    "  show ID           one message: envelope and every attempt\n"
	    "  status ID         its fate, also after it left the queue\n"
	    "  flush [ID]        retry now (all deferred messages, or one)\n"
	    "  hold ID           keep it from delivery\n"
	    "  release ID        give it back to delivery\n"
	    "  delete ID         remove it (no bounce)\n"
	    "  -h, --help        this help\n"
	    "  -V, --version     the version\n", PQ_PROG);
	usage_exit(asked);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PQ_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* One message, as far as the files tell. */
struct pq_msg {
	char id[64];
	int queued;			/* in new/ (else it left: status/) */
	struct spool_read_env env;	/* when queued */
	int have_env;
	struct journal_state st;
	int have_st;
};

static void
pq_free(struct pq_msg *m)
{
	if (m->have_env)
		spool_read_free(&m->env);
	journal_state_free(&m->st);
}

static int
pq_opendir(const char *sub)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", spool_dir, sub);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && errno != ENOENT)
		die(2, "%s: %s", path, strerror(errno));
	return fd;
}

/* Load id: 0, or -1 when no such message is queued or remembered. */
static int
pq_load(const char *id, struct pq_msg *m)
{
	char err[SPOOL_READ_ERR_MAX];
	size_t valid, total;
	int dfd, fd;

	memset(m, 0, sizeof(*m));
	if (!ctl_id_ok(id))
		return -1;
	snprintf(m->id, sizeof(m->id), "%s", id);
	if ((dfd = pq_opendir("new")) >= 0) {
		if ((fd = openat(dfd, id, O_RDONLY | O_CLOEXEC)) >= 0) {
			m->queued = 1;
			if (spool_read_fd(fd, &m->env, err, sizeof(err)) == 0)
				m->have_env = 1;
			else
				fprintf(stderr, "%s: %s: %s\n", PQ_PROG, id, err);
			close(fd);
		}
		close(dfd);
	}
	/*
	 * A message that left has its history in status/; a queued one may
	 * have a journal in state/. status/ first: the relay writes it before
	 * it removes new/ and state/, so a message leaving while we read is
	 * seen with its fate.
	 */
	if ((dfd = pq_opendir("status")) >= 0) {
		if (journal_load(dfd, id, &m->st, NULL, &valid, &total) == 0 && m->st.have_envelope) {
			m->have_st = 1;
			m->queued = 0;
		} else {
			journal_state_free(&m->st);
		}
		close(dfd);
	}
	if (!m->have_st && m->queued && (dfd = pq_opendir("state")) >= 0) {
		if (journal_load(dfd, id, &m->st, NULL, &valid, &total) == 0 && m->st.have_envelope)
			m->have_st = 1;
		else
			journal_state_free(&m->st);
		close(dfd);
	}
	if (m->queued && !m->have_st && m->have_env) {
		/* Never tried: the spool file is the whole story. */
		struct journal_buf b = { NULL, 0, 0 };
		journal_rec_envelope(&b, m->env.arrival_ms, m->env.size, m->env.sender,
		    m->env.rcpts, m->env.nrcpts);
		journal_replay(&m->st, b.p, b.len);
		journal_buf_free(&b);
		m->have_st = 1;
	}
	if (!m->have_st) {
		pq_free(m);
		return -1;
	}
	return 0;
}

/* The contract's message state: queued, deferred, held, delivered, failed (or deleted). */
static const char *
pq_state(const struct pq_msg *m)
{
	size_t i;

	if (m->st.fate != JOURNAL_OPEN)
		return journal_fate_name(m->st.fate);
	if (m->st.held)
		return "held";
	for (i = 0; i < m->st.nrcpts; i++)
		if (m->st.rcpts[i].state == JOURNAL_R_DEFERRED)
			return "deferred";
	return "queued";
}

static void
pq_time(uint64_t ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

/* A JSON string: quotes, backslashes and control bytes escaped; UTF-8 passes. */
static void
pq_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* An address without its angle brackets ("" for the null sender). */
static const char *
pq_bare(const char *addr, char *out, size_t outlen)
{
	size_t n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>')
		snprintf(out, outlen, "%.*s", (int)(n - 2), addr + 1);
	else
		snprintf(out, outlen, "%s", addr);
	return out;
}

static const char *
pq_last_reply(const struct pq_msg *m)
{
	const char *r = "";
	uint64_t when = 0;
	size_t i;

	for (i = 0; i < m->st.nrcpts; i++) {
		if (m->st.rcpts[i].when_ms >= when && m->st.rcpts[i].reply[0]) {
			when = m->st.rcpts[i].when_ms;
			r = m->st.rcpts[i].reply;
		}
	}
	return r;
}

static void
pq_json(const struct pq_msg *m, int detail)
{
	char t[64], a[1024];
	size_t i;

	printf("{\"id\":");
	pq_json_str(m->id);
	printf(",\"state\":");
	pq_json_str(pq_state(m));
	printf(",\"sender\":");
	pq_json_str(pq_bare(m->st.sender, a, sizeof(a)));
	pq_time(m->st.arrival_ms, t, sizeof(t));
	printf(",\"arrival\":\"%s\",\"size\":%llu,\"attempts\":%u,\"queued\":%s", t,
	    (unsigned long long)m->st.size, m->st.attempts, m->queued ? "true" : "false");
	if (m->st.next_ms && m->queued && !m->st.held) {
		pq_time(m->st.next_ms, t, sizeof(t));
		printf(",\"next_attempt\":\"%s\"", t);
	} else {
		printf(",\"next_attempt\":null");
	}
	printf(",\"last_reply\":");
	pq_json_str(pq_last_reply(m));
	if (m->st.bounce_id) {
		printf(",\"bounce_id\":");
		pq_json_str(m->st.bounce_id);
	}
	if (m->st.fate != JOURNAL_OPEN) {
		pq_time(m->st.fate_ms, t, sizeof(t));
		printf(",\"left\":\"%s\"", t);
	}
	printf(",\"recipients\":[");
	for (i = 0; i < m->st.nrcpts; i++) {
		printf("%s{\"address\":", i ? "," : "");
		pq_json_str(pq_bare(m->st.rcpts[i].address, a, sizeof(a)));
		printf(",\"state\":");
		pq_json_str(journal_rstate_name(m->st.rcpts[i].state));
		printf(",\"reply\":");
		pq_json_str(m->st.rcpts[i].reply);
		printf("}");
	}
	printf("]");
	if (detail && m->have_env) {
		printf(",\"client_address\":");
		pq_json_str(m->env.client_addr);
		printf(",\"helo\":");
		pq_json_str(m->env.helo);
		printf(",\"protocol\":");
		pq_json_str(m->env.protocol);
		printf(",\"account\":");
		pq_json_str(m->env.account);
	}
	if (detail) {
		printf(",\"events\":[");
		for (i = 0; i < m->st.nevents; i++) {
			const struct journal_event *e = &m->st.events[i];
			pq_time(e->ms, t, sizeof(t));
			printf("%s{\"time\":\"%s\"", i ? "," : "", t);
			if (e->type == 'A') {
				printf(",\"type\":\"attempt\",\"relay\":");
				pq_json_str(e->text);
			} else {
				printf(",\"type\":\"outcome\",\"recipient\":");
				pq_json_str(pq_bare(m->st.rcpts[e->rcpt].address, a, sizeof(a)));
				printf(",\"state\":");
				pq_json_str(journal_rstate_name(e->state));
				printf(",\"reply\":");
				pq_json_str(e->text);
			}
			printf("}");
		}
		printf("]");
	}
	printf("}\n");
}

/* postqueue -p style: id (! held), size, arrival, sender; then each open recipient with its reply. */
static void
pq_human(const struct pq_msg *m, int all_rcpts)
{
	char a[1024], t[64];
	time_t tt = (time_t)(m->st.arrival_ms / 1000);
	struct tm tm;
	size_t i;

	localtime_r(&tt, &tm);
	strftime(t, sizeof(t), "%a %b %e %H:%M:%S", &tm);
	printf("%-36s%c %8llu %s  %s\n", m->id, m->st.held ? '!' : ' ',
	    (unsigned long long)m->st.size, t, pq_bare(m->st.sender, a, sizeof(a))[0] ? a : "MAILER-DAEMON");
	for (i = 0; i < m->st.nrcpts; i++) {
		const struct journal_rcpt *r = &m->st.rcpts[i];
		if (!all_rcpts && (r->state == JOURNAL_R_DELIVERED || r->state == JOURNAL_R_FAILED))
			continue;
		if (r->reply[0])
			printf("%*s(%s)\n", 8, "", r->reply);
		printf("%*s%s%s%s\n", 60, "", pq_bare(r->address, a, sizeof(a)),
		    all_rcpts ? "  " : "", all_rcpts ? journal_rstate_name(r->state) : "");
	}
	putchar('\n');
}

static int
pq_list(void)
{
	struct dirent **names;
	struct pq_msg m;
	unsigned long long bytes = 0;
	int n, i, count = 0, dfd = pq_opendir("new");

	if (dfd < 0)
		die(2, "%s/new: %s", spool_dir, strerror(ENOENT));
	n = scandirat(dfd, ".", &names, NULL, alphasort);
	if (n < 0)
		die(2, "%s/new: %s", spool_dir, strerror(errno));
	if (!json)
		printf("%-37s %8s %-19s  %s\n", "-Queue ID-", "--Size--", "----Arrival Time----",
		    "-Sender/Recipient-------");
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && pq_load(names[i]->d_name, &m) == 0) {
			if (json)
				pq_json(&m, 0);
			else
				pq_human(&m, 0);
			bytes += m.st.size;
			count++;
			pq_free(&m);
		}
		free(names[i]);
	}
	free(names);
	close(dfd);
	if (!json) {
		if (count == 0)
			printf("Mail queue is empty\n");
		else
			printf("-- %llu Kbytes in %d Request%s.\n", (bytes + 1023) / 1024, count,
			    count == 1 ? "" : "s");
	}
	return 0;
}

/*
 * A message the relay could not read was moved to corrupt/ and never
 * delivered: no journal tells of it, so read the file again with the
 * relay's parser to say why. In JSON it is a failed message (the
 * contract's states) marked corrupt, with the fields every message has:
 * arrival is the file's time, sender and recipients are unknown.
 * 0 when id is there (reported), else -1.
 */
static int
pq_show_corrupt(const char *id)
{
	struct spool_read_env env;
	char why[SPOOL_READ_ERR_MAX], path[4096], t[64];
	struct stat st;
	int dfd, fd;

	if (!ctl_id_ok(id) || (dfd = pq_opendir("corrupt")) < 0)
		return -1;
	fd = openat(dfd, id, O_RDONLY | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (spool_read_fd(fd, &env, why, sizeof(why)) == 0) {
		/* It reads now (repaired by hand?): whatever was wrong is not in the file. */
		spool_read_free(&env);
		snprintf(why, sizeof(why), "unreadable when the relay took it; see its log");
	}
	close(fd);
	snprintf(path, sizeof(path), "%s/corrupt/%s", spool_dir, id);
	if (json) {
		pq_time((uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000,
		    t, sizeof(t));
		printf("{\"id\":");
		pq_json_str(id);
		printf(",\"state\":\"failed\",\"corrupt\":true,\"reason\":");
		pq_json_str(why);
		printf(",\"file\":");
		pq_json_str(path);
		printf(",\"sender\":\"\",\"arrival\":\"%s\",\"size\":%llu,\"attempts\":0,"
		    "\"queued\":false,\"next_attempt\":null,\"last_reply\":\"\",\"recipients\":[]}\n",
		    t, (unsigned long long)st.st_size);
	} else {
		printf("%s corrupt (%s): set aside in %s, never delivered\n", id, why, path);
	}
	return 0;
}

static int
pq_show(const char *id, int detail)
{
	struct pq_msg m;
	char t[64];
	size_t i;

	if (pq_load(id, &m) != 0) {
		if (pq_show_corrupt(id) == 0)
			return 0;
		die(1, "%s: no such message", id);
	}
	if (json) {
		pq_json(&m, detail);
	} else if (!detail) {
		printf("%s %s\n", m.id, pq_state(&m));
		for (i = 0; i < m.st.nrcpts; i++)
			printf("  %s %s%s%s\n", m.st.rcpts[i].address,
			    journal_rstate_name(m.st.rcpts[i].state), m.st.rcpts[i].reply[0] ? " " : "",
			    m.st.rcpts[i].reply);
	} else {
		pq_human(&m, 1);
		printf("state: %s, attempts: %u\n", pq_state(&m), m.st.attempts);
		if (m.have_env)
			printf("client: %s [%s] %s%s%s\n", m.env.helo, m.env.client_addr,
			    m.env.protocol, m.env.account[0] ? " account " : "", m.env.account);
		for (i = 0; i < m.st.nevents; i++) {
			const struct journal_event *e = &m.st.events[i];
			pq_time(e->ms, t, sizeof(t));
			if (e->type == 'A')
				printf("%s attempt via %s\n", t, e->text);
			else
				printf("%s   %s %s (%s)\n", t, m.st.rcpts[e->rcpt].address,
				    journal_rstate_name(e->state), e->text);
		}
	}
	pq_free(&m);
	return 0;
}

/* Is postern-relay running on this spool (it holds relay.lock)? */
static int
pq_relay_running(void)
{
	char path[4096];
	int fd, running;

	snprintf(path, sizeof(path), "%s/relay.lock", spool_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	running = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return running;
}

static int
pq_request(int cmd, const char *id)
{
	char name[128], err[512], path[4096];
	struct pq_msg m;
	int waited;

	if (id[0]) {
		if (pq_load(id, &m) != 0 || !m.queued) {
			if (m.have_st)
				pq_free(&m);
			die(1, "%s: no such message in the queue", id);
		}
		pq_free(&m);
	}
	if (ctl_submit(spool_dir, cmd, id, name, sizeof(name), err, sizeof(err)) != 0)
		die(2, "%s", err);
	if (!pq_relay_running()) {
		printf("%s %s: postern-relay is not running; the request waits in %s/ctl/ until it starts\n",
		    ctl_cmd_name(cmd), id[0] ? id : "(all)", spool_dir);
		return 0;
	}
	/* The relay removes the file once it has applied (and journalled) the request. */
	snprintf(path, sizeof(path), "%s/ctl/%s", spool_dir, name);
	for (waited = 0; waited < PQ_WAIT_MS && access(path, F_OK) == 0; waited += 20)
		usleep(20000);
	if (access(path, F_OK) == 0)
		printf("%s %s: requested; postern-relay has not applied it yet\n", ctl_cmd_name(cmd),
		    id[0] ? id : "(all)");
	else
		printf("%s %s: done\n", ctl_cmd_name(cmd), id[0] ? id : "(all)");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL, *cmd, *id = NULL;
	char err[CONFIG_ERR_MAX];
	postern_config *cfg;
	int ch, i, missing_ok = 0, rc, nargs = 0;
	const char *args[2] = { NULL, NULL };

	while ((ch = getopt_long(argc, argv, "+c:hV", usage_long_options, NULL)) != -1) {
		if (ch == 'h')
			usage(1);
		if (ch == 'V')
			usage_version(PQ_PROG);
		if (ch != 'c')
			usage(0);
		config_path = optarg;
	}
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (nargs < 2)
			args[nargs++] = argv[i];
		else
			usage(0);
	}
	if (nargs == 0)
		usage(0);
	cmd = args[0];
	id = args[1];
	if (config_path == NULL) {
		config_path = CONFIG_DEFAULT_FILE;
		missing_ok = 1;
	}
	if ((cfg = config_load(config_path, missing_ok, err, sizeof(err))) == NULL)
		die(2, "%s", err);
	spool_dir = cfg->smtpd_spool_dir;
	if (strcmp(cmd, "list") == 0 && id == NULL)
		rc = pq_list();
	else if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "status") == 0) && id != NULL)
		rc = pq_show(id, cmd[1] == 'h');
	else if (strcmp(cmd, "flush") == 0)
		rc = pq_request(CTL_FLUSH, id ? id : "");
	else if (strcmp(cmd, "hold") == 0 && id != NULL)
		rc = pq_request(CTL_HOLD, id);
	else if (strcmp(cmd, "release") == 0 && id != NULL)
		rc = pq_request(CTL_RELEASE, id);
	else if (strcmp(cmd, "delete") == 0 && id != NULL)
		rc = pq_request(CTL_DELETE, id);
	else
		usage(0);
	config_free(cfg);
	return rc;
}
