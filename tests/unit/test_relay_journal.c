/* test_relay_journal.c - relay/journal.c replay (whole, torn anywhere, bad checksum, out of order) and relay/ctl.c requests. */
#include <errno.h>
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

#include "ctl.h"
#include "journal.h"

static const char *const rcpts[] = { "<bob@example.org>", "<carol with space@example.org>" };

/* A history: envelope, one attempt (one delivered, one deferred), next attempt, hold, release, a second attempt failing the other, bounce, fate. */
static void
history(struct journal_buf *b)
{
	journal_rec_envelope(b, 1000, 42, "<alice@example.com>", rcpts, 2);
	journal_rec_attempt(b, 2000, "[127.0.0.1]:25");
	journal_rec_outcome(b, 2000, 0, JOURNAL_R_DELIVERED, "250 2.0.0 Ok: queued as X");
	journal_rec_outcome(b, 2000, 1, JOURNAL_R_DEFERRED, "451 4.3.0 Try again % later\r\nx");
	journal_rec_next(b, 2000, 302000);
	journal_rec_hold(b, 3000, 1);
	journal_rec_hold(b, 4000, 0);
	journal_rec_attempt(b, 5000, "-");
	journal_rec_outcome(b, 5000, 1, JOURNAL_R_FAILED, "");
	journal_rec_bounce(b, 5000, "0190aaaa-0000-7000-8000-000000000000");
	journal_rec_fate(b, 5001, JOURNAL_FAILED);
}

static void
test_roundtrip(void **state)
{
	struct journal_buf b = { NULL, 0, 0 };
	struct journal_state st;

	(void)state;
	history(&b);
	memset(&st, 0, sizeof(st));
	assert_int_equal(journal_replay(&st, b.p, b.len), b.len);
	assert_int_equal(st.have_envelope, 1);
	assert_true(st.arrival_ms == 1000 && st.size == 42);
	assert_string_equal(st.sender, "<alice@example.com>");
	assert_int_equal(st.nrcpts, 2);
	assert_string_equal(st.rcpts[1].address, "<carol with space@example.org>");
	assert_int_equal(st.rcpts[0].state, JOURNAL_R_DELIVERED);
	assert_string_equal(st.rcpts[0].reply, "250 2.0.0 Ok: queued as X");
	assert_int_equal(st.rcpts[1].state, JOURNAL_R_FAILED);
	assert_string_equal(st.rcpts[1].reply, "");
	assert_int_equal(st.attempts, 2);
	assert_true(st.next_ms == 302000);
	assert_int_equal(st.held, 0);
	assert_string_equal(st.bounce_id, "0190aaaa-0000-7000-8000-000000000000");
	assert_int_equal(st.fate, JOURNAL_FAILED);
	assert_int_equal(st.nevents, 5);	/* 2 attempts, 3 outcomes */
	assert_string_equal(st.events[1].text, "250 2.0.0 Ok: queued as X");
	assert_string_equal(st.events[2].text, "451 4.3.0 Try again % later\r\nx");
	assert_string_equal(st.events[3].text, "-");	/* a field that is just "-" is not "" */
	journal_state_free(&st);
	journal_buf_free(&b);
}

/*
 * Cut the journal at every byte: the replay takes exactly the whole
 * records before the cut, and gives the same state as those records alone.
 */
static void
test_torn_everywhere(void **state)
{
	struct journal_buf b = { NULL, 0, 0 };
	struct journal_state st, ref;
	size_t cut, valid, lines_end = 0;

	(void)state;
	history(&b);
	for (cut = 0; cut <= b.len; cut++) {
		memset(&st, 0, sizeof(st));
		valid = journal_replay(&st, b.p, cut);
		/* The last '\n' at or before cut ends the valid prefix. */
		lines_end = 0;
		for (size_t i = 0; i < cut; i++)
			if (b.p[i] == '\n')
				lines_end = i + 1;
		assert_int_equal(valid, lines_end);
		memset(&ref, 0, sizeof(ref));
		assert_int_equal(journal_replay(&ref, b.p, lines_end), lines_end);
		assert_int_equal(st.attempts, ref.attempts);
		assert_int_equal(st.nrcpts, ref.nrcpts);
		assert_int_equal(st.fate, ref.fate);
		assert_int_equal(st.held, ref.held);
		journal_state_free(&st);
		journal_state_free(&ref);
	}
	journal_buf_free(&b);
}

/* A flipped byte (a torn block filled with garbage) stops the replay at that record. */
static void
test_bad_checksum(void **state)
{
	struct journal_buf b = { NULL, 0, 0 };
	struct journal_state st;
	char *third;

	(void)state;
	history(&b);
	third = strchr(strchr(strchr(b.p, '\n') + 1, '\n') + 1, '\n') + 1;	/* the 4th record: P */
	third[12] ^= 1;
	memset(&st, 0, sizeof(st));
	assert_int_equal(journal_replay(&st, b.p, b.len), (size_t)(third - b.p));
	assert_int_equal(st.nrcpts, 1);
	assert_int_equal(st.attempts, 0);
	journal_state_free(&st);
	/* Zero bytes where a record should be (a block never written). */
	memset(third, 0, 20);
	memset(&st, 0, sizeof(st));
	assert_int_equal(journal_replay(&st, b.p, b.len), (size_t)(third - b.p));
	journal_state_free(&st);
	journal_buf_free(&b);
}

