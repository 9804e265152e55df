/*
 * magic.c - libmagic content detection: a bounded pool of handles sharing
 * one mapped database, and the pre-sniff that spares libmagic where its
 * answer cannot matter.
 *
 * libmagic handles are not thread-safe (a magic_set keeps its output
 * buffer and regex state inside): a handle is checked out by one thread for
 * one detection and given back. Handles belong to the engine, not to
 * threads, because libmilter's worker threads come and go: one handle per
 * thread meant one more database load for every new thread.
 *
 * The compiled database (magic.mgc, ~8 MB) is mapped once and handed to
 * every handle with magic_load_buffers(), which uses the buffer in place:
 * a detection that walks the whole database (any text part) touches those
 * pages once for the process, not once per handle.
 */
#include "engine_int.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC_POOL_MAX		8	/* handles at most, whatever the CPU count */
#define MAGIC_DB_MAX		4	/* compiled files in the search path */
#define MAGIC_MGC_NO		0xF11E041CU	/* libmagic's file.h MAGICNO, first word of a .mgc */

struct engine_magic {
	pthread_mutex_t lock;
	pthread_mutex_t create_lock;	/* one magic_open/magic_load at a time (see magic_handle_new) */
	pthread_cond_t returned;	/* a handle went back to idle */
	magic_t idle[MAGIC_POOL_MAX];	/* handles nobody holds */
	size_t nidle;
	size_t nopen;			/* handles in existence: idle + checked out */
	size_t max;
	size_t peak_out;		/* most handles checked out at once (tests) */
	size_t nwaits;			/* checkouts that had to wait (tests) */
	size_t ndetect;			/* checkouts, i.e. libmagic runs (tests) */
	/* The mapped database; ndb == 0: each handle runs magic_load(NULL) itself. */
	void *db[MAGIC_DB_MAX];
	size_t dblen[MAGIC_DB_MAX];
	size_t ndb;
};

/* --- the shared database ------------------------------------------------ */

/*
 * Whether a text magic path adds no rule: absent, or a file of comments
 * only (Debian's /etc/magic). A directory of magic files counts as rules.
 */
static int
magic_text_is_empty(const char *path)
{
	struct stat st;
	char line[512];
	int empty = 1;
	FILE *f;

	if (stat(path, &st) == -1)
		return errno == ENOENT;
	if (!S_ISREG(st.st_mode) || (f = fopen(path, "r")) == NULL)
		return 0;
	while (empty && fgets(line, sizeof(line), f) != NULL) {
		const char *p = line + strspn(line, " \t\r\n");
		if (*p != '\0' && *p != '#')
			empty = 0;
	}
	fclose(f);
	return empty;
}

/* Map one compiled file; 1 mapped, 0 absent, -1 present but not shareable. */
static int
magic_map_one(struct engine_magic *pool, const char *path)
{
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 8 ||
	    pool->ndb == MAGIC_DB_MAX) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	/*
	 * A database of the other byte order would be swapped in place by
	 * libmagic: not possible in a read-only shared mapping, so such a file
	 * is left to per-handle loading.
	 */
	if (*(const uint32_t *)p != MAGIC_MGC_NO) {
		munmap(p, (size_t)st.st_size);
		return -1;
	}
	pool->db[pool->ndb] = p;
	pool->dblen[pool->ndb++] = (size_t)st.st_size;
	return 1;
}

static void
magic_unmap(struct engine_magic *pool)
{
	while (pool->ndb > 0) {
		pool->ndb--;
		munmap(pool->db[pool->ndb], pool->dblen[pool->ndb]);
	}
}

/*
 * magic_map_db - map the compiled files of libmagic's default search path
 * ($MAGIC, else /etc/magic:/usr/share/misc/magic), as magic_load(NULL)
 * would read them: for each entry its ".mgc". A text file with rules (local
 * additions in /etc/magic) or a directory cannot be shared that way: then
 * nothing is mapped and every handle loads the path itself, as before.
 */
