/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the Journal Export Format decoder under tight limits. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "common/export.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct export_limits lim = { .max_entries = 64, .max_fields = 32,
						  .max_field_bytes = 4096, .max_entry_bytes = 16384 };
	struct export_field f[32];
	struct export_reader rd;
	size_t n, total = 0;
	int r;

	export_reader_init(&rd, data, size, &lim);
	while ((r = export_reader_next(&rd, f, 32, &n)) > 0)
		for (size_t i = 0; i < n; i++)
			total += f[i].key_len + f[i].value_len;
	/* Every byte a field points at lies inside the input. */
	if (total > size)
		__builtin_trap();
	return 0;
}
