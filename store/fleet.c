/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "store/fleet.h"
#include "store/pgstore.h"

int fleet_hosts_each(struct storage_reader *r, const struct host_filter *f,
		     int (*fn)(const struct host_row *h, void *ctx), void *ctx)
{
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_hosts_each(pg, f, fn, ctx) : hosts_each(storage_reader_meta(r), f, fn, ctx);
}

int fleet_probes_each(struct storage_reader *r, const struct probe_state_filter *f,
		      int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx)
{
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_probes_each(pg, f, fn, ctx) : hosts_probes_each(storage_reader_meta(r), f, fn, ctx);
}

int fleet_conflicts_each(struct storage_reader *r, const char *agent, uint64_t since_us,
			 int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx)
{
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_conflicts_each(pg, agent, since_us, fn, ctx)
		 : hosts_conflicts_each(storage_reader_meta(r), agent, since_us, fn, ctx);
}
