/* smtpd_metrics.c - postern-smtpd's metric series: registered once, counted by the sessions. */
#include "smtpd_metrics.h"
#include "metrics.h"
#include "reply.h"
#include "milter_client/milter_client.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static metrics *sm;
static metrics_series *sm_conn_total, *sm_refused[SMR_COUNT], *sm_auth[SMA_COUNT];
static struct metrics_tls sm_tls;
static metrics_series *sm_replies[REPLY_COUNT];	/* made on first use, by reply id */
static metrics_series *sm_msgs, *sm_bytes, *sm_milter_rtt, *sm_milter[MC_CLOSE + 1];
static unsigned sm_text_series;		/* series made for milters' own codes */

/* Milter names come from the config, and change on reload: past this many, milter="other". */
#define SMTPD_METRICS_MILTER_NAMES_MAX	32
#define SMTPD_METRICS_MILTER_NAME_MAX	128	/* longer names are cut (label values stay short) */
#define FAILURES "postern_smtpd_milter_failures_total"
#define FAILURES_HELP "Milters given up on for a session (their default action applied), by " \
	"smtpd_milters entry and kind: connect (down), timeout (slow), closed, protocol (broken), " \
	"owner (smtpd_milter_check_owner)."
static unsigned sm_milter_names;	/* distinct milter names with series */

/* Milters choose their codes: past this many distinct ones, the rest share one series. */
#define SMTPD_METRICS_TEXT_SERIES_MAX	64

/* Round trips of a milter: a local one answers in well under a millisecond. */
static const double sm_rtt_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10, 30 };

#define REPLIES "postern_smtpd_replies_total"
#define REPLIES_HELP "Replies sent, by code and enhanced status code."

void
smtpd_metrics_init(uint64_t (*conn_fn)(void *), void *arg)
{
	static const char *const refusal[SMR_COUNT] = {
		"reason=\"max_connections\"", "reason=\"max_connections_per_ip\"",
		"reason=\"shutdown\"", "reason=\"proxy\""
	};
	static const char *const auth[SMA_COUNT] = {
		"result=\"ok\"", "result=\"failed\"", "result=\"blocked\"", "result=\"error\""
	};
	static const char *const action[MC_CLOSE + 1] = {
		"action=\"continue\"", "action=\"reject\"", "action=\"tempfail\"",
		"action=\"discard\"", "action=\"close\""
	};
	int i;

	sm = metrics_new();
	metrics_gauge_fn(sm, "postern_smtpd_connections", "Client connections open now.", NULL,
	    conn_fn, arg);
	sm_conn_total = metrics_counter(sm, "postern_smtpd_connections_total",
	    "Client connections admitted (past the limits and the PROXY header).", NULL);
	for (i = 0; i < SMR_COUNT; i++)
		sm_refused[i] = metrics_counter(sm, "postern_smtpd_connections_refused_total",
		    "Connections refused before the banner, by reason.", refusal[i]);
	metrics_tls_init(sm, &sm_tls, "postern_smtpd_tls_sessions_total",
	    "TLS handshakes completed (STARTTLS and implicit TLS), by version.",
	    "postern_smtpd_tls_handshake_failures_total", "TLS handshakes that failed or timed out.");
	for (i = 0; i < SMA_COUNT; i++)
		sm_auth[i] = metrics_counter(sm, "postern_smtpd_auth_total",
		    "AUTH attempts checked, by result.", auth[i]);
	sm_msgs = metrics_counter(sm, "postern_smtpd_messages_queued_total",
	    "Messages committed to the spool.", NULL);
	sm_bytes = metrics_counter(sm, "postern_smtpd_bytes_queued_total",
	    "Bytes of the messages committed to the spool.", NULL);
	/* The family's first series, so that HELP and TYPE come from here. */
	smtpd_metrics_reply_id(-1);
	sm_milter_rtt = metrics_histogram(sm, "postern_smtpd_milter_round_trip_seconds",
	    "From an event sent to the milters to their verdict.", NULL, sm_rtt_bounds,
	    sizeof(sm_rtt_bounds) / sizeof(sm_rtt_bounds[0]));
	for (i = 0; i <= MC_CLOSE; i++)
		sm_milter[i] = metrics_counter(sm, "postern_smtpd_milter_verdicts_total",
		    "Verdicts of the milters, by action (tempfail includes milter failures "
		    "under milter_default_action = tempfail).", action[i]);
}

void
smtpd_metrics_free(void)
{
	metrics_free(sm);
	sm = NULL;
	sm_text_series = 0;
	sm_milter_names = 0;
	memset(sm_replies, 0, sizeof(sm_replies));
}

const metrics *
smtpd_metrics_get(void)
{
	return sm;
}

uint64_t
smtpd_metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
smtpd_metrics_connection(void)
{
	if (sm)
		metrics_inc(sm_conn_total);
}

void
smtpd_metrics_refused(enum smtpd_refusal why)
{
	if (sm && why < SMR_COUNT)
		metrics_inc(sm_refused[why]);
}

void
smtpd_metrics_tls(const char *version)
{
	if (sm)
		metrics_tls_count(&sm_tls, version);
}

void
smtpd_metrics_auth(enum smtpd_auth_result r)
{
	if (sm && r < SMA_COUNT)
		metrics_inc(sm_auth[r]);
}

