/*
 * bench_smtpd_conn.c - connection benchmark for postern-smtpd: opens N
 * connections at once, times until every one has its 220 banner, then
 * holds them idle and reports the daemon's RSS growth per connection.
 *
 * usage: bench_smtpd_conn HOST PORT COUNT DAEMON_PID [tls]
 * With "tls" the port is an implicit-TLS listener: each connection does
 * its handshake (GnuTLS, sequentially) before the banner is read.
 * Output: one "key=value" line for the driver script.
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* VmRSS of a process in KiB, -1 when unreadable. */
static long
rss_kb(int pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Plain: connect all at once (non-blocking), epoll until each has read "220 ...\n". */
static int
plain_banners(const struct sockaddr_in *sa, int n, int *fds, double *elapsed)
{
	int ep = epoll_create1(0), done = 0, i;
	char *got = calloc((size_t)n, 1);
	struct epoll_event ev, evs[256];
	double t0 = now_ms();

	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0) {
			perror("socket");
			return -1;
		}
		if (connect(fds[i], (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
		    errno != EINPROGRESS) {
			perror("connect");
			return -1;
		}
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	while (done < n) {
		int k = epoll_wait(ep, evs, 256, 10000);
		if (k <= 0) {
			fprintf(stderr, "timeout: %d of %d banners\n", done, n);
			return -1;
		}
		for (i = 0; i < k; i++) {
			int idx = (int)evs[i].data.u32;
			char buf[512];
			ssize_t r = read(fds[idx], buf, sizeof(buf));
			if (r <= 0 || got[idx])
				continue;
			if (r >= 4 && memcmp(buf, "220 ", 4) == 0) {
				got[idx] = 1;
				done++;
				epoll_ctl(ep, EPOLL_CTL_DEL, fds[idx], NULL);
			} else {
				fprintf(stderr, "unexpected banner: %.*s", (int)r, buf);
				return -1;
			}
		}
	}
	*elapsed = now_ms() - t0;
	close(ep);
	free(got);
	return 0;
}

/* TLS: blocking connect + handshake + banner, one after the other. */
static int
tls_banners(const struct sockaddr_in *sa, int n, int *fds, gnutls_session_t *sess, double *elapsed)
{
	gnutls_certificate_credentials_t cred;
	double t0 = now_ms();
	int i, one = 1;

	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&cred);
	for (i = 0; i < n; i++) {
		char buf[512];
		ssize_t r;
		int ret;

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fds[i], (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
			perror("connect");
			return -1;
		}
		gnutls_init(&sess[i], GNUTLS_CLIENT);
		gnutls_set_default_priority(sess[i]);
		gnutls_credentials_set(sess[i], GNUTLS_CRD_CERTIFICATE, cred);
		gnutls_transport_set_int(sess[i], fds[i]);
		do {
			ret = gnutls_handshake(sess[i]);
		} while (ret < 0 && !gnutls_error_is_fatal(ret));
		if (ret < 0) {
			fprintf(stderr, "handshake %d: %s\n", i, gnutls_strerror(ret));
			return -1;
		}
		do {
			r = gnutls_record_recv(sess[i], buf, sizeof(buf));
		} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
		if (r < 4 || memcmp(buf, "220 ", 4) != 0) {
			fprintf(stderr, "no banner on TLS connection %d: %zd\n", i, r);
			return -1;
		}
	}
	*elapsed = now_ms() - t0;
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int n, pid, tls, *fds, i;
	gnutls_session_t *sess = NULL;
	long before, after;
	double elapsed = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_smtpd_conn HOST PORT COUNT DAEMON_PID [tls]\n");
		return 2;
	}
	raise_nofile();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	n = atoi(argv[3]);
	pid = atoi(argv[4]);
	tls = argc > 5 && strcmp(argv[5], "tls") == 0;
	fds = calloc((size_t)n, sizeof(*fds));
	if (tls)
		sess = calloc((size_t)n, sizeof(*sess));
	before = rss_kb(pid);
	if ((tls ? tls_banners(&sa, n, fds, sess, &elapsed) : plain_banners(&sa, n, fds, &elapsed)) != 0)
		return 1;
	usleep(300 * 1000);	/* let the daemon settle: buffers freed after the banner */
	after = rss_kb(pid);
	printf("mode=%s conns=%d banner_ms=%.1f rss_before_kb=%ld rss_after_kb=%ld per_conn_bytes=%.0f\n",
	    tls ? "tls" : "plain", n, elapsed, before, after,
	    (double)(after - before) * 1024.0 / n);
	for (i = 0; i < n; i++) {
		if (tls) {
			gnutls_bye(sess[i], GNUTLS_SHUT_WR);
			gnutls_deinit(sess[i]);
		}
		close(fds[i]);
	}
	return 0;
}
