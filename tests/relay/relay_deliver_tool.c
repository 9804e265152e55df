/* relay_deliver_tool.c - runs relay_hop_deliver() on one message file and prints each recipient's outcome (integration tests). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "deliver.h"
#include "hop_int.h"	/* hop_set_timeout_cap() */
#include "log.h"
#include "xalloc.h"

/*
 * usage: relay_deliver_tool -c CONF -m MESSAGE [-r RECEIVED] [-8] [-u]
 *            [-n ROUNDS] [-p PARALLEL] [-T SECONDS] [-k MS] [-v] SENDER RCPT...
 * The whole MESSAGE file is the message (as the spool holds it after its
 * header block); RECEIVED is a file with the Received: header to send
 * first. Each round submits PARALLEL jobs of the same message at once and
 * waits for them all; rounds follow each other on the same hop, so kept
 * connections are reused. Output, one line per recipient of each job:
 *   ROUND.JOB RCPT STATE REPLY
 * then "active N" after the rounds (what relay_hop_active() says once all
 * jobs are done: kept connections) and "hop DESC". -T caps every
 * timeout of the hop; -k calls relay_hop_free() MS milliseconds after the
 * first round started, with whatever is in flight.
 */

static const char *state_names[] = { "pending", "delivered", "deferred", "failed" };

struct tool {
	struct event_base *base;
	relay_hop *hop;
	int freed;
	unsigned left;
	char hopdesc[512];
};

static void
tool_done(void *arg, struct relay_job *job, const char *hop)
{
	struct tool *t = arg;
	size_t i;

	for (i = 0; i < job->nrcpts; i++)
		printf("%s %s %s %s\n", job->id, job->rcpts[i].address,
		    state_names[job->rcpts[i].state], job->rcpts[i].reply);
	fflush(stdout);
	snprintf(t->hopdesc, sizeof(t->hopdesc), "%s", hop);
	if (--t->left == 0)
		event_base_loopbreak(t->base);
}

static void
tool_kill(evutil_socket_t fd, short what, void *arg)
{
	struct tool *t = arg;

	(void)fd;
	(void)what;
	t->freed = 1;
	relay_hop_free(t->hop);
	event_base_loopbreak(t->base);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(2);
	}
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: short read\n", path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *msg = NULL, *rcvd = NULL;
	int opt, eight = 0, utf8 = 0, fd;
	unsigned rounds = 1, parallel = 1, cap = 0, kill_ms = 0, r, p;
	struct event *kill_ev = NULL;
	char err[CONFIG_ERR_MAX];
	postern_config *cfg;
	struct tool t;
	struct stat st;
	char *received = NULL;

	while ((opt = getopt(argc, argv, "c:m:r:8un:p:T:k:v")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'm': msg = optarg; break;
		case 'r': rcvd = optarg; break;
		case '8': eight = 1; break;
		case 'u': utf8 = 1; break;
		case 'n': rounds = (unsigned)atoi(optarg); break;
		case 'p': parallel = (unsigned)atoi(optarg); break;
		case 'T': cap = (unsigned)atoi(optarg); break;
		case 'k': kill_ms = (unsigned)atoi(optarg); break;
		case 'v': log_set_debug(1); break;
		default: return 2;
		}
	}
	if (conf == NULL || msg == NULL || argc - optind < 2 || rounds == 0 || parallel == 0) {
		fprintf(stderr, "usage: relay_deliver_tool -c CONF -m MESSAGE [-r RECEIVED] [-8] [-u] "
		    "[-n ROUNDS] [-p PARALLEL] [-T SECONDS] [-k MS] [-v] SENDER RCPT...\n");
		return 2;
	}
	log_init("relay_deliver_tool", LOG_DEST_STDERR);
	if ((cfg = config_load(conf, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if ((fd = open(msg, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "%s: %s\n", msg, strerror(errno));
		return 2;
	}
	if (rcvd != NULL)
		received = read_file(rcvd);
	memset(&t, 0, sizeof(t));
	t.base = event_base_new();
	if ((t.hop = relay_hop_new(t.base, cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "relay_hop_new: %s\n", err);
		return 2;
	}
	if (cap > 0)
		hop_set_timeout_cap(t.hop, cap);
	if (kill_ms > 0) {
		struct timeval tv = { kill_ms / 1000, (kill_ms % 1000) * 1000 };
		kill_ev = evtimer_new(t.base, tool_kill, &t);
		evtimer_add(kill_ev, &tv);
	}
	for (r = 0; r < rounds && !t.freed; r++) {
		struct relay_job *jobs = xcalloc(parallel, sizeof(*jobs));
		char (*ids)[32] = xcalloc(parallel, sizeof(*ids));

		t.left = parallel;
		for (p = 0; p < parallel; p++) {
			struct relay_job *j = &jobs[p];
			int i, n = argc - optind - 1;

			snprintf(ids[p], sizeof(ids[p]), "%u.%u", r + 1, p + 1);
			j->id = ids[p];
			j->fd = fd;
			j->data_offset = 0;
			j->data_size = (uint64_t)st.st_size;
			j->received = received;
			j->sender = argv[optind];
			j->body_8bit = eight;
			j->smtputf8 = utf8;
			j->nrcpts = (size_t)n;
			j->rcpts = xcalloc((size_t)n, sizeof(*j->rcpts));
			for (i = 0; i < n; i++)
				j->rcpts[i].address = argv[optind + 1 + i];
			relay_hop_deliver(t.hop, j, tool_done, &t);
		}
		event_base_dispatch(t.base);
		for (p = 0; p < parallel; p++)
			free(jobs[p].rcpts);
		free(jobs);
		free(ids);
	}
	if (!t.freed) {
		printf("active %u\n", relay_hop_active(t.hop));
		relay_hop_free(t.hop);
	}
	printf("hop %s\n", t.hopdesc);
	if (kill_ev != NULL)
		event_free(kill_ev);
	event_base_free(t.base);
	config_free(cfg);
	free(received);
	close(fd);
	return 0;
}
