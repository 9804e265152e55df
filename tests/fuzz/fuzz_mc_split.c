/* fuzz_mc_split.c - libFuzzer target for the milter client's splitter: its promises, and the same events however the bytes are cut. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_split_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t fmax[] = { 4, 16, 300, 65535 - 1024 }, cmax[] = { 1, 5, 64, 65535 };
	size_t piece, field_max, chunk_max;
	const char *why1, *why2;
	char *whole, *cut;

	if (size < 2)
		return 0;
	/* byte 0: the piece size; byte 1: the bounds */
	piece = (size_t)data[0] + 1;
	field_max = fmax[data[1] & 3];
	chunk_max = cmax[(data[1] >> 2) & 3];
	whole = mc_split_run(data + 2, size - 2, (size_t)-1, field_max, chunk_max, &why1);
	cut = mc_split_run(data + 2, size - 2, piece, field_max, chunk_max, &why2);
	if (whole == NULL || cut == NULL) {
		fprintf(stderr, "fuzz_mc_split: %s\n", whole == NULL ? why1 : why2);
		abort();
	}
	if (strcmp(whole, cut) != 0) {
		fprintf(stderr, "fuzz_mc_split: pieces of %zu change the events:\n%s\n%s\n", piece, whole, cut);
		abort();
	}
	free(whole);
	free(cut);
	return 0;
}
