/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "probes/probe-internal.h"

/* One stat(2): exists, age, size. */
static int file_start(struct probe *p)
{
	const struct probe_conf *c = p->conf;
	struct stat st;
	uint64_t age_ms;

	probe_detail(p, "PROBE_PATH", c->path);
	if (stat(c->path, &st) < 0) {
		probe_finish(p, errno == ENOENT ? PROBE_CRITICAL : PROBE_UNKNOWN, "%s: %s", c->path, strerror(errno));
		return 0;
	}
	age_ms = (now_realtime_us() / 1000) - (uint64_t)st.st_mtim.tv_sec * 1000;
	probe_detail_u64(p, "PROBE_SIZE", (uint64_t)st.st_size);
	probe_detail_u64(p, "PROBE_AGE_S", age_ms / 1000);
	if (c->max_age_ms && age_ms > c->max_age_ms)
		probe_finish(p, PROBE_CRITICAL, "%s not modified for %" PRIu64 " s (max %" PRIu64 " s)", c->path,
			     age_ms / 1000, c->max_age_ms / 1000);
	else if (c->min_size && (uint64_t)st.st_size < c->min_size)
		probe_finish(p, PROBE_WARNING, "%s is %jd bytes (min %" PRIu64 ")", c->path, (intmax_t)st.st_size,
			     c->min_size);
	else if (c->max_size && (uint64_t)st.st_size > c->max_size)
		probe_finish(p, PROBE_WARNING, "%s is %jd bytes (max %" PRIu64 ")", c->path, (intmax_t)st.st_size,
			     c->max_size);
	else
		probe_finish(p, PROBE_OK, "%s: %jd bytes, modified %" PRIu64 " s ago", c->path,
			     (intmax_t)st.st_size, age_ms / 1000);
	return 0;
}

static void file_stop(struct probe *p)
{
}

static const char *const file_required[] = { "path", NULL };
static const char *const file_allowed[] = { "max_age", "min_size", "max_size", NULL };

const struct probe_ops probe_file_ops = {
	.type = "file",
	.required = file_required,
	.allowed = file_allowed,
	.start = file_start,
	.stop = file_stop,
};
