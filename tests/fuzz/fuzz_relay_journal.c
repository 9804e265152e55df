/* fuzz_relay_journal.c - libFuzzer target: journal replay and control requests on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/ctl.h"
#include "relay/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_state st, again;
	size_t valid, i;
	char id[CTL_ID_MAX];
	int cmd;

	memset(&st, 0, sizeof(st));
	valid = journal_replay(&st, (const char *)data, size);
	if (valid > size || (valid > 0 && data[valid - 1] != '\n'))
		abort();
	for (i = 0; i < st.nevents; i++)
		if (st.events[i].type == 'R' && st.events[i].rcpt >= st.nrcpts)
			abort();
	/* The valid prefix alone replays to the same point. */
	memset(&again, 0, sizeof(again));
	if (journal_replay(&again, (const char *)data, valid) != valid || again.attempts != st.attempts ||
	    again.fate != st.fate)
		abort();
	journal_state_free(&st);
	journal_state_free(&again);
	if (ctl_parse((const char *)data, size, &cmd, id) == 0 && (ctl_cmd_name(cmd) == NULL ||
	    (id[0] && !ctl_id_ok(id))))
		abort();
	return 0;
}
