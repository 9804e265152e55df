/* ctl.c - postern-queue's requests to the relay: one small file each, renamed into SPOOL/ctl/ whole. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const ctl_names[] = { "flush", "hold", "release", "delete" };

const char *
ctl_cmd_name(int cmd)
{
	return cmd >= 0 && cmd <= CTL_DELETE ? ctl_names[cmd] : NULL;
}

int
ctl_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n >= CTL_ID_MAX || id[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (id[i] == '/' || (unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return 0;
	return 1;
}

int
ctl_parse(const char *data, size_t len, int *cmd, char id[CTL_ID_MAX])
{
	char line[CTL_FILE_MAX + 1], *sp;
	int i;

	if (len == 0 || len > CTL_FILE_MAX || data[len - 1] != '\n' ||
	    memchr(data, '\n', len) != data + len - 1 || memchr(data, '\0', len) != NULL)
		return -1;
	memcpy(line, data, len - 1);
	line[len - 1] = '\0';
	if ((sp = strchr(line, ' ')) != NULL)
		*sp++ = '\0';
	for (i = 0; i <= CTL_DELETE; i++)
		if (strcmp(line, ctl_names[i]) == 0)
			break;
	if (i > CTL_DELETE)
		return -1;
	if (sp == NULL) {
		if (i != CTL_FLUSH)
			return -1;
		id[0] = '\0';
	} else {
		if (!ctl_id_ok(sp))
			return -1;
		snprintf(id, CTL_ID_MAX, "%s", sp);
	}
	*cmd = i;
	return 0;
}

int
ctl_submit(const char *spool_dir, int cmd, const char *id, char *name, size_t namelen,
    char *err, size_t errlen)
{
	static unsigned seq;
	char dir[4096], tmp[64], text[CTL_FILE_MAX];
	struct timespec ts;
	int dfd, fd, n;

	if (ctl_cmd_name(cmd) == NULL || (id[0] ? !ctl_id_ok(id) : cmd != CTL_FLUSH)) {
		snprintf(err, errlen, "bad request");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/ctl", spool_dir);
	if (mkdir(dir, 0770) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Time first, so that the relay applies requests in the order they were made. */
	snprintf(name, namelen, "%013llu.%06ld.%ld.%u", (unsigned long long)ts.tv_sec * 1000 +
	    (unsigned long long)ts.tv_nsec / 1000000, ts.tv_nsec / 1000 % 1000000,
	    (long)getpid(), seq++);
	snprintf(tmp, sizeof(tmp), ".tmp.%ld.%u", (long)getpid(), seq);
	n = snprintf(text, sizeof(text), id[0] ? "%s %s\n" : "%s\n", ctl_cmd_name(cmd), id);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660)) < 0)
		goto fail;
	if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
		close(fd);
		unlinkat(dfd, tmp, 0);
		goto fail;
	}
	close(fd);
	if (renameat(dfd, tmp, dfd, name) != 0) {
		unlinkat(dfd, tmp, 0);
		goto fail;
	}
	fsync(dfd);
	close(dfd);
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	close(dfd);
	return -1;
}
