/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <zstd.h>

#include "common/export.h"
#include "common/frame.h"
#include "common/macro.h"

void frame_header_encode(const struct frame_header *h, uint8_t out[FRAME_HEADER_SIZE])
{
	put_le32(out, FRAME_MAGIC);
	put_le16(out + 4, h->version);
	put_le16(out + 6, h->flags);
	memcpy(out + 8, h->agent_id, AGENT_ID_SIZE);
	put_le64(out + 24, h->seq);
	put_le32(out + 32, h->records);
	put_le32(out + 36, h->raw_len);
	put_le64(out + 40, h->created_us);
}

int frame_header_decode(const void *msg, size_t len, struct frame_header *ret)
{
	const uint8_t *p = msg;
	struct frame_header h;

	if (len < FRAME_HEADER_SIZE || get_le32(p) != FRAME_MAGIC)
		return -EBADMSG;
	h.version = get_le16(p + 4);
	if (h.version != FRAME_VERSION)
		return -EPROTONOSUPPORT;
	h.flags = get_le16(p + 6);
	memcpy(h.agent_id, p + 8, AGENT_ID_SIZE);
	h.seq = get_le64(p + 24);
	h.records = get_le32(p + 32);
	h.raw_len = get_le32(p + 36);
	h.created_us = get_le64(p + 40);
	*ret = h;
	return 0;
}

const char *frame_error_name(enum frame_error e)
{
	static const char *const names[_FRAME_ERR_MAX] = {
		[FRAME_OK] = "ok",
		[FRAME_ERR_SHORT] = "short",
		[FRAME_ERR_MAGIC] = "bad_magic",
		[FRAME_ERR_VERSION] = "unknown_version",
		[FRAME_ERR_TOO_LARGE] = "too_large",
		[FRAME_ERR_RECORDS] = "too_many_records",
		[FRAME_ERR_SEQUENCE] = "bad_sequence",
		[FRAME_ERR_NO_CONTENT_SIZE] = "no_content_size",
		[FRAME_ERR_SIZE_MISMATCH] = "size_mismatch",
		[FRAME_ERR_DECOMPRESS] = "decompress",
		[FRAME_ERR_DECODE] = "decode",
		[FRAME_ERR_COUNT_MISMATCH] = "count_mismatch",
		[FRAME_ERR_STORAGE] = "storage",
	};
	return (unsigned)e < _FRAME_ERR_MAX ? names[e] : "unknown";
}

enum frame_error frame_open(ZSTD_DCtx *dctx, const void *msg, size_t len,
			    const struct frame_limits *lim, struct frame_header *ret_h, struct buf *out)
{
	const uint8_t *z = (const uint8_t *)msg + FRAME_HEADER_SIZE;
	unsigned long long csize;
	struct frame_header h;
	size_t zlen, n;
	int r;

	if (len > lim->max_message)
		return FRAME_ERR_TOO_LARGE;
	r = frame_header_decode(msg, len, &h);
	if (r == -EPROTONOSUPPORT)
		return FRAME_ERR_VERSION;
	if (r < 0)
		return len < FRAME_HEADER_SIZE ? FRAME_ERR_SHORT : FRAME_ERR_MAGIC;
	*ret_h = h;
	if (h.raw_len > lim->max_raw)
		return FRAME_ERR_TOO_LARGE;
	if (h.records == 0 || h.records > lim->max_records)
		return FRAME_ERR_RECORDS;
	/* Stores keep sequence numbers as signed 64-bit integers (SQLite's, PostgreSQL's bigint). */
	if (h.seq > INT64_MAX)
		return FRAME_ERR_SEQUENCE;
	zlen = len - FRAME_HEADER_SIZE;
	csize = ZSTD_getFrameContentSize(z, zlen);
	if (csize == ZSTD_CONTENTSIZE_ERROR)
		return FRAME_ERR_DECOMPRESS;
	if (csize == ZSTD_CONTENTSIZE_UNKNOWN)
		return FRAME_ERR_NO_CONTENT_SIZE;
	if (csize != h.raw_len)
		return FRAME_ERR_SIZE_MISMATCH;
	/* Exactly one frame: trailing bytes would be stored but never read. */
	n = ZSTD_findFrameCompressedSize(z, zlen);
	if (ZSTD_isError(n) || n != zlen)
		return FRAME_ERR_DECOMPRESS;
	buf_reset(out);
	if (buf_reserve(out, h.raw_len) < 0)
		return FRAME_ERR_TOO_LARGE;
	n = ZSTD_decompressDCtx(dctx, out->data, h.raw_len, z, zlen);
	if (ZSTD_isError(n) || n != h.raw_len)
		return FRAME_ERR_DECOMPRESS;
	out->len = n;
	return FRAME_OK;
}

int frame_build(ZSTD_CCtx *cctx, const struct frame_header *h, const void *raw, size_t raw_len,
		int level, struct buf *out)
{
	uint8_t hdr[FRAME_HEADER_SIZE];
	size_t bound = ZSTD_compressBound(raw_len), n;
	int r;

	frame_header_encode(h, hdr);
	r = buf_reserve(out, FRAME_HEADER_SIZE + bound);
	if (r < 0)
		return r;
	(void)buf_append(out, hdr, sizeof(hdr));
	(void)ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	(void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	(void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	(void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	n = ZSTD_compress2(cctx, out->data + out->len, bound, raw, raw_len);
	if (ZSTD_isError(n)) {
		out->len -= FRAME_HEADER_SIZE;
		return -EIO;
	}
	out->len += n;
	return 0;
}

size_t reply_encode(const struct reply *r, uint8_t *out)
{
	size_t rl = strnlen(r->reason, REPLY_REASON_MAX);

	put_le32(out, REPLY_MAGIC);
	put_le16(out + 4, r->status);
	put_le16(out + 6, (uint16_t)rl);
	put_le64(out + 8, r->seq);
	put_le64(out + 16, r->server_time_us);
	put_le32(out + 24, r->retry_after_ms);
	put_le32(out + 28, r->config_version);
	memcpy(out + REPLY_HEADER_SIZE, r->reason, rl);
	return REPLY_HEADER_SIZE + rl;
}

int reply_decode(const void *msg, size_t len, struct reply *ret)
{
	const uint8_t *p = msg;
	size_t rl;

	if (len < REPLY_HEADER_SIZE || get_le32(p) != REPLY_MAGIC)
		return -EBADMSG;
	rl = get_le16(p + 6);
	if (rl > REPLY_REASON_MAX || len != REPLY_HEADER_SIZE + rl)
		return -EBADMSG;
	ret->status = get_le16(p + 4);
	if (ret->status > REPLY_REFUSED)
		return -EBADMSG;
	ret->seq = get_le64(p + 8);
	ret->server_time_us = get_le64(p + 16);
	ret->retry_after_ms = get_le32(p + 24);
	ret->config_version = get_le32(p + 28);
	memcpy(ret->reason, p + REPLY_HEADER_SIZE, rl);
	ret->reason[rl] = 0;
	return 0;
}

const char *reply_status_name(uint16_t status)
{
	static const char *const names[] = { "stored", "duplicate", "retry", "rejected", "conflict", "refused" };

	return status < ARRAY_SIZE(names) ? names[status] : "unknown";
}
