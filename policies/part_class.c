/* part_class.c - the leaf-part classification table of postern-milter(8), in one place. */
#include "part_class.h"

#include <string.h>

static int
part_class_is(const char *type, const char *prefix)
{
	return strncmp(type, prefix, strlen(prefix)) == 0;
}

enum part_class_kind
part_class(const postern_part *p)
{
	int image = part_class_is(p->content_type, "image/");

	/* 1: containers carry no content of their own. */
	if (p->is_multipart || p->is_message)
		return PART_CLASS_CONTAINER;
	/* 2: the sender said so; this wins over every guess below. */
	if (strcmp(p->disposition, "attachment") == 0)
		return PART_CLASS_ATTACHMENT;
	/*
	 * 3, 4: mail clients name their inline images (Thunderbird, Apple Mail,
	 * Outlook and Gmail all send filename= or name=), so a file name alone
	 * must not turn an image shown in the text into an attachment.
	 */
	if (image && strcmp(p->disposition, "inline") == 0)
		return PART_CLASS_INLINE_IMAGE;
	if (image && p->content_id[0] != '\0' && (p->in_related || p->filename[0] == '\0'))
		return PART_CLASS_INLINE_IMAGE;
	/* 5: text not marked as an attachment is read as the body, named or not. */
	if (part_class_is(p->content_type, "text/"))
		return PART_CLASS_BODY_TEXT;
	/* 6: a file name on anything else means a file the recipient saves. */
	if (p->filename[0] != '\0')
		return PART_CLASS_ATTACHMENT;
	return PART_CLASS_OTHER;
}

const char *
part_class_name(enum part_class_kind k)
{
	switch (k) {
	case PART_CLASS_CONTAINER:
		return "container";
	case PART_CLASS_ATTACHMENT:
		return "attachment";
	case PART_CLASS_INLINE_IMAGE:
		return "inline image";
	case PART_CLASS_BODY_TEXT:
		return "body text";
	case PART_CLASS_OTHER:
		return "other";
	}
	return "other";
}
