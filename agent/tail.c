/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"
#include "agent/tail.h"
#include "agent/tail-internal.h"
#include "parse/container.h"
#include "parse/out.h"

#define READ_CHUNK (256 * 1024)
/* A writer may still append to a renamed file until it reopens its log. */
#define ROTATE_WAIT_US (2 * USEC_PER_SEC)


static void file_free(struct tail_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		(void)close(f->fd);
	if (f->copy_fd >= 0)
		(void)close(f->copy_fd);
	buf_free(&f->fields);
	buf_free(&f->partial);
	free(f->buf);
	free(f->path);
	free(f);
}

/* SHA-256 of the first min(size, SPOOL_FP_MAX) bytes: tells a reused inode apart. */
static int fingerprint(int fd, uint64_t size, uint32_t len, uint8_t out[SHA256_SIZE],
		       uint32_t *ret_len)
{
	uint8_t head[SPOOL_FP_MAX];
	ssize_t n;

	if (len == 0)
		len = (uint32_t)MIN(size, (uint64_t)SPOOL_FP_MAX);
	n = pread(fd, head, len, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -ENODATA;
	if (sha256(head, len, out) < 0)
		return -ENOMEM;
	*ret_len = len;
	return 0;
}

static bool fingerprint_matches(int fd, const uint8_t fp[SHA256_SIZE], uint32_t len)
{
	uint8_t now[SHA256_SIZE];
	uint32_t got;

	return fingerprint(fd, len, len, now, &got) == 0 && memcmp(now, fp, SHA256_SIZE) == 0;
}

static int file_new(struct tail_source *t, const char *path, int fd, const struct stat *st,
		    struct tail_file **ret)
{
	struct tail_file *f = calloc(1, sizeof(*f));
	int r = -ENOMEM;

	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->copy_fd = -1;
	f->src = t;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->buf_cap = t->conf->max_line_bytes + READ_CHUNK;
	f->path = strdup(path);
	f->buf = malloc(f->buf_cap);
	buf_init(&f->fields, 2 * 4096 + 512);
	buf_init(&f->partial, t->conf->max_line_bytes);
	if (!f->path || !f->buf)
		goto fail;
	r = export_put_str(&f->fields, FIELD_SOURCE, t->conf->name);
	if (r == 0)
		r = export_put_str(&f->fields, FIELD_PATH, path);
	if (r == 0 && t->format->decode != line_format_find("plain")->decode)
		r = container_path_fields(path, &f->fields);
	if (r < 0)
		goto fail;
	f->fd = fd;
	*ret = f;
	return 0;
fail:
	file_free(f);
	return r;
}

static void file_rewind(struct tail_file *f)
{
	tail_partial_drop(f);
	f->offset = f->read_pos = 0;
	f->buf_len = 0;
	f->skipping = false;
	f->fp_len = 0;
	f->dirty = true;
}

/*
 * Reads fd from f->read_pos to at most limit, budget bytes at most.
 * Returns 1 if data is left, 0 at the end, or -errno.
 */
static int read_fd(struct tail_file *f, int fd, uint64_t limit, size_t *budget, bool final)
{
	const struct source_sink *s = &f->src->sink;
	ssize_t n;
	int r;

	while (*budget > 0) {
		size_t want = f->buf_cap - f->buf_len;
		if (!s->can_read(s->userdata))
			return 1;
		if (limit != UINT64_MAX)
			want = (size_t)MIN((uint64_t)want, limit - f->read_pos);
		if (want == 0)
			n = 0;
		else
			n = pread(fd, f->buf + f->buf_len, want, (off_t)f->read_pos);
		if (n < 0)
			return -errno;
		if (n == 0)
			return final ? tail_emit_lines(f, true) : 0;
		f->read_pos += (uint64_t)n;
		f->buf_len += (size_t)n;
		*budget -= MIN(*budget, (size_t)n);
		r = tail_emit_lines(f, false);
		if (r < 0)
			return r;
	}
	return 1;
}

static struct tail_file *find_file(struct tail_source *t, uint64_t dev, uint64_t ino)
{
	for (struct tail_file *f = t->files; f; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

/*
 * The file of f's source that f's content now begins as, under a path that
 * still names it: f was copied over from it (cp app.log app.log.1 onto a
 * rotated file still followed), and its lines come from that one.
 */
static struct tail_file *original_of(struct tail_file *f)
{
	for (struct tail_file *g = f->src->files; g; g = g->next)
		if (g != f && !g->rotated_at && !g->done && g->fp_len && fingerprint_matches(f->fd, g->fp, g->fp_len))
			return g;
	return NULL;
}

/* A copy of what is read from elsewhere is not read again: f is let go at its end. */
static void let_go_as_copy(struct tail_file *f, const struct tail_file *orig)
{
	struct stat st;

	log_info("tail %s: %s%s (inode %" PRIu64 ") now holds a copy of %s; its lines are read from there, not again",
		 f->src->conf->name, f->rotated_at ? "the rotated " : "", f->path, f->ino, orig->path);
	if (fstat(f->fd, &st) == 0) {
		f->offset = f->read_pos = (uint64_t)st.st_size;
		(void)fingerprint(f->fd, (uint64_t)st.st_size, 0, f->fp, &f->fp_len);
	}
	f->buf_len = 0;
	f->skipping = false;
	tail_partial_drop(f);
	f->done = true;
	f->dirty = true;
}

/*
 * copytruncate copied the file before truncating it: lines the agent had not
 * read yet are in the copy. Finds a sibling with the same first bytes that
 * reaches past our offset and keeps it open to read the rest from.
 */
static int open_copy(struct tail_file *f)
{
	_cleanup_free_ char *dup = strdup(f->path);
	struct dirent *de;
	DIR *d;

	if (!dup || f->fp_len == 0 || !(d = opendir(dirname(dup))))
		return -ENOENT;
	while ((de = readdir(d))) {
		char p[4096];
		struct stat st;
		int fd;

		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(p, sizeof(p), "%s/%s", dup, de->d_name) >= sizeof(p))
			continue;
		/*
		 * Only regular files, looked at before they are opened: opening a
		 * FIFO waits for a writer (the whole agent with it), a device may act
		 * on being opened. O_NONBLOCK and O_NOFOLLOW for what changes between.
		 */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_ino != f->ino &&
		    (uint64_t)st.st_size >= f->offset && fingerprint_matches(fd, f->fp, f->fp_len)) {
			struct tail_file *followed = find_file(f->src, (uint64_t)st.st_dev, (uint64_t)st.st_ino);

			log_info("tail %s: %s was truncated at %" PRIu64 "; reading the rest from its copy %s",
				 f->src->conf->name, f->path, f->offset, p);
			/* A rotated file copied over: its own reading would repeat the copy. */
			if (followed && !followed->done)
				let_go_as_copy(followed, f);
			f->copy_fd = fd;
			f->copy_end = (uint64_t)st.st_size;
			(void)closedir(d);
			return 0;
		}
		(void)close(fd);
	}
	(void)closedir(d);
	return -ENOENT;
}

static void handle_truncation(struct tail_file *f)
{
	const struct source_sink *s = &f->src->sink;
	struct tail_file *orig;

	s->count(s->userdata, SPOOL_CTR_FILES_TRUNCATED);
	f->buf_len = 0;
	f->skipping = false;
	tail_partial_drop(f);
	orig = original_of(f);
	if (orig) {
		let_go_as_copy(f, orig);
		return;
	}
	if (open_copy(f) == 0) {
		f->read_pos = f->offset;
		return;
	}
	log_info("tail %s: %s was truncated, reading it from the start", f->src->conf->name, f->path);
	file_rewind(f);
}

/* Reads the copy to its end (under backpressure like any read); then the file from its start. */
static int read_copy(struct tail_file *f, size_t *budget)
{
	int r = read_fd(f, f->copy_fd, f->copy_end, budget, true);

	if (r != 0)
		return r;
	(void)close(f->copy_fd);
	f->copy_fd = -1;
	log_info("tail %s: rest of %s read from its copy, now reading it from the start", f->src->conf->name,
		 f->path);
	file_rewind(f);
	return 0;
}

/* Reads one file. Returns 1 if more is left, 0 if caught up, -errno on failure. */
static int file_read(struct tail_file *f, size_t *budget)
{
	struct tail_file *orig;
	struct stat st;
	int r;

	if (f->done)
		return 0;
	if (f->copy_fd >= 0 && (r = read_copy(f, budget)) != 0)
		return r;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	/* Refilled past our position after a truncation: only the first bytes tell. */
	if ((uint64_t)st.st_size < f->read_pos ||
	    (f->fp_len && !fingerprint_matches(f->fd, f->fp, f->fp_len)))
		handle_truncation(f);
	/* Emptied and refilled while rotated: cp was caught between the two. */
	if (f->rotated_at && f->read_pos == 0 && f->fp_len == 0 && st.st_size > 0 && (orig = original_of(f))) {
		let_go_as_copy(f, orig);
		return 0;
	}
	/* Known before any truncation can happen, so the copy can be found by it. */
	if (f->fp_len < SPOOL_FP_MAX && (uint64_t)st.st_size > f->fp_len)
		(void)fingerprint(f->fd, (uint64_t)st.st_size, 0, f->fp, &f->fp_len);
	r = read_fd(f, f->fd, UINT64_MAX, budget, false);
	if (r != 0)
		return r;
	if (f->rotated_at && now_monotonic_us() - f->rotated_at >= ROTATE_WAIT_US) {
		r = tail_emit_lines(f, true);
		if (r < 0)
			return r;
		log_debug("tail %s: %s read to its end after rotation", f->src->conf->name, f->path);
		f->done = true;
		f->dirty = true;
	}
	return 0;
}

/* Sets where a newly found file starts: its checkpoint, or head/tail. */
static void file_position(struct tail_source *t, struct tail_file *f, uint64_t size, bool first)
{
	struct spool_checkpoint cp;

	if (spool_checkpoint_get(t->spool, t->conf->name, f->dev, f->ino, &cp) == 0) {
		f->offset = f->read_pos = cp.offset;
		memcpy(f->fp, cp.fp, SHA256_SIZE);
		f->fp_len = cp.fp_len;
		/*
		 * Shorter, or other first bytes: truncated while we were away
		 * (its copy may hold the rest), or a new file on a reused inode.
		 */
		if (cp.offset > size || cp.fp_len > size || !fingerprint_matches(f->fd, cp.fp, cp.fp_len))
			handle_truncation(f);
		return;
	}
	if (first && strcmp(t->conf->read_from, "tail") == 0)
		f->offset = f->read_pos = size;
	f->dirty = true;
}

static int open_file(struct tail_source *t, const char *path, bool first)
{
	struct tail_file *f;
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : log_warning_errno(errno, "tail %s: cannot open %s: %m",
								t->conf->name, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return 0;
	}
	if (find_file(t, st.st_dev, st.st_ino)) {
		(void)close(fd);
		return 0;
	}
	r = file_new(t, path, fd, &st, &f);
	if (r < 0) {
		(void)close(fd);
		return log_error_errno(r, "tail %s: %s: %m", t->conf->name, path);
	}
	file_position(t, f, (uint64_t)st.st_size, first);
	f->next = t->files;
	t->files = f;
	log_debug("tail %s: following %s from offset %" PRIu64, t->conf->name, path, f->offset);
	return 0;
}

/* A path that now names another inode, or nothing, means f was rotated away. */
static void check_rotation(struct tail_file *f)
{
	struct stat st;

	if (f->rotated_at)
		return;
	if (stat(f->path, &st) == 0 && (uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino)
		return;
	f->rotated_at = now_monotonic_us();
	log_debug("tail %s: %s was rotated, reading the old file to its end", f->src->conf->name, f->path);
}

static void scan(struct tail_source *t)
{
	glob_t g = { 0 };
	bool first = !t->scanned_once;

	for (struct tail_file *f = t->files; f; f = f->next)
		check_rotation(f);
	if (glob(t->conf->path, GLOB_NOSORT, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			(void)open_file(t, g.gl_pathv[i], first);
	globfree(&g);
	t->scanned_once = true;
}

struct resume_ctx {
	struct tail_source *t;
	char *dir;
};

/*
 * A checkpoint whose inode no glob match holds: the agent stopped between a
 * rotation and the old file's end. Looks for the inode beside the pattern
 * and finishes it; otherwise the checkpoint is dropped.
 */
static void resume_rotated(const struct spool_checkpoint *cp, void *userdata)
{
	struct resume_ctx *rc = userdata;
	struct tail_source *t = rc->t;
	struct dirent *de;
	DIR *d;

	if (find_file(t, cp->dev, cp->ino))
		return;
	d = opendir(rc->dir);
	while (d && (de = readdir(d))) {
		char p[4096];
		struct stat st;

		if (de->d_ino != cp->ino ||
		    (size_t)snprintf(p, sizeof(p), "%s/%s", rc->dir, de->d_name) >= sizeof(p))
			continue;
		if (stat(p, &st) == 0 && (uint64_t)st.st_dev == cp->dev && (uint64_t)st.st_ino == cp->ino &&
		    (uint64_t)st.st_size > cp->offset &&
		    open_file(t, p, false) == 0 && t->files && t->files->ino == cp->ino) {
			t->files->rotated_at = now_monotonic_us() - ROTATE_WAIT_US;
			log_info("tail %s: finishing rotated file %s from offset %" PRIu64, t->conf->name, p,
				 t->files->offset);
			(void)closedir(d);
			return;
		}
	}
	if (d)
		(void)closedir(d);
	/* Deleted (or moved away) before we knew it was read to its end. */
	log_warning("tail %s: %s (inode %" PRIu64 ") is gone; lines written after offset %" PRIu64
		    " and not read before it went, if any, are lost.", t->conf->name,
		    cp->path ? cp->path : "?", cp->ino, cp->offset);
	t->sink.count(t->sink.userdata, SPOOL_CTR_FILES_VANISHED);
	(void)spool_checkpoint_forget(t->spool, t->conf->name, cp->dev, cp->ino);
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct tail_source *t = userdata;

	t->changed = true;
	t->sink.wake(t->sink.userdata);
	return 0;
}

static void tail_free(void *impl)
{
	struct tail_source *t = impl;

	if (!t)
		return;
	sd_event_source_disable_unref(t->inotify);
	buf_free(&t->scratch);
	buf_free(&t->line_fields);
	while (t->files) {
		struct tail_file *f = t->files;
		t->files = f->next;
		file_free(f);
	}
	free(t);
}

static void tail_tick(void *impl)
{
	struct tail_source *t = impl;

	t->changed = true;
}

static int tail_work(void *impl, size_t budget)
{
	struct tail_source *t = impl;
	int more = 0;

	if (t->changed) {
		t->changed = false;
		scan(t);
	}
	for (struct tail_file *f = t->files; f; f = f->next) {
		int r = file_read(f, &budget);
		if (r < 0) {
			log_warning_errno(r, "tail %s: reading %s failed (%m), ignoring.", t->conf->name, f->path);
			continue;
		}
		more |= r;
	}
	return more;
}

const uint8_t *tail_file_fields(const struct tail_file *f, size_t *ret_len)
{
	*ret_len = f->fields.len;
	return f->fields.data;
}

static size_t tail_checkpoints(void *impl, struct spool_checkpoint *cps, size_t cap)
{
	struct tail_source *t = impl;
	size_t n = 0;

	for (struct tail_file *f = t->files; f && n < cap; f = f->next) {
		if (!f->dirty)
			continue;
		/* Lines read from now on dirty it again, for the next snapshot. */
		f->dirty = false;
		f->cp = f->done ? CP_PENDING_FORGET : CP_PENDING;
		cps[n++] = (struct spool_checkpoint){
			.source = t->conf->name, .dev = f->dev, .ino = f->ino, .offset = f->offset,
			.fp_len = f->fp_len, .path = f->path, .forget = f->done,
		};
		memcpy(cps[n - 1].fp, f->fp, SHA256_SIZE);
	}
	return n;
}

static void checkpoints_failed(struct tail_source *t)
{
	for (struct tail_file *f = t->files; f; f = f->next)
		if (f->cp != CP_NONE) {
			f->cp = CP_NONE;
			f->dirty = true;
		}
}

static void checkpoints_stored(struct tail_source *t)
{
	struct tail_file **pp = &t->files;

	while (*pp) {
		struct tail_file *f = *pp;
		bool let_go = f->cp == CP_PENDING_FORGET;

		f->cp = CP_NONE;
		if (let_go) {
			*pp = f->next;
			file_free(f);
		} else {
			pp = &f->next;
		}
	}
}

static size_t tail_checkpoints_max(const void *impl)
{
	const struct tail_source *t = impl;
	size_t n = 0;

	for (const struct tail_file *f = t->files; f; f = f->next)
		n++;
	return n;
}

static void tail_checkpoints_done(void *impl, bool ok)
{
	if (ok)
		checkpoints_stored(impl);
	else
		checkpoints_failed(impl);
}

static const struct source_ops tail_source_ops = {
	.kind = "tail",
	.work = tail_work,
	.tick = tail_tick,
	.checkpoints_max = tail_checkpoints_max,
	.checkpoints = tail_checkpoints,
	.checkpoints_done = tail_checkpoints_done,
	.free = tail_free,
};

int tail_source_new(const struct tail_conf *conf, struct agent_parser *parser, struct spool *spool,
		    const struct source_sink *sink, sd_event *event, struct source *ret)
{
	_cleanup_free_ char *dup = strdup(conf->path);
	struct tail_source *t = calloc(1, sizeof(*t));
	struct resume_ctx rc;
	int r;

	if (!t || !dup) {
		free(t);
		return -ENOMEM;
	}
	t->conf = conf;
	t->format = line_format_find(conf->format);
	t->parser = parser;
	buf_init(&t->scratch, conf->max_line_bytes);
	buf_init(&t->line_fields, 2 * conf->max_line_bytes + PARSE_FIELDS_MAX * 2 * EXPORT_KEY_MAX);
	t->spool = spool;
	t->sink = *sink;
	t->changed = true;
	rc = (struct resume_ctx){ .t = t, .dir = dirname(dup) };
	/* Globs in directory names are found by the poll timer instead. */
	if (!strpbrk(rc.dir, "*?[")) {
		r = sd_event_add_inotify(event, &t->inotify, rc.dir,
					 IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY |
						 IN_CLOSE_WRITE | IN_ATTRIB,
					 on_inotify, t);
		if (r < 0)
			log_warning_errno(r, "tail %s: cannot watch %s (%m), polling only.", conf->name, rc.dir);
	}
	scan(t);
	r = spool_checkpoint_foreach(spool, conf->name, resume_rotated, &rc);
	if (r < 0) {
		tail_free(t);
		return r;
	}
	*ret = (struct source){ .ops = &tail_source_ops, .impl = t };
	return 0;
}
