/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/blocks.h"
#include "store/sealing.h"
#include "store/shards.h"

/* The settings that name a key, in the order sealing_key() takes them. */
static const struct {
	size_t offset;
	enum sealkey_kind kind;
	const char *key;
} seal_keys[] = {
	{ offsetof(struct storage_conf, seal_verify_key), SEALKEY_SM2_PUBLIC, "seal_verify_key" },
	{ offsetof(struct storage_conf, seal_key_file), SEALKEY_HMAC, "seal_key_file" },
	{ offsetof(struct storage_conf, seal_sign_key), SEALKEY_SM2_PRIVATE, "seal_sign_key" },
};

static const char *seal_key_path(const struct storage_conf *c, size_t i)
{
	return *(char *const *)((const char *)c + seal_keys[i].offset);
}

int sealing_key(const struct storage_conf *c, struct sealkey **ret, char *err, size_t err_size)
{
	char why[256];
	int r;

	*ret = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(seal_keys); i++) {
		if (!seal_key_path(c, i))
			continue;
		r = sealkey_load(seal_keys[i].kind, seal_key_path(c, i), ret, why, sizeof(why));
		if (r < 0)
			(void)snprintf(err, err_size, "%s: %s", seal_keys[i].key, why);
		return r;
	}
	return 0;
}

void sealing_keys_check(const struct storage_conf *c,
			bool (*fn)(const char *key, const char *path, const char *why, void *ctx), void *ctx)
{
	struct sealkey *k;
	char why[256];

	for (size_t i = 0; i < ARRAY_SIZE(seal_keys); i++)
		if (seal_key_path(c, i) && fn(seal_keys[i].key, seal_key_path(c, i), NULL, ctx)) {
			if (sealkey_load(seal_keys[i].kind, seal_key_path(c, i), &k, why, sizeof(why)) < 0)
				(void)fn(seal_keys[i].key, seal_key_path(c, i), why, ctx);
			else
				sealkey_free(k);
		}
}

struct sealer {
	sqlite3 *meta; /* read-write, for the seals */
	struct storage_reader *rd;
	const struct sealkey *key;
	enum hash_alg chain;
	struct seal_audit audit;
	const struct seal_shared *shared; /* NULL: none */
};

int sealer_open(const char *data_dir, bool sync, const struct sealkey *key, enum hash_alg chain,
		const struct seal_audit *audit, const struct seal_shared *shared, struct sealer **ret)
{
	struct sealer *s = calloc(1, sizeof(*s));
	int r = s ? storage_meta_connect(data_dir, sync, &s->meta) : -ENOMEM;

	if (r == 0)
		r = storage_reader_open(data_dir, &s->rd);
	if (r < 0) {
		sealer_free(s);
		return r;
	}
	s->key = key;
	s->chain = chain;
	s->audit = *audit;
	s->shared = shared;
	*ret = s;
	return 0;
}

void sealer_free(struct sealer *s)
{
	if (!s)
		return;
	storage_reader_free(s->rd);
	db_close(s->meta);
	free(s);
}

/* One pass: the newest seal so far (what the next one links to) and the audit log's head now. */
struct pass {
	struct sealer *s;
	uint64_t now;
	uint32_t newest_day;
	bool have_last;
	struct seal last;
	int64_t audit_id;
	uint8_t audit_head[HASH_SIZE];
	char shared_chain[CHAIN_SHARED_NAME];
	int64_t shared_pos;
	uint8_t shared_head[HASH_SIZE];
	int made;
};

static int make_seal(struct pass *p, uint32_t day, const struct block_head *h, bool closed)
{
	struct seal n = { .id = p->have_last ? p->last.id + 1 : 1, .made = p->now, .day = day, .blocks = h->blocks,
			  .last_block = h->id, .audit_id = p->audit_id, .closed = closed };
	char msg[SEAL_MESSAGE_MAX];
	int len, r = p->have_last ? seal_link(&p->last, n.prev) : 0;

	memcpy(n.head, h->hash, HASH_SIZE);
	memcpy(n.audit_head, p->audit_head, HASH_SIZE);
	memcpy(n.shared_chain, p->shared_chain, sizeof(n.shared_chain));
	n.shared_pos = p->shared_pos;
	memcpy(n.shared_head, p->shared_head, HASH_SIZE);
	(void)snprintf(n.chain, sizeof(n.chain), "%s", hash_name(p->s->chain));
	(void)snprintf(n.method, sizeof(n.method), "%s", sealkey_method(p->s->key));
	(void)snprintf(n.key_id, sizeof(n.key_id), "%s", sealkey_id(p->s->key));
	len = r < 0 ? r : seal_message(&n, msg, sizeof(msg));
	r = len < 0 ? len : sealkey_sign(p->s->key, msg, (size_t)len, n.sig, &n.sig_len);
	if (r == 0)
		r = seals_insert(p->s->meta, &n);
	if (r < 0)
		return r;
	p->last = n;
	p->have_last = true;
	p->made++;
	return 0;
}