static void
magic_map_db(struct engine_magic *pool)
{
	const char *path = magic_getpath(NULL, 0);
	char *list, *elem, *save = NULL, mgc[4096];
	int shareable = 1;

	if (path == NULL)
		return;
	list = xstrdup(path);
	for (elem = strtok_r(list, ":", &save); elem && shareable; elem = strtok_r(NULL, ":", &save)) {
		size_t n = strlen(elem);
		int r;

		if (n > 4 && strcmp(elem + n - 4, ".mgc") == 0)
			r = magic_map_one(pool, elem);
		else if ((size_t)snprintf(mgc, sizeof(mgc), "%s.mgc", elem) >= sizeof(mgc))
			r = -1;
		else
			r = magic_map_one(pool, mgc);
		if (r == 0 && !magic_text_is_empty(elem))
			r = -1;
		if (r < 0)
			shareable = 0;
	}
	free(list);
	if (!shareable || pool->ndb == 0) {
		magic_unmap(pool);
		log_info("libmagic: database %s not shareable, one copy per handle", path);
	}
}

/* --- handles ------------------------------------------------------------ */

/*
 * A new handle on the shared database; NULL with a reason in err. Loading
 * is serialised: libmagic fills process-wide tables on first use and
 * magic_load(NULL) caches the default path in a static, unlocked.
 */
static magic_t
magic_handle_new(struct engine_magic *pool, char *err, size_t errlen)
{
	size_t regex_max = 1024;
	magic_t h;
	int rc;

	pthread_mutex_lock(&pool->create_lock);
	/* MIME type only: the verdicts compare "type/subtype" strings. */
	if ((h = magic_open(MAGIC_MIME_TYPE)) == NULL) {
		pthread_mutex_unlock(&pool->create_lock);
		snprintf(err, errlen, "libmagic: magic_open failed");
		return NULL;
	}
	if (pool->ndb > 0)
		rc = magic_load_buffers(h, pool->db, pool->dblen, pool->ndb);
	else
		rc = magic_load(h, NULL);
	pthread_mutex_unlock(&pool->create_lock);
	if (rc != 0) {
		snprintf(err, errlen, "libmagic: cannot load the default database: %s",
		    magic_error(h) ? magic_error(h) : "unknown error");
		magic_close(h);
		return NULL;
	}
	/*
	 * Regex tests scan at most this many bytes (libmagic's default 8192):
	 * on text parts that halves the time, while binary types, PDFs, images
	 * and shebang scripts are told apart by their first bytes anyway.
	 */
	magic_setparam(h, MAGIC_PARAM_REGEX_MAX, &regex_max);
	return h;
}

/*
 * magic_checkout - a handle for the calling thread alone: an idle one, a
 * new one while fewer than max exist, else wait until one is returned.
 * Creation runs outside the lock (it takes a fraction of a millisecond).
 */
