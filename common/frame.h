/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FRAME_H
#define VIGIL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "common/buf.h"

/*
 * The wire protocol (docs/protocol.md). A request is a 48-byte little-endian
 * header followed by one zstd frame (content size and checksum included)
 * whose content is Journal Export Format. A reply is a small fixed header
 * plus an optional reason string.
 */

#define FRAME_MAGIC 0x31424756u /* "VGB1" */
#define FRAME_VERSION 1
#define FRAME_HEADER_SIZE 48
#define AGENT_ID_SIZE 16

struct frame_header {
	uint16_t version;
	uint16_t flags;
	uint8_t agent_id[AGENT_ID_SIZE];
	uint64_t seq;
	uint32_t records;
	uint32_t raw_len; /* uncompressed payload length */
	uint64_t created_us;
};

void frame_header_encode(const struct frame_header *h, uint8_t out[FRAME_HEADER_SIZE]);
/* -EBADMSG on short input or bad magic, -EPROTONOSUPPORT on an unknown version. */
int frame_header_decode(const void *msg, size_t len, struct frame_header *ret);

/* Hard limits a receiver applies before trusting anything in a request. */
struct frame_limits {
	size_t max_message;
	size_t max_raw;
	uint32_t max_records;
};

/* Why a request was refused; also the label of the ingest error counter. */
enum frame_error {
	FRAME_OK = 0,
	FRAME_ERR_SHORT,
	FRAME_ERR_MAGIC,
	FRAME_ERR_VERSION,
	FRAME_ERR_TOO_LARGE,
	FRAME_ERR_RECORDS,
	FRAME_ERR_SEQUENCE,
	FRAME_ERR_NO_CONTENT_SIZE,
	FRAME_ERR_SIZE_MISMATCH,
	FRAME_ERR_DECOMPRESS,
	FRAME_ERR_DECODE,
	FRAME_ERR_COUNT_MISMATCH,
	FRAME_ERR_STORAGE,
	_FRAME_ERR_MAX,
};
const char *frame_error_name(enum frame_error e);

/*
 * Checks the header and the zstd frame's declared size against lim and
 * decompresses into out (reset first; its max must be >= lim->max_raw) with
 * the caller's dctx.
 * Never allocates more than the declared, bounded size: a decompression bomb
 * is refused before any work. Returns FRAME_OK or the reason; *ret_h is set
 * whenever the header itself could be read (any result after
 * FRAME_ERR_VERSION), so a refusal can name the batch.
 */
enum frame_error frame_open(ZSTD_DCtx *dctx, const void *msg, size_t len,
			    const struct frame_limits *lim, struct frame_header *ret_h, struct buf *out);

/* Compresses raw with a content checksum and appends header+frame to out. */
int frame_build(ZSTD_CCtx *cctx, const struct frame_header *h, const void *raw, size_t raw_len,
		int level, struct buf *out);

enum reply_status {
	REPLY_STORED = 0,
	REPLY_DUPLICATE = 1,
	REPLY_RETRY = 2,
	REPLY_REJECTED = 3,
	/*
	 * (agent, seq) is stored with other content: two agents share an id
	 * (a cloned VM). Not stored, not acknowledged: the agent keeps the
	 * batch and retries after retry_after_ms, until one of them is given a
	 * new id (vigil-agent --new-id).
	 */
	REPLY_CONFLICT = 4,
	/*
	 * Under TLS: the agent id belongs to another certificate. Not stored,
	 * not acknowledged: the agent keeps the batch and retries after
	 * retry_after_ms (docs/security.md says how an operator resolves it).
	 */
	REPLY_REFUSED = 5,
};

#define REPLY_MAGIC 0x31524756u /* "VGR1" */
#define REPLY_HEADER_SIZE 32
#define REPLY_REASON_MAX 200

struct reply {
	uint16_t status;
	uint64_t seq;
	uint64_t server_time_us;
	uint32_t retry_after_ms;
	uint32_t config_version;
	char reason[REPLY_REASON_MAX + 1];
};

/* Returns the encoded length; out must hold REPLY_HEADER_SIZE + REPLY_REASON_MAX. */
size_t reply_encode(const struct reply *r, uint8_t *out);
int reply_decode(const void *msg, size_t len, struct reply *ret);
const char *reply_status_name(uint16_t status);

#endif
