/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/hash.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/sealing.h"
#include "store/storage.h"
#include "tests/unit/tmpdir.h"

/* GB/T 32905-2016, appendix A: the two examples. */
static void sm3_known_answers(void **state)
{
	static const char abcd16[] = "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd";
	uint8_t out[HASH_SIZE];
	char hex[2 * HASH_SIZE + 1];
	enum hash_alg alg;

	assert_int_equal(hash_digest(HASH_SM3, "abc", 3, out), 0);
	hex_encode(out, HASH_SIZE, hex);
	assert_string_equal(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
	assert_int_equal(hash_v(HASH_SM3, out, abcd16, (size_t)32, abcd16 + 32, (size_t)32, NULL), 0);
	hex_encode(out, HASH_SIZE, hex);
	assert_string_equal(hex, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
	assert_int_equal(hash_parse("sm3", &alg), 0);
	assert_int_equal(alg, HASH_SM3);
	assert_int_equal(hash_parse("md5", &alg), -EINVAL);
	assert_true(hash_available(HASH_SM3));
}

static void sub_dir(const char *name, char *out, size_t size)
{
	(void)snprintf(out, size, "%s/%s", test_dir, name);
	assert_int_equal(mkdir(out, 0700), 0);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void make_block(struct storage *s, struct block_in *b, uint64_t seq, const char *frame)
{
	*b = (struct block_in){ .seq = seq, .host = "web-1", .received_us = now_realtime_us(), .ts_min = seq,
				.ts_max = seq + 10, .records = 3, .raw_len = 99, .zframe = (const uint8_t *)frame,
				.zlen = strlen(frame), .n_streams = 1, .streams = { "app" } };
	memset(b->agent, 1, AGENT_ID_SIZE);
	assert_int_equal(hash_digest(storage_hash(s), frame, strlen(frame), b->digest), 0);
}

/* Stores one block of agent 1 with seq and frame. */
static void store(struct storage *s, uint64_t seq, const char *frame)
{
	struct block_in b, *group[1] = { &b };

	make_block(s, &b, seq, frame);
	assert_int_equal(storage_store(s, group, 1), 0);
	assert_int_equal(b.result, BLOCK_STORED);
}

static void count_problem(uint32_t day, int64_t block, const char *what, void *userdata)
{
	(void)day, (void)block, (void)what;
	++*(int *)userdata;
}

static int chain_problems(const char *dir)
{
	struct storage_reader *rd;
	uint64_t blocks;
	int seen = 0, r;

	assert_int_equal(storage_reader_open(dir, &rd), 0);
	r = storage_verify(rd, &blocks, 100, count_problem, &seen);
	storage_reader_free(rd);
	assert_int_equal(r, seen);
	return r;
}

/* A store chains with SM3 from its first block, and keeps it when the configuration says otherwise. */
static void sm3_store_keeps_its_algorithm(void **state)
{
	char dir[300], shard[400], day[16];
	struct block_in a, b, *group[2] = { &a, &b };
	struct storage *s;

	sub_dir("sm3", dir, sizeof(dir));
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SM3, &s), 0);
	store(s, 1, "frame-1");
	store(s, 2, "frame-2");
	/* A batch sent twice in one group is compared by the stored frame's digest: SM3's, as the dedup row's. */
	make_block(s, &a, 4, "frame-4");
	make_block(s, &b, 4, "frame-4");
	assert_int_equal(storage_store(s, group, 2), 0);
	assert_int_equal(a.result, BLOCK_STORED);
	assert_int_equal(b.result, BLOCK_DUPLICATE);
	storage_free(s);
	assert_int_equal(chain_problems(dir), 0);
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	assert_int_equal(storage_hash(s), HASH_SM3);
	store(s, 3, "frame-3");
	storage_free(s);
	assert_int_equal(chain_problems(dir), 0);
	/* The scheme that names SM3, on every block; a changed one shows. */
	format_day(day_of_us(now_realtime_us()), day, sizeof(day));
	(void)snprintf(shard, sizeof(shard), "%s/shards/%s.db", dir, day);
	assert_int_equal(query_int(shard, "SELECT count(*) FROM blocks WHERE chain = 5"), 4);
	exec_sql(shard, "UPDATE blocks SET host = 'forged' WHERE id = 2");
	assert_int_equal(chain_problems(dir), 1);
}

/* The audit log as the seals see it: rows 1..n with made-up hashes. */
struct fake_audit {
	int64_t n;
	uint8_t hash[8][HASH_SIZE];
};

static int fake_head(void *ctx, int64_t *ret_id, uint8_t ret_hash[HASH_SIZE])
{
	struct fake_audit *a = ctx;

	*ret_id = a->n;
	memcpy(ret_hash, a->n ? a->hash[a->n - 1] : (uint8_t[HASH_SIZE]){ 0 }, HASH_SIZE);
	return 0;
}

static int fake_hash_of(void *ctx, int64_t id, uint8_t ret_hash[HASH_SIZE])
{
	struct fake_audit *a = ctx;

	if (id < 1 || id > a->n)
		return -ENOENT;
	memcpy(ret_hash, a->hash[id - 1], HASH_SIZE);
	return 0;
}

struct found {
	int n;
	char last[320];
};

static void seal_problem(int64_t seal, const char *what, void *userdata)
{
	struct found *f = userdata;

	(void)seal;
	f->n++;
	(void)snprintf(f->last, sizeof(f->last), "%s", what);
}

static struct found check_with(const char *dir, const struct sealkey *key, const struct seal_audit *audit,
			       const struct seal_shared *shared, uint32_t keep_from_day, struct seals_report *rep)
{
	struct storage_reader *rd;
	struct found f = { 0 };

	assert_int_equal(storage_reader_open(dir, &rd), 0);
	assert_int_equal(seals_verify(rd, key, audit, shared, keep_from_day, 100, seal_problem, &f, rep), 0);
	storage_reader_free(rd);
	assert_int_equal(rep->problems, f.n);
	return f;
}

static struct found check(const char *dir, const struct sealkey *key, const struct seal_audit *audit,
			  uint32_t keep_from_day, struct seals_report *rep)
{
	return check_with(dir, key, audit, NULL, keep_from_day, rep);
}

static struct sealkey *hmac_key(const char *dir, const char *name, uint8_t fill)
{
	uint8_t secret[32];
	char path[400], err[256];
	struct sealkey *k;

	memset(secret, fill, sizeof(secret));
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, secret, sizeof(secret), 0600);
	assert_int_equal(sealkey_load(SEALKEY_HMAC, path, &k, err, sizeof(err)), 0);
	return k;
}

