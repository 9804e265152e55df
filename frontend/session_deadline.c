/*
 * session_deadline.c - the time a client has for what it must send next.
 *
 * A deadline, not an idle timer: bytes that arrive do not move it, so a
 * client trickling one byte every few seconds cannot hold its slot (issue
 * 23.2). A command line must be complete within smtpd_command_timeout of
 * our previous reply; a TLS handshake within smtpd_tls_handshake_timeout
 * of its start; a DATA or BDAT transfer gets smtpd_data_timeout, extended
 * by each byte at smtpd_min_data_rate (Postfix's smtpd_min_data_rate with
 * per-request deadlines), never beyond smtpd_data_timeout from now. The
 * clock stops while our own work (milter, crypt, fsync) holds the session.
 * Under connection pressure every deadline is cut to smtpd_stress_timeout
 * (Postfix's stress mode), so that slow clients make room for real ones.
 */
#include "session.h"
#include "session_int.h"
#include "config.h"
#include "log.h"
#include "smtpd.h"

#include <event2/event.h>

static int session_stress;	/* stress mode is on */

int
session_stressed(void)
{
	return session_stress;
}

/* Seconds the client has for what it must send next, in its current state. */
static unsigned
session_client_timeout(const struct session *s)
{
	const struct postern_config *c = s->d->cfg;
	unsigned t;

	if (s->cs.state == SS_TLS_HANDSHAKE)
		t = c->smtpd_tls_handshake_timeout;
	else if (s->cs.state == SS_DATA || s->bdat_active)
		t = c->smtpd_data_timeout;
	else
		t = c->smtpd_command_timeout;
	if (session_stress && c->smtpd_stress_timeout < t)
		t = c->smtpd_stress_timeout;
	return t ? t : 1;
}

void
session_deadline_reset(struct session *s)
{
	s->deadline_ms = clock_ms_mono() + 1000ULL * session_client_timeout(s);
	s->paused_ms = 0;
}

void
session_deadline_credit(struct session *s, size_t n)
{
	unsigned rate = s->d->cfg->smtpd_min_data_rate;
	uint64_t cap;

	if (rate == 0 || !(s->cs.state == SS_DATA || s->bdat_active))
		return;
	cap = clock_ms_mono() + 1000ULL * session_client_timeout(s);
	s->deadline_ms += (uint64_t)n * 1000 / rate;
	if (s->deadline_ms > cap)
		s->deadline_ms = cap;
}

static void
session_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	s->deadline_armed_ms = 0;
	if (!s->busy && s->deadline_ms != 0 && clock_ms_mono() >= s->deadline_ms)
		session_timeout(s);
	session_update(s);
}

/*
 * After every event: stop the client's clock while we are busy, start it
 * again (shifted by our time) when we are done, and keep the timer on the
 * deadline. A timer is set only when the deadline changed.
 */
void
session_deadline_update(struct session *s)
{
	uint64_t now = clock_ms_mono();
	struct timeval tv;

	if (s->busy) {
		if (s->paused_ms == 0)
			s->paused_ms = now;
		if (s->deadline_armed_ms != 0) {
			evtimer_del(s->deadline_ev);
			s->deadline_armed_ms = 0;
		}
		return;
	}
	if (s->paused_ms != 0) {
		s->deadline_ms += now - s->paused_ms;
		s->paused_ms = 0;
	}
	if (s->deadline_ms == 0 || s->deadline_armed_ms == s->deadline_ms)
		return;
	if (s->deadline_ev == NULL)
		s->deadline_ev = evtimer_new(s->d->base, session_on_deadline, s);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	if (s->deadline_ms > now) {
		tv.tv_sec = (time_t)((s->deadline_ms - now) / 1000);
		tv.tv_usec = (suseconds_t)((s->deadline_ms - now) % 1000) * 1000;
	}
	evtimer_add(s->deadline_ev, &tv);
	s->deadline_armed_ms = s->deadline_ms;
}

/* Stress mode follows the connection count; entering it cuts every session's deadline. */
int
session_stress_check(struct smtpd *d, unsigned nsessions)
{
	const struct postern_config *c = d->cfg;
	int on = c->smtpd_stress_threshold != 0 && c->smtpd_max_connections != 0 &&
	    (uint64_t)nsessions * 100 >= (uint64_t)c->smtpd_stress_threshold * c->smtpd_max_connections;

	if (on == session_stress)
		return 0;
	session_stress = on;
	if (on)
		log_warnx("stress mode on: %u connections of %u; client deadlines cut to %us",
		    nsessions, c->smtpd_max_connections, c->smtpd_stress_timeout);
	else
		log_info("stress mode off: %u connections of %u", nsessions,
		    c->smtpd_max_connections);
	return on;
}

void
session_deadline_cut(struct session *s)
{
	uint64_t cap = clock_ms_mono() + 1000ULL * s->d->cfg->smtpd_stress_timeout;

	if (s->deadline_ms > cap) {
		s->deadline_ms = cap;
		session_deadline_update(s);
	}
}
