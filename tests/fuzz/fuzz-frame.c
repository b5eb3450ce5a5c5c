/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a whole request as it arrives (header, zstd frame,
 * decode, index): the header and frame checks fuzz-batch, which builds the
 * frame itself, does not reach. Its seeds are corpus/frame.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "store/verify.h"
#include "common/frame.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_limits flim = { .max_message = 1 << 20, .max_raw = 4 << 20,
						  .max_records = 1000 };
	static const struct export_limits elim = { .max_entries = 1000, .max_fields = 64,
						   .max_field_bytes = 65536, .max_entry_bytes = 131072 };
	static struct batch_info info;
	static ZSTD_DCtx *dctx;
	struct frame_header h;
	struct buf raw;

	if (!dctx)
		dctx = ZSTD_createDCtx();
	buf_init(&raw, flim.max_raw);
	if (frame_open(dctx, data, size, &flim, &h, &raw) == FRAME_OK)
		(void)batch_verify(raw.data, raw.len, &elim, NULL, 1, &info);
	batch_info_free(&info);
	buf_free(&raw);
	return 0;
}