/*
 * The attack the chain alone misses: the newest block replaced and its hash
 * recomputed (here by the store itself, which chains whatever it is given),
 * so every prev_hash matches. The seal of the day does not.
 */
static void seals_catch_a_recomputed_chain(void **state)
{
	char dir[300], keys[300], shard[400], day[16];
	struct fake_audit fa = { .n = 1 };
	struct seal_audit audit = { fake_head, fake_hash_of, &fa };
	struct storage *s;
	struct sealer *sealer;
	struct sealkey *key, *other;
	struct seals_report rep;
	struct found f;

	sub_dir("sealed", dir, sizeof(dir));
	sub_dir("keys", keys, sizeof(keys));
	key = hmac_key(keys, "seal.key", 7);
	other = hmac_key(keys, "other.key", 8);
	memset(fa.hash[0], 0xa1, HASH_SIZE);
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SM3, &s), 0);
	store(s, 1, "frame-1");
	store(s, 2, "frame-2");
	assert_int_equal(sealer_open(dir, false, key, HASH_SM3, &audit, NULL, &sealer), 0);
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 1);
	/* Nothing changed: no seal. The audit log moved: a seal. */
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 0);
	fa.n = 2;
	memset(fa.hash[1], 0xa2, HASH_SIZE);
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 1);
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 0);
	assert_int_equal(rep.checked, 2);
	/* Another key is not this one's. */
	f = check(dir, other, &audit, 0, &rep);
	assert_int_equal(f.n, 2);
	assert_non_null(strstr(f.last, "not with the key given"));
	/* No key: nothing checked, nothing wrong. */
	f = check(dir, NULL, &audit, 0, &rep);
	assert_int_equal(f.n, 0);
	assert_int_equal(rep.unchecked, 2);

	storage_free(s);
	format_day(day_of_us(now_realtime_us()), day, sizeof(day));
	(void)snprintf(shard, sizeof(shard), "%s/shards/%s.db", dir, day);
	exec_sql(shard, "DELETE FROM streams WHERE block = 2; DELETE FROM blocks WHERE id = 2");
	(void)snprintf(shard, sizeof(shard), "%s/meta.db", dir);
	exec_sql(shard, "UPDATE shards SET blocks = blocks - 1, synced_block = synced_block - 1");
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SM3, &s), 0);
	store(s, 3, "forged-frame");
	storage_free(s);
	assert_int_equal(chain_problems(dir), 0);
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 2);
	assert_non_null(strstr(f.last, "another hash than was sealed"));

	/* An audit row rewritten is caught too. */
	fa.hash[0][0] ^= 1;
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 3);
	fa.hash[0][0] ^= 1;
	sealer_free(sealer);
	sealkey_free(key);
	sealkey_free(other);
}