/* Records in an order the writer never produces are refused. */
static void
test_order(void **state)
{
	struct journal_buf b = { NULL, 0, 0 }, e = { NULL, 0, 0 };
	struct journal_state st;

	(void)state;
	/* An attempt before any envelope. */
	journal_rec_attempt(&b, 1, "h");
	memset(&st, 0, sizeof(st));
	assert_int_equal(journal_replay(&st, b.p, b.len), 0);
	journal_state_free(&st);
	journal_buf_free(&b);
	/* An outcome for a recipient that does not exist. */
	journal_rec_envelope(&e, 1, 1, "<>", rcpts, 1);
	journal_rec_outcome(&b, 2, 1, JOURNAL_R_DELIVERED, "250");
	memset(&st, 0, sizeof(st));
	assert_int_equal(journal_replay(&st, e.p, e.len), e.len);
	assert_int_equal(journal_replay(&st, b.p, b.len), 0);
	assert_int_equal(st.rcpts[0].state, JOURNAL_R_QUEUED);
	journal_state_free(&st);
	journal_buf_free(&b);
	/* Nothing after the fate; a second envelope. */
	journal_rec_fate(&b, 3, JOURNAL_DELIVERED);
	journal_rec_hold(&b, 4, 1);
	memset(&st, 0, sizeof(st));
	journal_replay(&st, e.p, e.len);
	assert_int_equal(journal_replay(&st, b.p, b.len), strchr(b.p, '\n') + 1 - b.p);
	assert_int_equal(st.fate, JOURNAL_DELIVERED);
	assert_int_equal(st.held, 0);
	journal_state_free(&st);
	memset(&st, 0, sizeof(st));
	journal_replay(&st, e.p, e.len);
	assert_int_equal(journal_replay(&st, e.p, e.len), 0);	/* V again */
	journal_state_free(&st);
	journal_buf_free(&b);
	journal_buf_free(&e);
}

/* journal_load keeps the valid bytes and reports the torn tail's size. */
static void
test_load(void **state)
{
	char dir[] = "/tmp/test_relay_journal.XXXXXX", path[128];
	struct journal_buf b = { NULL, 0, 0 }, keep = { NULL, 0, 0 };
	struct journal_state st;
	size_t valid, total;
	int dfd, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	history(&b);
	fd = openat(dfd, "j", O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, b.p, b.len - 5), (ssize_t)b.len - 5);
	close(fd);
	assert_int_equal(journal_load(dfd, "j", &st, &keep, &valid, &total), 0);
	assert_int_equal(total, b.len - 5);
	assert_true(valid < total);
	assert_int_equal(keep.len, valid);
	assert_memory_equal(keep.p, b.p, valid);
	assert_int_equal(st.fate, JOURNAL_OPEN);	/* the fate record was the torn one */
	assert_non_null(st.bounce_id);
	journal_state_free(&st);
	journal_buf_free(&keep);
	assert_int_equal(journal_load(dfd, "missing", &st, NULL, &valid, &total), -1);
	assert_int_equal(errno, ENOENT);
	unlinkat(dfd, "j", 0);
	close(dfd);
	rmdir(dir);
	snprintf(path, sizeof(path), "%s", dir);
	journal_buf_free(&b);
}

static void
test_ctl_parse(void **state)
{
	char id[CTL_ID_MAX];
	int cmd;

	(void)state;
	assert_int_equal(ctl_parse("hold abc\n", 9, &cmd, id), 0);
	assert_int_equal(cmd, CTL_HOLD);
	assert_string_equal(id, "abc");
	assert_int_equal(ctl_parse("flush\n", 6, &cmd, id), 0);
	assert_int_equal(cmd, CTL_FLUSH);
	assert_string_equal(id, "");
	assert_int_equal(ctl_parse("delete x\n", 9, &cmd, id), 0);
	assert_int_equal(cmd, CTL_DELETE);
	assert_int_equal(ctl_parse("release y\n", 10, &cmd, id), 0);
	assert_int_equal(cmd, CTL_RELEASE);
	assert_int_equal(ctl_parse("hold\n", 5, &cmd, id), -1);		/* needs an id */
	assert_int_equal(ctl_parse("hold abc", 8, &cmd, id), -1);	/* torn: no newline */
	assert_int_equal(ctl_parse("hold ../x\n", 10, &cmd, id), -1);
	assert_int_equal(ctl_parse("hold .x\n", 8, &cmd, id), -1);
	assert_int_equal(ctl_parse("hold a b\n", 9, &cmd, id), -1);
	assert_int_equal(ctl_parse("nuke a\n", 7, &cmd, id), -1);
	assert_int_equal(ctl_parse("hold a\nhold b\n", 14, &cmd, id), -1);
	assert_int_equal(ctl_parse("hold a\0\n", 8, &cmd, id), -1);
	assert_int_equal(ctl_parse("", 0, &cmd, id), -1);
}

static void
test_ctl_submit(void **state)
{
	char dir[] = "/tmp/test_relay_ctl.XXXXXX", name[128], err[256], path[256], data[64], id[CTL_ID_MAX];
	int fd, cmd;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ctl_submit(dir, CTL_DELETE, "0190", name, sizeof(name), err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/ctl/%s", dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, data, sizeof(data));
	close(fd);
	assert_int_equal(ctl_parse(data, (size_t)n, &cmd, id), 0);
	assert_int_equal(cmd, CTL_DELETE);
	assert_string_equal(id, "0190");
	unlink(path);
	assert_int_equal(ctl_submit(dir, CTL_HOLD, "", name, sizeof(name), err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/ctl", dir);
	assert_int_equal(rmdir(path), 0);	/* nothing left behind */
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_torn_everywhere),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_ctl_parse),
		cmocka_unit_test(test_ctl_submit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