/* Whether what the newest day's seal binds besides the day moved: the audit log, the shared chain. */
static bool others_moved(const struct pass *p)
{
	return !p->have_last || p->last.audit_id != p->audit_id ||
	       memcmp(p->last.audit_head, p->audit_head, HASH_SIZE) != 0 ||
	       strcmp(p->last.shared_chain, p->shared_chain) != 0 || p->last.shared_pos != p->shared_pos;
}

/* Seals day if it changed since its last seal, has ended, or (the newest day) what else it binds moved. */
static int seal_day(uint32_t day, int64_t counted, void *ctx)
{
	struct pass *p = ctx;
	struct block_head h = { 0 };
	struct seal last;
	bool closed = ((uint64_t)day + 1) * 86400 * USEC_PER_SEC + SEAL_CLOSE_AFTER_US <= p->now;
	sqlite3 *db;
	int k = seals_newest(p->s->meta, day, &last);

	(void)counted;
	if (k < 0 || (k == 1 && last.closed))
		return MIN(k, 0);
	db = storage_reader_shard(p->s->rd, day);
	if (!db || blocks_head(db, &h) < 0) {
		log_warning("seals: the shard of day %u cannot be read; it is not sealed now", day);
		return 0;
	}
	if (k == 0 || h.id != last.last_block || h.blocks != last.blocks || memcmp(h.hash, last.head, HASH_SIZE) ||
	    closed || (day == p->newest_day && others_moved(p)))
		return make_seal(p, day, &h, closed);
	return 0;
}

int sealer_run(struct sealer *s, uint64_t now_us)
{
	struct pass p = { .s = s, .now = now_us };
	int r = db_exec(s->meta, "BEGIN IMMEDIATE");

	if (r == 0)
		r = s->audit.head(s->audit.ctx, &p.audit_id, p.audit_head);
	if (r == 0 && s->shared)
		r = s->shared->head(s->shared->ctx, p.shared_chain, &p.shared_pos, p.shared_head);
	if (r == 0)
		r = shards_newest(storage_reader_meta(s->rd), &p.newest_day);
	if (r == 0 && (r = seals_newest(s->meta, 0, &p.last)) >= 0)
		p.have_last = r == 1;
	if (r >= 0)
		r = shards_each_counted(storage_reader_meta(s->rd), seal_day, &p);
	/* No block yet: the audit log alone is sealed. */
	if (r == 0 && !p.newest_day && others_moved(&p))
		r = make_seal(&p, 0, &(struct block_head){ 0 }, false);
	r = db_end(s->meta, r);
	if (r < 0)
		return log_error_errno(r, "seals: cannot seal the store: %m");
	return p.made;
}

/* A walk over the seals, oldest first. */
struct check {
	struct storage_reader *rd;
	const struct sealkey *key;
	const struct seal_audit *audit;
	const struct seal_shared *shared;
	uint32_t keep_from_day;
	size_t max_problems;
	void (*problem)(int64_t seal, const char *what, void *userdata);
	void *userdata;
	bool have_prev;
	struct seal prev;
	struct seals_report *rep;
};

__attribute__((format(printf, 3, 4))) static void problem(struct check *c, int64_t seal, const char *fmt, ...)
{
	char what[320];
	va_list ap;

	if ((size_t)c->rep->problems++ >= c->max_problems)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->problem(seal, what, c->userdata);
}

/* The seal's place in the seals' own chain. */
static void check_link(struct check *c, const struct seal *s)
{
	static const uint8_t zeros[HASH_SIZE];
	uint8_t want[HASH_SIZE];

	if (!c->have_prev) {
		if (s->id != 1 || memcmp(s->prev, zeros, HASH_SIZE) != 0)
			problem(c, s->id, "the seals before it were removed");
		return;
	}
	if (s->id != c->prev.id + 1)
		problem(c, s->id, "seals %" PRId64 " to %" PRId64 " were removed", c->prev.id + 1, s->id - 1);
	else if (c->prev.sig_len && (seal_link(&c->prev, want) < 0 || memcmp(want, s->prev, HASH_SIZE) != 0))
		problem(c, s->id, "it does not follow seal %" PRId64 ": one of the two was altered", c->prev.id);
}

static void check_signature(struct check *c, const struct seal *s)
{
	char msg[SEAL_MESSAGE_MAX];
	int len;

	if (!c->key) {
		c->rep->unchecked++;
		return;
	}
	if (strcmp(s->key_id, sealkey_id(c->key)) != 0) {
		problem(c, s->id, "made with key %s, not with the key given (%s): its signature cannot be checked",
			s->key_id, sealkey_id(c->key));
		return;
	}
	len = seal_message(s, msg, sizeof(msg));
	if (len < 0 || sealkey_check(c->key, msg, (size_t)len, s->sig, s->sig_len) != 0)
		problem(c, s->id, "its signature does not match: the seal was altered or forged");
	else
		c->rep->checked++;
}

