/* test_part_class.c - each row of the leaf-part table of postern-milter(8), and the scanner's in_related flag it reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mime.h"
#include "part_class.h"

struct row {
	const char *what;
	const char *type, *disposition, *filename, *cid;
	int multipart, message, in_related;
	enum part_class_kind want;
};

/* Rows in the order of the man page table; several cases per row where the row says "with or without". */
static const struct row rows[] = {
	/* 1: containers */
	{ "multipart/mixed", "multipart/mixed", "", "", "", 1, 0, 0, PART_CLASS_CONTAINER },
	{ "message/rfc822 named attachment", "message/rfc822", "attachment", "fwd.eml", "", 0, 1, 0,
	  PART_CLASS_CONTAINER },
	/* 2: disposition attachment */
	{ "pdf attachment", "application/pdf", "attachment", "a.pdf", "", 0, 0, 0, PART_CLASS_ATTACHMENT },
	{ "unnamed attachment", "application/octet-stream", "attachment", "", "", 0, 0, 0,
	  PART_CLASS_ATTACHMENT },
	{ "text attachment", "text/plain", "attachment", "notes.txt", "", 0, 0, 0, PART_CLASS_ATTACHMENT },
	{ "Gmail image attachment with Content-ID", "image/png", "attachment", "p.png", "ii_1", 0, 0, 0,
	  PART_CLASS_ATTACHMENT },
	{ "image attachment in related", "image/png", "attachment", "p.png", "c1", 0, 0, 1,
	  PART_CLASS_ATTACHMENT },
	/* 3: image inline */
	{ "Apple Mail inline image", "image/jpeg", "inline", "IMG_1.jpeg", "5A@apple", 0, 0, 0,
	  PART_CLASS_INLINE_IMAGE },
	{ "inline image, no name, no cid", "image/gif", "inline", "", "", 0, 0, 0, PART_CLASS_INLINE_IMAGE },
	{ "inline image, name, no cid", "image/png", "inline", "logo.png", "", 0, 0, 0,
	  PART_CLASS_INLINE_IMAGE },
	/* 4: image with Content-ID inside multipart/related */
	{ "Thunderbird related image", "image/png", "", "logo.png", "part1.abc@example.com", 0, 0, 1,
	  PART_CLASS_INLINE_IMAGE },
	{ "related image, no name", "image/png", "", "", "logo@example.com", 0, 0, 1,
	  PART_CLASS_INLINE_IMAGE },
	/* 5: image with Content-ID, no file name, anywhere */
	{ "unnamed cid image in mixed", "image/png", "", "", "logo@example.com", 0, 0, 0,
	  PART_CLASS_INLINE_IMAGE },
	/* 6: text */
	{ "plain body", "text/plain", "", "", "", 0, 0, 0, PART_CLASS_BODY_TEXT },
	{ "named inline text", "text/plain", "inline", "body.txt", "", 0, 0, 0, PART_CLASS_BODY_TEXT },
	{ "html in related", "text/html", "", "", "", 0, 0, 1, PART_CLASS_BODY_TEXT },
	/* 7: other named parts */
	{ "named pdf, no disposition", "application/pdf", "", "a.pdf", "", 0, 0, 0, PART_CLASS_ATTACHMENT },
	{ "named pdf inline", "application/pdf", "inline", "a.pdf", "", 0, 0, 0, PART_CLASS_ATTACHMENT },
	{ "named cid image outside related", "image/png", "", "p.png", "c2", 0, 0, 0,
	  PART_CLASS_ATTACHMENT },
	{ "named image, no cid, no disposition", "image/png", "", "p.png", "", 0, 0, 1,
	  PART_CLASS_ATTACHMENT },
	/* 8: the rest */
	{ "unnamed octet-stream", "application/octet-stream", "", "", "", 0, 0, 0, PART_CLASS_OTHER },
	{ "unnamed image without cid", "image/png", "", "", "", 0, 0, 1, PART_CLASS_OTHER },
	{ "unnamed cid pdf in related", "application/pdf", "", "", "c3", 0, 0, 1, PART_CLASS_OTHER },
};

static void
test_table_rows(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		postern_part p;
		enum part_class_kind got;

		memset(&p, 0, sizeof(p));
		p.content_type = r->type;
		p.disposition = r->disposition;
		p.filename = r->filename;
		p.content_id = r->cid;
		p.charset = "";
		p.transfer_encoding = "base64";
		p.is_multipart = r->multipart;
		p.is_message = r->message;
		p.in_related = r->in_related;
		got = part_class(&p);
		if (got != r->want)
			fail_msg("%s: got %s, want %s", r->what, part_class_name(got), part_class_name(r->want));
	}
}

/* The scanner's side of row 4: in_related is set for children of multipart/related only. */
struct seen {
	char type[8][MIME_TYPE_MAX];
	int related[8];
	unsigned n;
};

static void
seen_begin(void *ctx, const mime_part *p)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->type[s->n], sizeof(s->type[0]), "%s", p->content_type);
		s->related[s->n++] = p->in_related;
	}
}

static void
test_in_related(void **state)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=m\n\n"
	    "--m\nContent-Type: multipart/related; boundary=r\n\n"
	    "--r\nContent-Type: text/html\n\n<img src=\"cid:a\">\n"
	    "--r\nContent-Type: image/png\nContent-ID: <a>\n\n"
	    "--r--\n"
	    "--m\nContent-Type: image/png; name=b.png\n\n"
	    "--m--\n";
	mime_callbacks cb = { .part_begin = seen_begin };
	struct seen s;
	mime_scanner *sc;

	(void)state;
	memset(&s, 0, sizeof(s));
	sc = mime_scanner_new(&cb, &s, NULL);
	mime_scanner_feed(sc, msg, sizeof(msg) - 1);
	assert_int_equal(mime_scanner_finish(sc), MIME_OK);
	mime_scanner_free(sc);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.type[0], "multipart/mixed");
	assert_int_equal(s.related[0], 0);
	assert_string_equal(s.type[1], "multipart/related");
	assert_int_equal(s.related[1], 0);
	assert_string_equal(s.type[2], "text/html");
	assert_int_equal(s.related[2], 1);
	assert_string_equal(s.type[3], "image/png");
	assert_int_equal(s.related[3], 1);
	assert_string_equal(s.type[4], "image/png");
	assert_int_equal(s.related[4], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_in_related),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