/* The series of one code and enhanced code, shared by every row (and milter text) with them. */
static metrics_series *
smtpd_metrics_reply_series(int code, const char *xcode)
{
	char label[64];
	metrics_series *s;

	snprintf(label, sizeof(label), "code=\"%03d\",enhanced=\"%s\"", code, xcode ? xcode : "");
	if ((s = metrics_find(sm, REPLIES, label)) == NULL)
		s = metrics_counter(sm, REPLIES, REPLIES_HELP, label);
	return s;
}

void
smtpd_metrics_reply_id(int id)
{
	const struct reply_row *row;

	if (sm == NULL)
		return;
	if (id < 0) {
		/* Registration: the banner's row opens the family. */
		sm_replies[R_BANNER] = smtpd_metrics_reply_series(reply_get(R_BANNER)->code,
		    reply_get(R_BANNER)->xcode);
		return;
	}
	if (id >= REPLY_COUNT)
		return;
	if (sm_replies[id] == NULL) {
		row = reply_get((enum reply_id)id);
		sm_replies[id] = smtpd_metrics_reply_series(row->code, row->xcode);
	}
	metrics_inc(sm_replies[id]);
}

void
smtpd_metrics_reply_text(const char *text)
{
	char xcode[16], label[64];
	metrics_series *s;
	size_t n;
	int code;

	if (sm == NULL || !isdigit((unsigned char)text[0]) || !isdigit((unsigned char)text[1]) ||
	    !isdigit((unsigned char)text[2]))
		return;
	/* "550 5.7.1 ..." or "550-5.7.1 ...": the enhanced code if it looks like one. */
	xcode[0] = '\0';
	if ((text[3] == ' ' || text[3] == '-') && isdigit((unsigned char)text[4]) && text[5] == '.') {
		n = strspn(text + 4, "0123456789.");
		if (n < sizeof(xcode)) {
			memcpy(xcode, text + 4, n);
			xcode[n] = '\0';
		}
	}
	code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
	snprintf(label, sizeof(label), "code=\"%03d\",enhanced=\"%s\"", code, xcode);
	if ((s = metrics_find(sm, REPLIES, label)) == NULL) {
		if (sm_text_series >= SMTPD_METRICS_TEXT_SERIES_MAX) {
			snprintf(label, sizeof(label), "code=\"other\",enhanced=\"other\"");
			if ((s = metrics_find(sm, REPLIES, label)) == NULL)
				s = metrics_counter(sm, REPLIES, REPLIES_HELP, label);
		} else {
			sm_text_series++;
			s = metrics_counter(sm, REPLIES, REPLIES_HELP, label);
		}
	}
	metrics_inc(s);
}

void
smtpd_metrics_queued(uint64_t bytes)
{
	if (sm == NULL)
		return;
	metrics_inc(sm_msgs);
	metrics_add(sm_bytes, bytes);
}

/*
 * The label value of a milter name, escaped as the text format wants
 * (backslash, double quote, newline) and cut at a bound.
 */
static void
smtpd_metrics_label_value(const char *in, char *out, size_t len)
{
	size_t o = 0, i;

	for (i = 0; in[i] != '\0' && i < SMTPD_METRICS_MILTER_NAME_MAX && o + 3 < len; i++) {
		if (in[i] == '\\' || in[i] == '"') {
			out[o++] = '\\';
			out[o++] = in[i];
		} else if (in[i] == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

/* The failure series of milter and kind; create: make the milter's series if new. */
static metrics_series *
smtpd_metrics_failure_series(const char *milter, enum mc_fail_kind kind)
{
	char value[2 * SMTPD_METRICS_MILTER_NAME_MAX + 4], label[sizeof(value) + 64];
	metrics_series *s;
	int k;

	smtpd_metrics_label_value(milter, value, sizeof(value));
	snprintf(label, sizeof(label), "milter=\"%s\",kind=\"%s\"", value, mc_fail_kind_name(kind));
	if ((s = metrics_find(sm, FAILURES, label)) != NULL)
		return s;
	if (sm_milter_names >= SMTPD_METRICS_MILTER_NAMES_MAX)
		snprintf(value, sizeof(value), "other");
	else
		sm_milter_names++;
	/* Every kind of a new name at once: they are read side by side. */
	for (k = 0; k < MC_FAIL_KINDS; k++) {
		snprintf(label, sizeof(label), "milter=\"%s\",kind=\"%s\"", value,
		    mc_fail_kind_name((enum mc_fail_kind)k));
		if (metrics_find(sm, FAILURES, label) == NULL)
			(void)metrics_counter(sm, FAILURES, FAILURES_HELP, label);
	}
	snprintf(label, sizeof(label), "milter=\"%s\",kind=\"%s\"", value, mc_fail_kind_name(kind));
	return metrics_find(sm, FAILURES, label);
}

void
smtpd_metrics_milter_declare(const char *milter)
{
	if (sm != NULL)
		(void)smtpd_metrics_failure_series(milter, MC_FAIL_CONNECT);
}

void
smtpd_metrics_milter_failure(const char *milter, enum mc_fail_kind kind)
{
	metrics_series *s;

	if (sm != NULL && kind < MC_FAIL_KINDS && (s = smtpd_metrics_failure_series(milter, kind)))
		metrics_inc(s);
}

void
smtpd_metrics_milter(int action, uint64_t round_trip_us)
{
	if (sm == NULL)
		return;
	metrics_observe_us(sm_milter_rtt, round_trip_us);
	if (action >= 0 && action <= MC_CLOSE)
		metrics_inc(sm_milter[action]);
}