/* What the seal binds of the day's blocks is still there, unchanged. */
static void check_blocks(struct check *c, const struct seal *s)
{
	struct block_head h = { 0 };
	uint8_t hash[HASH_SIZE];
	char day[16];
	sqlite3 *db = NULL;
	int k;

	if (!s->day)
		return;
	format_day(s->day, day, sizeof(day));
	if (shards_known(storage_reader_meta(c->rd), s->day))
		db = storage_reader_shard(c->rd, s->day);
	if (!db) {
		if (s->day < c->keep_from_day)
			c->rep->expired++;
		else
			problem(c, s->id, "day %s was sealed but its shard is gone: a day was removed", day);
		return;
	}
	k = s->last_block ? blocks_hash_of(db, s->last_block, hash) : 0;
	if (k == -ENOENT)
		problem(c, s->id, "block %" PRId64 " of %s, which it sealed, is gone", s->last_block, day);
	else if (k == 0 && s->last_block && memcmp(hash, s->head, HASH_SIZE) != 0)
		problem(c, s->id, "block %" PRId64 " of %s has another hash than was sealed: the chain was rewritten",
			s->last_block, day);
	if (blocks_head(db, &h) < 0)
		return;
	if (h.blocks < s->blocks)
		problem(c, s->id, "%s holds %" PRId64 " blocks, %" PRId64 " were sealed: blocks were removed", day,
			h.blocks, s->blocks);
	else if (s->closed && h.blocks > s->blocks)
		problem(c, s->id, "%s holds %" PRId64 " blocks, %" PRId64 " when it was closed: blocks were added",
			day, h.blocks, s->blocks);
}

static void check_audit(struct check *c, const struct seal *s)
{
	uint8_t hash[HASH_SIZE];
	int k;

	if (!s->audit_id || !c->audit)
		return;
	k = c->audit->hash_of(c->audit->ctx, s->audit_id, hash);
	if (k == -ENOENT)
		problem(c, s->id, "audit row %" PRId64 ", which it sealed, is gone", s->audit_id);
	else if (k == 0 && memcmp(hash, s->audit_head, HASH_SIZE) != 0)
		problem(c, s->id, "audit row %" PRId64 " has another hash than was sealed: the audit log was rewritten",
			s->audit_id);
}

/* What the seal binds of the shared store: this collector's chain there, as it stood. */
static void check_shared(struct check *c, const struct seal *s)
{
	uint8_t hash[HASH_SIZE];
	int k;

	if (!s->shared_chain[0] || !c->shared || (s->day && s->day < c->keep_from_day))
		return;
	k = c->shared->hash_of(c->shared->ctx, s->shared_chain, s->shared_pos, hash);
	if (k == -ENOENT)
		problem(c, s->id, "block %" PRId64 " of chain %s in the shared store, which it sealed, is gone: "
			"removed there", s->shared_pos, s->shared_chain);
	else if (k < 0)
		problem(c, s->id, "block %" PRId64 " of chain %s in the shared store cannot be read: %s",
			s->shared_pos, s->shared_chain, strerror(-k));
	else if (memcmp(hash, s->shared_head, HASH_SIZE) != 0)
		problem(c, s->id, "block %" PRId64 " of chain %s in the shared store has another hash than was sealed: "
			"the chain there was rewritten", s->shared_pos, s->shared_chain);
}

static int check_seal(const struct seal *s, void *ctx)
{
	struct check *c = ctx;

	c->rep->newest_made = s->made;
	check_link(c, s);
	if (!s->sig_len) {
		problem(c, s->id, "the seal's row is malformed");
		c->prev = *s;
		c->have_prev = true;
		return 0;
	}
	check_signature(c, s);
	check_blocks(c, s);
	check_audit(c, s);
	check_shared(c, s);
	c->prev = *s;
	c->have_prev = true;
	return 0;
}

int seals_verify(struct storage_reader *rd, const struct sealkey *key, const struct seal_audit *audit,
		 const struct seal_shared *shared, uint32_t keep_from_day, size_t max_problems,
		 void (*problem_fn)(int64_t seal, const char *what, void *userdata), void *userdata,
		 struct seals_report *ret)
{
	struct check c = { .rd = rd, .key = key, .audit = audit, .shared = shared, .keep_from_day = keep_from_day,
			   .max_problems = max_problems, .problem = problem_fn, .userdata = userdata, .rep = ret };

	int r;

	*ret = (struct seals_report){ 0 };
	r = seals_each(storage_reader_meta(rd), 0, 0, check_seal, &c);
	/* Every seal gone at once leaves nothing to link to: the key says there should be some. */
	if (r == 0 && key && !ret->newest_made && storage_reader_has_blocks(rd))
		problem(&c, 0, "the store holds blocks and no seal, though a seal key is configured: the seals were "
			       "removed, or no collector sealed with it yet");
	return r;
}
