/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SEALING_H
#define VIGIL_SEALING_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hash.h"
#include "store/seals.h"
#include "store/sealkey.h"
#include "store/storage.h"

/*
 * Making seals and checking them (docs/storage.md, Seals). The chain makes
 * a change visible only to whoever does not recompute it; a seal binds the
 * chain's head under a key the data directory does not hold, so a rewrite
 * of the chain, a removed day or a removed block shows as a seal that no
 * longer matches. Every closed day gets a last seal, the open ones one at
 * each pass where they changed.
 */

/* The audit log, which the seals cover too (api/audit.c owns it; the store does not link it). */
struct seal_audit {
	int (*head)(void *ctx, int64_t *ret_id, uint8_t ret_hash[HASH_SIZE]);
	/* 0, -ESTALE if retention dropped row id, -ENOENT if it is missing. */
	int (*hash_of)(void *ctx, int64_t id, uint8_t ret_hash[HASH_SIZE]);
	void *ctx;
};

/*
 * The chain this collector writes in the shared store (store/pgblocks.h),
 * which its seals cover too: head() gives where it stands as committed
 * (name "" before its first block), hash_of() the hash of block pos of
 * chain name there (0, -ENOENT if it is not there). NULL functions: no
 * shared store.
 */
struct seal_shared {
	int (*head)(void *ctx, char ret_name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE]);
	int (*hash_of)(void *ctx, const char *name, int64_t pos, uint8_t ret_hash[HASH_SIZE]);
	void *ctx;
};

/* A day is closed, and its seal the last, this long after it ended: a batch received at 23:59:59 is in. */
#define SEAL_CLOSE_AFTER_US (60 * UINT64_C(1000000))

/*
 * The key the configuration names, loaded into *ret (NULL: sealing is not
 * configured): seal_verify_key first (it can only check), else
 * seal_key_file or seal_sign_key (they sign and check). Errors go into
 * err, naming the key's setting. Owned by the caller: sealkey_free().
 */
int sealing_key(const struct storage_conf *c, struct sealkey **ret, char *err, size_t err_size);
/*
 * For a configuration's check: each key c names, in turn, is given to fn
 * with why NULL; if fn returns true (its path will do), the key is loaded,
 * and fn called again with what is wrong with it when it does not load.
 */
void sealing_keys_check(const struct storage_conf *c,
			bool (*fn)(const char *key, const char *path, const char *why, void *ctx), void *ctx);

struct sealer;

/* key (which must be able to sign), audit and shared (NULL: none) outlive the sealer. Owned by the caller: sealer_free(). */
int sealer_open(const char *data_dir, bool sync, const struct sealkey *key, enum hash_alg chain,
		const struct seal_audit *audit, const struct seal_shared *shared, struct sealer **ret);
void sealer_free(struct sealer *s);
/* Seals every day that changed since its last seal, or ended: the number of seals made, or a negative errno. */
int sealer_run(struct sealer *s, uint64_t now_us);

/* What checking the seals found. */
struct seals_report {
	uint64_t checked;  /* seals whose signature was checked */
	uint64_t unchecked; /* made with another key than the one given: not checked */
	uint64_t expired;   /* seals of days retention has removed */
	uint64_t newest_made; /* µs; 0: no seal */
	int problems;
};

/*
 * Checks every seal: its signature under key (NULL: none is checked), its
 * link to the one before, and that the store still holds what it sealed:
 * the day's shard (a day before keep_from_day may be gone: retention), its
 * sealed block with the sealed hash and no fewer blocks (as many once
 * closed), the audit row with its hash and, with shared (NULL: not
 * checked), the shared store's block with its hash; with a key, a store with blocks
 * and no seal is a problem too (seal 0). Each problem calls problem (up to
 * max_problems). Returns 0 with *ret filled in, or a negative errno if
 * the store cannot be read.
 */
int seals_verify(struct storage_reader *rd, const struct sealkey *key, const struct seal_audit *audit,
		 const struct seal_shared *shared, uint32_t keep_from_day, size_t max_problems,
		 void (*problem)(int64_t seal, const char *what, void *userdata), void *userdata,
		 struct seals_report *ret);

#endif
