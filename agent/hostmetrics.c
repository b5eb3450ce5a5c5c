/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <mntent.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "common/export.h"
#include "common/fields.h"
#include "common/macro.h"
#include "agent/hostmetrics.h"

#define DEVICES_MAX 64

/* A device's cumulative counters, for rates. */
struct counters {
	char name[64];
	uint64_t a, b;
};

struct hostmetrics {
	uint64_t when_us;
	uint64_t cpu[8]; /* user nice system idle iowait irq softirq steal, in ticks */
	bool have_cpu;
	struct counters disk[DEVICES_MAX], net[DEVICES_MAX];
	size_t n_disk, n_net;
	struct buf fields;
};

int hostmetrics_new(struct hostmetrics **ret)
{
	struct hostmetrics *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	buf_init(&h->fields, 16 * 1024);
	*ret = h;
	return 0;
}

void hostmetrics_free(struct hostmetrics *h)
{
	if (!h)
		return;
	buf_free(&h->fields);
	free(h);
}

static void put_u64(struct buf *b, const char *k, uint64_t v)
{
	(void)export_put_u64(b, k, v);
}

/* Percent with two decimals, as text. */
static void put_pct(struct buf *b, const char *k, uint64_t part, uint64_t whole)
{
	char v[32];

	(void)snprintf(v, sizeof(v), "%.2f", whole ? 100.0 * (double)part / (double)whole : 0.0);
	(void)export_put_str(b, k, v);
}

static void begin(struct hostmetrics *h, const char *set)
{
	buf_reset(&h->fields);
	(void)export_put_str(&h->fields, FIELD_METRIC_SET, set);
}

static void sample_cpu(struct hostmetrics *h, void (*emit)(void *, const struct buf *), void *u)
{
	static const char *const keys[8] = { "METRIC_USER_PCT", NULL, "METRIC_SYSTEM_PCT", "METRIC_IDLE_PCT",
					      "METRIC_IOWAIT_PCT", NULL, NULL, "METRIC_STEAL_PCT" };
	FILE *f = fopen("/proc/stat", "re");
	uint64_t c[8] = { 0 }, d[8], total = 0;
	int n = f ? fscanf(f, "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			   " %" SCNu64 " %" SCNu64, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]) : 0;

	if (f)
		(void)fclose(f);
	if (n != 8)
		return;
	for (int i = 0; i < 8; i++) {
		d[i] = h->have_cpu ? c[i] - MIN(c[i], h->cpu[i]) : 0;
		total += d[i];
	}
	memcpy(h->cpu, c, sizeof(c));
	if (!h->have_cpu || !total) {
		h->have_cpu = true;
		return;
	}
	begin(h, "cpu");
	d[0] += d[1]; /* nice is user time */
	d[2] += d[5] + d[6]; /* irq and softirq are system time */
	for (int i = 0; i < 8; i++)
		if (keys[i])
			put_pct(&h->fields, keys[i], d[i], total);
	emit(u, &h->fields);
}

static uint64_t meminfo(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	uint64_t kb = 0;

	if (p)
		(void)sscanf(p + strlen(key), " %" SCNu64, &kb);
	return kb * 1024;
}

static void sample_memory(struct hostmetrics *h, void (*emit)(void *, const struct buf *), void *u)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char text[8192];
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	uint64_t total, avail, swap, swap_free;

	if (f)
		(void)fclose(f);
	if (!n)
		return;
	text[n] = 0;
	total = meminfo(text, "MemTotal:");
	avail = meminfo(text, "MemAvailable:");
	swap = meminfo(text, "SwapTotal:");
	swap_free = meminfo(text, "SwapFree:");
	begin(h, "memory");
	put_u64(&h->fields, "METRIC_TOTAL_BYTES", total);
	put_u64(&h->fields, "METRIC_AVAILABLE_BYTES", avail);
	put_pct(&h->fields, "METRIC_USED_PCT", total - MIN(total, avail), total);
	put_u64(&h->fields, "METRIC_SWAP_TOTAL_BYTES", swap);
	put_u64(&h->fields, "METRIC_SWAP_USED_BYTES", swap - MIN(swap, swap_free));
	emit(u, &h->fields);
}

static void sample_load(struct hostmetrics *h, void (*emit)(void *, const struct buf *), void *u)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double l1, l5, l15, up = 0;
	uint64_t files = 0;
	char v[32];

	if (!f || fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) != 3) {
		if (f)
			(void)fclose(f);
		return;
	}
	(void)fclose(f);
	begin(h, "load");
	(void)snprintf(v, sizeof(v), "%.2f", l1);
	(void)export_put_str(&h->fields, "METRIC_LOAD1", v);
	(void)snprintf(v, sizeof(v), "%.2f", l5);
	(void)export_put_str(&h->fields, "METRIC_LOAD5", v);
	(void)snprintf(v, sizeof(v), "%.2f", l15);
	(void)export_put_str(&h->fields, "METRIC_LOAD15", v);
	f = fopen("/proc/uptime", "re");
	if (f && fscanf(f, "%lf", &up) == 1)
		put_u64(&h->fields, "METRIC_UPTIME_S", (uint64_t)up);
	if (f)
		(void)fclose(f);
	f = fopen("/proc/sys/fs/file-nr", "re");
	if (f && fscanf(f, "%" SCNu64, &files) == 1)
		put_u64(&h->fields, "METRIC_OPEN_FILES", files);
	if (f)
		(void)fclose(f);
	emit(u, &h->fields);
}