/* The chain a collector writes in the shared store, as the seals see it: blocks 1..n, each there or not. */
struct fake_shared {
	int64_t n;
	uint8_t hash[8][HASH_SIZE];
	bool gone[8];
};

static int shared_head(void *ctx, char ret_name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE])
{
	struct fake_shared *k = ctx;

	(void)snprintf(ret_name, CHAIN_SHARED_NAME, "%s", k->n ? "00aa00aa00aa00aa00aa00aa00aa00aa" : "");
	*ret_pos = k->n;
	memcpy(ret_hash, k->n ? k->hash[k->n - 1] : (uint8_t[HASH_SIZE]){ 0 }, HASH_SIZE);
	return 0;
}

static int shared_hash_of(void *ctx, const char *name, int64_t pos, uint8_t ret_hash[HASH_SIZE])
{
	struct fake_shared *k = ctx;

	if (strcmp(name, "00aa00aa00aa00aa00aa00aa00aa00aa") != 0 || pos < 1 || pos > k->n || k->gone[pos - 1])
		return -ENOENT;
	memcpy(ret_hash, k->hash[pos - 1], HASH_SIZE);
	return 0;
}

/*
 * A collector on a shared store seals its chain there too: a seal when only
 * that chain moved, and a block of it rewritten or removed in the database
 * (the chain there recomputed, or the whole chain gone) is a problem.
 */
static void seals_bind_the_shared_chain(void **state)
{
	char dir[300], keys[300];
	struct fake_audit fa = { 0 };
	struct fake_shared fk = { 0 };
	struct seal_audit audit = { fake_head, fake_hash_of, &fa };
	struct seal_shared shared = { shared_head, shared_hash_of, &fk };
	struct storage_reader *rd;
	struct storage *s;
	struct sealer *sealer;
	struct sealkey *key;
	struct seals_report rep;
	struct found f;
	json_t *items = NULL;
	int64_t last;

	sub_dir("shared", dir, sizeof(dir));
	sub_dir("keys3", keys, sizeof(keys));
	key = hmac_key(keys, "seal.key", 5);
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	store(s, 1, "one");
	assert_int_equal(sealer_open(dir, false, key, HASH_SHA256, &audit, &shared, &sealer), 0);
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 1);
	fk.n = 2;
	memset(fk.hash[0], 0xb1, HASH_SIZE);
	memset(fk.hash[1], 0xb2, HASH_SIZE);
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 1);
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 0);
	fk.n = 3;
	memset(fk.hash[2], 0xb3, HASH_SIZE);
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 1);
	sealer_free(sealer);
	storage_free(s);
	f = check_with(dir, key, &audit, &shared, 0, &rep);
	assert_int_equal(f.n, 0);
	assert_int_equal(rep.checked, 3);
	/* The first seal bound no chain; the second binds block 2, in the text signed too. */
	assert_int_equal(storage_reader_open(dir, &rd), 0);
	assert_int_equal(seals_page(storage_reader_meta(rd), 0, 2, &items, &last), 0);
	storage_reader_free(rd);
	assert_int_equal(json_array_size(items), 2);
	assert_null(strstr(json_string_value(json_object_get(json_array_get(items, 0), "message")), "shared"));
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(items, 1), "message")),
			       "\nshared_chain=00aa00aa00aa00aa00aa00aa00aa00aa\nshared_pos=2\nshared_head=b2b2"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(items, 1), "shared"), "pos")), 2);
	json_decref(items);

	fk.hash[1][0] ^= 1;
	f = check_with(dir, key, &audit, &shared, 0, &rep);
	assert_int_equal(f.n, 1);
	assert_non_null(strstr(f.last, "block 2 of chain 00aa00aa00aa00aa00aa00aa00aa00aa in the shared store has "
				       "another hash than was sealed"));
	fk.hash[1][0] ^= 1;
	fk.gone[2] = true;
	f = check_with(dir, key, &audit, &shared, 0, &rep);
	assert_int_equal(f.n, 1);
	assert_non_null(strstr(f.last, "block 3 of chain 00aa00aa00aa00aa00aa00aa00aa00aa in the shared store, which "
				       "it sealed, is gone"));
	/* Not checked without the shared store's view (an auditor's without the database). */
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 0);
	sealkey_free(key);
}