static magic_t
magic_checkout(struct engine_magic *pool, char *err, size_t errlen)
{
	magic_t h;
	size_t out;

	pthread_mutex_lock(&pool->lock);
	while (pool->nidle == 0 && pool->nopen >= pool->max) {
		pool->nwaits++;
		pthread_cond_wait(&pool->returned, &pool->lock);
	}
	if (pool->nidle > 0) {
		h = pool->idle[--pool->nidle];
	} else {
		pool->nopen++;
		pthread_mutex_unlock(&pool->lock);
		h = magic_handle_new(pool, err, errlen);
		pthread_mutex_lock(&pool->lock);
		if (h == NULL) {
			pool->nopen--;
			pthread_cond_signal(&pool->returned);	/* a waiter may try in turn */
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
	}
	pool->ndetect++;
	out = pool->nopen - pool->nidle;
	if (out > pool->peak_out)
		pool->peak_out = out;
	pthread_mutex_unlock(&pool->lock);
	return h;
}

static void
magic_return(struct engine_magic *pool, magic_t h)
{
	size_t i;

	pthread_mutex_lock(&pool->lock);
	/* Returned twice, or more than exist: the exclusive-use invariant is broken. */
	for (i = 0; i < pool->nidle; i++)
		if (pool->idle[i] == h)
			abort();
	if (pool->nidle >= pool->nopen)
		abort();
	pool->idle[pool->nidle++] = h;
	/*
	 * The last detection in flight is over: give the database's pages back
	 * (MADV_DONTNEED on a read-only file mapping only drops them from this
	 * process; the page cache keeps them). A text part walks all ~8 MB of
	 * it, which a milter at rest kept resident (11 MB instead of 3); the
	 * next detection faults the pages in again from the page cache, 16 at
	 * a time (fault-around): 0.3 ms for the whole database at most, beside
	 * about 1 ms for the detection of a text part itself, and only when no
	 * other detection overlapped (bench/README.md, memory). Under the pool
	 * lock, so no handle reads the database meanwhile.
	 */
	if (pool->nidle == pool->nopen)
		for (i = 0; i < pool->ndb; i++)
			(void)madvise(pool->db[i], pool->dblen[i], MADV_DONTNEED);
	pthread_cond_signal(&pool->returned);
	pthread_mutex_unlock(&pool->lock);
}

/* --- engine_int.h ------------------------------------------------------- */

/*
 * engine_magic_new - a pool of at most max handles (0: one per online CPU,
 * 2 to MAGIC_POOL_MAX). The database is mapped and one handle opened now so
 * that a missing or broken database shows at startup, not as a tempfail
 * on every message; NULL with a reason in err.
 */
engine_magic *
engine_magic_new(size_t max, char *err, size_t errlen)
{
	struct engine_magic *pool = xcalloc(1, sizeof(*pool));
	magic_t h;

	if (max == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		max = n < 2 ? 2 : (size_t)n;
	}
	pool->max = max > MAGIC_POOL_MAX ? MAGIC_POOL_MAX : max;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_mutex_init(&pool->create_lock, NULL);
	pthread_cond_init(&pool->returned, NULL);
	magic_map_db(pool);
	if ((h = magic_handle_new(pool, err, errlen)) == NULL) {
		engine_magic_free(pool);
		return NULL;
	}
	pool->idle[pool->nidle++] = h;
	pool->nopen = 1;
	return pool;
}

/* Close every handle and unmap the database; all handles must be back. */
void
engine_magic_free(engine_magic *pool)
{
	if (pool == NULL)
		return;
	if (pool->nidle != pool->nopen)
		abort();	/* a detection still running: the engine is freed under a session */
	while (pool->nidle > 0)
		magic_close(pool->idle[--pool->nidle]);
	magic_unmap(pool);
	pthread_cond_destroy(&pool->returned);
	pthread_mutex_destroy(&pool->create_lock);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

/*
 * engine_magic_detect - MIME type of the first bytes of a part into out.
 * Returns 0, or -1 with a reason in err (database missing, libmagic error).
 */
int
engine_magic_detect(engine_magic *pool, const unsigned char *buf, size_t len,
    char *out, size_t outsize, char *err, size_t errlen)
{
	magic_t h = magic_checkout(pool, err, errlen);
	const char *type;
	int rc = 0;

	if (h == NULL)
		return -1;
	/* The result lives in the handle: copy it before anyone else may hold it. */
	if ((type = magic_buffer(h, buf, len)) == NULL) {
		snprintf(err, errlen, "libmagic: %s", magic_error(h) ? magic_error(h) : "unknown error");
		rc = -1;
	} else if (xstrlcpy(out, type, outsize) != 0) {
		out[0] = '\0';	/* a cut type would compare wrong: treat as unknown */
	}
	magic_return(pool, h);
	return rc;
}

/* Counters for the tests: the bound holds, handles outlive threads, libmagic is spared. */
void
engine_magic_stats(engine_magic *pool, struct engine_magic_stats *st)
{
	pthread_mutex_lock(&pool->lock);
	st->open = pool->nopen;
	st->max = pool->max;
	st->peak_out = pool->peak_out;
	st->waits = pool->nwaits;
	st->detections = pool->ndetect;
	st->shared_db = pool->ndb > 0;
	pthread_mutex_unlock(&pool->lock);
}

/* --- the pre-sniff ------------------------------------------------------ */

struct magic_sig {
	size_t off;
	const char *bytes;
	size_t len;
};

#define SIG(off, s)	{ off, s, sizeof(s) - 1 }

/*
 * Every way libmagic 5.44's database (Debian 12) reaches one of the
 * executable types of engine_magic_type_is_exec(): each test at the top of
 * a rule chain that ends in one of those MIME types. Read from the
 * compiled database, not guessed: ELF, MZ (DOS, NE, PE), Mach-O (thin
 * 0xfeedface/0xfeedfacf either endian, fat 0xcafebabe) at offset 0, and
 * the DOS COM heuristics of Magdir/msdos (INT 21h at small offsets, first
 * opcodes, a few packer strings); plus "#!" for the scripts.
 */
static const struct magic_sig magic_sigs[] = {
	SIG(0, "\x7f" "ELF"), SIG(0, "MZ"), SIG(0, "#!"),
	SIG(0, "\xfe\xed\xfa\xce"), SIG(0, "\xfe\xed\xfa\xcf"),
	SIG(0, "\xce\xfa\xed\xfe"), SIG(0, "\xcf\xfa\xed\xfe"),
	SIG(0, "\xca\xfe\xba\xbe"), SIG(0, "\xbe\xba\xfe\xca"),
	SIG(0, "\x81\xfc"), SIG(60, "W Collis"), SIG(252, "Must have DOS version"),
	SIG(369, "MICROSOFT PIFEX"),
};

/* First bytes of DOS COM programs (jumps, MOVs) and of OMF objects (0x80). */
static const unsigned char magic_first[] = { 0x80, 0x8c, 0xb8, 0xe9, 0xeb };

static int
magic_has(const unsigned char *buf, size_t len, size_t from, size_t to, const char *s, size_t n)
{
	size_t i;

	if (to > len)
		to = len;
	for (i = from; i + n <= to; i++)
		if (memcmp(buf + i, s, n) == 0)
			return 1;
	return 0;
}

/*
 * engine_magic_sniff - whether the first bytes of a part could make
 * libmagic name an executable, a library, an object or a shebang script.
 * 0 means it cannot (for the types of engine_magic_type_is_exec()); the
 * check costs a few dozen comparisons instead of libmagic's millisecond.
 */
int
engine_magic_sniff(const unsigned char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < sizeof(magic_sigs) / sizeof(magic_sigs[0]); i++) {
		const struct magic_sig *s = &magic_sigs[i];
		if (s->off + s->len <= len && memcmp(buf + s->off, s->bytes, s->len) == 0)
			return 1;
	}
	if (memchr(magic_first, buf[0], sizeof(magic_first)) != NULL)
		return 1;
	/* INT 21h at offsets 2..70; the COM loader stubs searched from offset 6 (search/10). */
	return magic_has(buf, len, 0, 72, "\xcd\x21", 2) ||
	    magic_has(buf, len, 6, 21, "\xfc\x57\xf3\xa4\xc3", 5) ||
	    magic_has(buf, len, 6, 21, "\xfc\x57\xf3\xa5\xc3", 5);
}

/*
 * engine_magic_type_is_exec - whether libmagic can return this MIME type
 * only for content engine_magic_sniff() flags. A reject list made of such
 * types alone (the default) lets the engine skip libmagic for every part
 * the sniff passes.
 */
int
engine_magic_type_is_exec(const char *type)
{
	static const char *const exec_types[] = {
		"application/x-executable", "application/x-pie-executable",
		"application/x-sharedlib", "application/x-object", "application/x-coredump",
		"application/x-elf", "application/x-dosexec", "application/x-msdownload",
		"application/vnd.microsoft.portable-executable", "application/x-mach-binary",
	};
	size_t i;

	for (i = 0; i < sizeof(exec_types) / sizeof(exec_types[0]); i++)
		if (strcasecmp(exec_types[i], type) == 0)
			return 1;
	return 0;
}
