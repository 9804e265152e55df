/* part_class.h - what a leaf MIME part is to the rules: body text, inline image, attachment or other. */
#ifndef POSTERN_PART_CLASS_H
#define POSTERN_PART_CLASS_H

#include "postern/policy.h"

enum part_class_kind {
	PART_CLASS_CONTAINER,		/* multipart or message/rfc822: judged by its children */
	PART_CLASS_ATTACHMENT,
	PART_CLASS_INLINE_IMAGE,
	PART_CLASS_BODY_TEXT,
	PART_CLASS_OTHER		/* unnamed, non-text, not an image: no empty-part rule applies */
};

/*
 * The one classification both empty-part rules use (attachment_empty,
 * inline_image_empty); the table it implements is in postern-milter(8),
 * row by row in the order below, first match wins.
 */
enum part_class_kind part_class(const postern_part *p);

/* "attachment", "inline image", ... for logs and tests. */
const char *part_class_name(enum part_class_kind k);

#endif