/* A meta.db of a collector from before the shared chains, read by this version before it wrote there: its seals hold. */
static void seals_of_an_older_store_read(void **state)
{
	char dir[300], keys[300], path[400];
	struct fake_audit fa = { 0 };
	struct seal_audit audit = { fake_head, fake_hash_of, &fa };
	struct storage *s;
	struct sealer *sealer;
	struct sealkey *key;
	struct seals_report rep;
	struct found f;

	sub_dir("older", dir, sizeof(dir));
	sub_dir("keys4", keys, sizeof(keys));
	key = hmac_key(keys, "seal.key", 6);
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	store(s, 1, "one");
	assert_int_equal(sealer_open(dir, false, key, HASH_SHA256, &audit, NULL, &sealer), 0);
	assert_int_equal(sealer_run(sealer, now_realtime_us()), 1);
	sealer_free(sealer);
	storage_free(s);
	(void)snprintf(path, sizeof(path), "%s/meta.db", dir);
	exec_sql(path, "ALTER TABLE seals DROP COLUMN shared_chain; ALTER TABLE seals DROP COLUMN shared_pos;"
		       " ALTER TABLE seals DROP COLUMN shared_head");
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 0);
	assert_int_equal(rep.checked, 1);
	sealkey_free(key);
}

/* A seal altered, a seal removed, a day removed: each is a problem; a day retention removed is not. */
static void seals_catch_removals(void **state)
{
	char dir[300], keys[300], path[400], day[16];
	struct fake_audit fa = { 0 };
	struct seal_audit audit = { fake_head, fake_hash_of, &fa };
	struct storage *s;
	struct sealer *sealer;
	struct sealkey *key;
	struct seals_report rep;
	struct found f;

	sub_dir("removed", dir, sizeof(dir));
	sub_dir("keys2", keys, sizeof(keys));
	key = hmac_key(keys, "seal.key", 9);
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	assert_int_equal(sealer_open(dir, false, key, HASH_SHA256, &audit, NULL, &sealer), 0);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		store(s, seq, seq == 1 ? "one" : seq == 2 ? "two" : "three");
		assert_int_equal(sealer_run(sealer, now_realtime_us()), 1);
	}
	storage_free(s);
	sealer_free(sealer);
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 0);
	assert_int_equal(rep.checked, 3);

	(void)snprintf(path, sizeof(path), "%s/meta.db", dir);
	exec_sql(path, "DROP TRIGGER seals_no_update; UPDATE seals SET blocks = 1 WHERE id = 3");
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 1);
	assert_non_null(strstr(f.last, "signature does not match"));
	exec_sql(path, "UPDATE seals SET blocks = 3 WHERE id = 3; DROP TRIGGER seals_no_delete;"
		       " DELETE FROM seals WHERE id = 2");
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 1);
	assert_non_null(strstr(f.last, "seals 2 to 2 were removed"));

	/* Every seal removed: the key says there should be some. */
	exec_sql(path, "CREATE TABLE kept AS SELECT * FROM seals; DELETE FROM seals");
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 1);
	assert_non_null(strstr(f.last, "the store holds blocks and no seal"));
	f = check(dir, NULL, &audit, 0, &rep);
	assert_int_equal(f.n, 0);
	exec_sql(path, "INSERT INTO seals SELECT * FROM kept; DROP TABLE kept");
	exec_sql(path, "DELETE FROM seals WHERE id = 1; DELETE FROM shards");
	format_day(day_of_us(now_realtime_us()), day, sizeof(day));
	(void)snprintf(path, sizeof(path), "%s/shards/%s.db", dir, day);
	assert_int_equal(unlink(path), 0);
	f = check(dir, key, &audit, 0, &rep);
	assert_int_equal(f.n, 2);
	assert_non_null(strstr(f.last, "its shard is gone: a day was removed"));
	/* Had retention kept only days after it, the day would be expired, not removed. */
	f = check(dir, key, &audit, day_of_us(now_realtime_us()) + 1, &rep);
	assert_int_equal(f.n, 1);
	assert_non_null(strstr(f.last, "the seals before it were removed"));
	assert_int_equal(rep.expired, 1);
	sealkey_free(key);
}