/* Filesystems backed by a device; pseudo and in-memory ones are left out. */
static bool real_fs(const struct mntent *m)
{
	static const char *const skip[] = { "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2",
					    "overlay", "squashfs", "nsfs", "tracefs", "debugfs", "securityfs",
					    "pstore", "bpf", "autofs", "mqueue", "hugetlbfs", "fusectl",
					    "configfs", "binfmt_misc", "ramfs", "efivarfs" };

	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (strcmp(m->mnt_type, skip[i]) == 0)
			return false;
	return m->mnt_fsname[0] == '/';
}

static void sample_filesystems(struct hostmetrics *h, void (*emit)(void *, const struct buf *), void *u)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	size_t n = 0;

	while (f && (m = getmntent(f)) && n < DEVICES_MAX) {
		struct statvfs st;
		uint64_t size, avail, used;

		if (!real_fs(m) || statvfs(m->mnt_dir, &st) < 0 || st.f_blocks == 0)
			continue;
		size = (uint64_t)st.f_blocks * st.f_frsize;
		avail = (uint64_t)st.f_bavail * st.f_frsize;
		used = size - MIN(size, (uint64_t)st.f_bfree * st.f_frsize);
		begin(h, "filesystem");
		(void)export_put_str(&h->fields, FIELD_METRIC_MOUNT, m->mnt_dir);
		(void)export_put_str(&h->fields, FIELD_METRIC_DEVICE, m->mnt_fsname);
		put_u64(&h->fields, "METRIC_SIZE_BYTES", size);
		put_u64(&h->fields, "METRIC_USED_BYTES", used);
		put_pct(&h->fields, "METRIC_USED_PCT", used, used + avail);
		if (st.f_files)
			put_pct(&h->fields, "METRIC_INODES_USED_PCT", st.f_files - st.f_ffree, st.f_files);
		emit(u, &h->fields);
		n++;
	}
	if (f)
		(void)endmntent(f);
}

/* Looks up name in the previous sample's counters. */
static const struct counters *previous(const struct counters *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

static void put_rate(struct buf *b, const char *key, uint64_t now, uint64_t before, uint64_t us)
{
	put_u64(b, key, us ? (now - MIN(now, before)) * 1000000 / us : 0);
}

static void sample_disks(struct hostmetrics *h, uint64_t dt_us, void (*emit)(void *, const struct buf *), void *u)
{
	FILE *f = fopen("/proc/diskstats", "re");
	struct counters now[DEVICES_MAX];
	char line[512], name[64];
	size_t n = 0;

	while (f && fgets(line, sizeof(line), f) && n < DEVICES_MAX) {
		uint64_t rd, wr;
		unsigned maj, min;
		const struct counters *before;

		/* major minor name reads merged sectors_read ms writes merged sectors_written */
		if (sscanf(line, "%u %u %63s %*u %*u %" SCNu64 " %*u %*u %*u %" SCNu64, &maj, &min, name, &rd, &wr) != 5 ||
		    strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0)
			continue;
		(void)snprintf(now[n].name, sizeof(now[n].name), "%s", name);
		now[n].a = rd * 512;
		now[n].b = wr * 512;
		before = previous(h->disk, h->n_disk, name);
		if (before && dt_us) {
			begin(h, "diskio");
			(void)export_put_str(&h->fields, FIELD_METRIC_DEVICE, name);
			put_rate(&h->fields, "METRIC_READ_BPS", now[n].a, before->a, dt_us);
			put_rate(&h->fields, "METRIC_WRITE_BPS", now[n].b, before->b, dt_us);
			emit(u, &h->fields);
		}
		n++;
	}
	if (f)
		(void)fclose(f);
	memcpy(h->disk, now, n * sizeof(*now));
	h->n_disk = n;
}

static void sample_network(struct hostmetrics *h, uint64_t dt_us, void (*emit)(void *, const struct buf *), void *u)
{
	FILE *f = fopen("/proc/net/dev", "re");
	struct counters now[DEVICES_MAX];
	char line[512];
	size_t n = 0;

	while (f && fgets(line, sizeof(line), f) && n < DEVICES_MAX) {
		char *colon = strchr(line, ':'), *name = line;
		uint64_t rx, tx;
		const struct counters *before;

		if (!colon)
			continue;
		*colon = 0;
		while (*name == ' ')
			name++;
		if (strcmp(name, "lo") == 0 || strlen(name) >= sizeof(now[n].name) ||
		    sscanf(colon + 1, "%" SCNu64 " %*u %*u %*u %*u %*u %*u %*u %" SCNu64, &rx, &tx) != 2)
			continue;
		(void)snprintf(now[n].name, sizeof(now[n].name), "%s", name);
		now[n].a = rx;
		now[n].b = tx;
		before = previous(h->net, h->n_net, name);
		if (before && dt_us) {
			begin(h, "network");
			(void)export_put_str(&h->fields, FIELD_METRIC_INTERFACE, name);
			put_rate(&h->fields, "METRIC_RX_BPS", rx, before->a, dt_us);
			put_rate(&h->fields, "METRIC_TX_BPS", tx, before->b, dt_us);
			emit(u, &h->fields);
		}
		n++;
	}
	if (f)
		(void)fclose(f);
	memcpy(h->net, now, n * sizeof(*now));
	h->n_net = n;
}

int hostmetrics_sample(struct hostmetrics *h, uint64_t now_us,
		       void (*emit)(void *userdata, const struct buf *fields), void *userdata)
{
	uint64_t dt = h->when_us ? now_us - MIN(now_us, h->when_us) : 0;

	sample_cpu(h, emit, userdata);
	sample_memory(h, emit, userdata);
	sample_load(h, emit, userdata);
	sample_filesystems(h, emit, userdata);
	sample_disks(h, dt, emit, userdata);
	sample_network(h, dt, emit, userdata);
	h->when_us = now_us;
	return 0;
}
