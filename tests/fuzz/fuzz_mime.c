/* fuzz_mime.c - libFuzzer target for the streaming MIME scanner: no crash, bounded output, and split invariance.
 *
 * Each input is scanned three times: whole, cut at a point derived from its
 * first byte, and byte by byte (in small pieces when long). The serialized callbacks (data
 * runs merged) must be identical, else abort(). The first byte's low bit
 * also picks tight limits, so the limit errors are reached.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	char *buf;
	size_t len, cap;
	int data_open;
	unsigned data_idx;
	uint64_t dsum;			/* decoded bytes of the current leaf */
	const mime_limits *lim;
};

static void
put(struct trace *t, const void *p, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 256;
		if ((t->buf = realloc(t->buf, t->cap)) == NULL)
			abort();
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void
rec(struct trace *t, char what, const mime_part *p)
{
	char line[2048];
	int n;

	t->data_open = 0;
	n = snprintf(line, sizeof(line), "%c%u/%u %s|%d|%s|%s|%s|%s|%s|%d|%d|%d|%llu|%llu\n",
	    what, p->index, p->depth, p->content_type, p->has_content_type, p->boundary,
	    p->disposition, p->filename, p->content_id, p->charset, (int)p->cte,
	    p->is_multipart, p->is_message, (unsigned long long)p->raw_size,
	    (unsigned long long)p->decoded_size);
	put(t, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	/* Sizes and strings stay within their bounds. */
	if (p->depth > t->lim->max_depth || p->index >= t->lim->max_parts ||
	    memchr(p->filename, '\0', sizeof(p->filename)) == NULL ||
	    memchr(p->content_type, '\0', sizeof(p->content_type)) == NULL)
		abort();
}

static void
cb_header(void *ctx, const mime_part *p, const char *name, const char *value)
{
	struct trace *t = ctx;

	t->data_open = 0;
	put(t, "H", 1);
	put(t, name, strlen(name));
	put(t, ":", 1);
	put(t, value, strlen(value));
	put(t, "\n", 1);
	if (strlen(name) + strlen(value) > t->lim->max_header || p->index >= t->lim->max_parts)
		abort();
}

static void
cb_begin(void *ctx, const mime_part *p)
{
	struct trace *t = ctx;

	t->dsum = 0;
	rec(t, 'B', p);
}

static void
cb_data(void *ctx, const mime_part *p, const unsigned char *d, size_t n)
{
	struct trace *t = ctx;
	char hdr[32];

	if (n == 0 || p->is_multipart || p->is_message)
		abort();
	if (!t->data_open || t->data_idx != p->index) {
		put(t, hdr, (size_t)snprintf(hdr, sizeof(hdr), "D%u\n", p->index));
		t->data_open = 1;
		t->data_idx = p->index;
	}
	put(t, d, n);
	t->dsum += n;
}

static void
cb_end(void *ctx, const mime_part *p)
{
	struct trace *t = ctx;

	/* A leaf's decoded size is what part_data was given. */
	if (!p->is_multipart && !p->is_message && p->decoded_size != t->dsum)
		abort();
	t->dsum = 0;
	rec(t, 'E', p);
}

static const mime_callbacks cbs = { cb_header, cb_begin, cb_data, cb_end };

/* scan - feed data cut at cut (step > 0: in pieces of step bytes instead), into t. */
static void
scan(struct trace *t, const mime_limits *lim, const uint8_t *data, size_t size, size_t cut, size_t step)
{
	mime_scanner *s;
	enum mime_error e;
	char res[16];
	size_t i;

	memset(t, 0, sizeof(*t));
	t->lim = lim;
	s = mime_scanner_new(&cbs, t, lim);
	if (step > 0) {
		for (i = 0; i < size; i += step)
			mime_scanner_feed(s, (const char *)data + i, size - i < step ? size - i : step);
	} else {
		mime_scanner_feed(s, (const char *)data, cut);
		mime_scanner_feed(s, (const char *)data + cut, size - cut);
	}
	e = mime_scanner_finish(s);
	if (e != mime_scanner_error(s) || mime_error_str(e)[0] == '\0')
		abort();
	put(t, res, (size_t)snprintf(res, sizeof(res), "R%d\n", (int)e));
	mime_scanner_free(s);
}

static void
same(const struct trace *a, const struct trace *b)
{
	if (a->len != b->len || memcmp(a->buf, b->buf, a->len) != 0) {
		fprintf(stderr, "fuzz_mime: traces differ\n%.*s\n---\n%.*s\n",
		    (int)a->len, a->buf, (int)b->len, b->buf);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const mime_limits tight = { 4, 12, 256, 16 };
	static const mime_limits defaults = {
		MIME_DEFAULT_MAX_DEPTH, MIME_DEFAULT_MAX_PARTS,
		MIME_DEFAULT_MAX_HEADER, MIME_DEFAULT_MAX_HEADERS
	};
	const mime_limits *lim;
	struct trace whole, split, bytes;
	size_t cut;

	if (size == 0)
		return 0;
	lim = data[0] & 1 ? &tight : &defaults;
	cut = (size_t)data[0] * size / 256;
	scan(&whole, lim, data, size, size, 0);
	scan(&split, lim, data, size, cut, 0);
	same(&whole, &split);
	/* Byte by byte when short, else in small pieces picked by the last byte. */
	scan(&bytes, lim, data, size, 0, size <= 1024 ? 1 : 1 + data[size - 1] % 97);
	same(&whole, &bytes);
	free(bytes.buf);
	free(whole.buf);
	free(split.buf);
	return 0;
}