static void write_pem(const char *path, EVP_PKEY *pkey, bool private)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(private ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(f, pkey),
			 1);
	assert_int_equal(fchmod(fileno(f), 0600), 0);
	fclose(f);
}

/* SM2: the private key seals, the public key alone checks and cannot seal. */
static void sm2_keys(void **state)
{
	char dir[300], priv[400], pub[400], err[256];
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
	struct sealkey *signer, *checker, *wrong = NULL;
	uint8_t sig[SEALKEY_SIG_MAX];
	size_t len;

	assert_non_null(pkey);
	sub_dir("sm2", dir, sizeof(dir));
	(void)snprintf(priv, sizeof(priv), "%s/seal.pem", dir);
	(void)snprintf(pub, sizeof(pub), "%s/seal.pub", dir);
	write_pem(priv, pkey, true);
	write_pem(pub, pkey, false);
	EVP_PKEY_free(pkey);
	assert_int_equal(sealkey_load(SEALKEY_SM2_PRIVATE, priv, &signer, err, sizeof(err)), 0);
	assert_int_equal(sealkey_load(SEALKEY_SM2_PUBLIC, pub, &checker, err, sizeof(err)), 0);
	assert_string_equal(sealkey_id(signer), sealkey_id(checker));
	assert_string_equal(sealkey_method(checker), "sm2");
	assert_int_equal(sealkey_sign(signer, "message", 7, sig, &len), 0);
	assert_int_equal(sealkey_check(checker, "message", 7, sig, len), 0);
	assert_int_equal(sealkey_check(checker, "messagE", 7, sig, len), -EBADMSG);
	assert_false(sealkey_can_sign(checker));
	assert_int_equal(sealkey_sign(checker, "message", 7, sig, &len), -EPERM);
	/* A public key is no private one; an HMAC key is no PEM. */
	assert_int_equal(sealkey_load(SEALKEY_SM2_PRIVATE, pub, &wrong, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not an SM2 private key"));
	assert_null(wrong);
	sealkey_free(signer);
	sealkey_free(checker);
}

/* A secret others can read, or too short to be one, is refused with the reason. */
static void key_files_are_checked(void **state)
{
	char dir[300], path[400], err[256];
	struct sealkey *k = NULL;

	sub_dir("badkeys", dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/open.key", dir);
	write_file(path, "0123456789abcdef0123456789abcdef", 32, 0644);
	assert_int_equal(sealkey_load(SEALKEY_HMAC, path, &k, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "can be read by others"));
	(void)snprintf(path, sizeof(path), "%s/short.key", dir);
	write_file(path, "short", 5, 0600);
	assert_int_equal(sealkey_load(SEALKEY_HMAC, path, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "holds 5 bytes"));
	assert_null(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sm3_known_answers),
		cmocka_unit_test(sm3_store_keeps_its_algorithm),
		cmocka_unit_test(seals_catch_a_recomputed_chain),
		cmocka_unit_test(seals_catch_removals),
		cmocka_unit_test(seals_bind_the_shared_chain),
		cmocka_unit_test(seals_of_an_older_store_read),
		cmocka_unit_test(sm2_keys),
		cmocka_unit_test(key_files_are_checked),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
