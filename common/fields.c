/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <string.h>

#include "common/fields.h"
#include "common/macro.h"

const char *const field_stream_keys[FIELD_STREAM_KEYS + 1] = { FIELD_SOURCE, FIELD_PATH, FIELD_UNIT,
								FIELD_IDENTIFIER, NULL };

bool field_reserved(const char *key, size_t len)
{
	static const char *const prefixes[] = { "VIGIL_", "PROBE_", "METRIC_", "HOST_", "DIALTEST_" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (len >= n && memcmp(key, prefixes[i], n) == 0)
			return true;
	}
	return false;
}
