/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>

#include "common/macro.h"
#include "common/regex.h"
#include "probes/probe-internal.h"

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Counts processes whose comm is name and whose command line matches re (both when given). */
static int count_processes(const struct probe_conf *c, const regex_t *re, uint64_t *ret)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	uint64_t n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[300], buf[4096];
		ssize_t len;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (c->process) {
			(void)snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
			if (read_small(path, buf, sizeof(buf)) <= 0)
				continue;
			buf[strcspn(buf, "\n")] = 0;
			if (strcmp(buf, c->process) != 0)
				continue;
		}
		if (re) {
			(void)snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
			len = read_small(path, buf, sizeof(buf));
			if (len <= 0)
				continue;
			for (ssize_t i = 0; i < len - 1; i++)
				if (!buf[i])
					buf[i] = ' ';
			if (regexec(re, buf, 0, NULL, 0) != 0)
				continue;
		}
		n++;
	}
	(void)closedir(d);
	*ret = n;
	return 0;
}

/* A scan of /proc (or one PID from a pidfile): local and quick, so it runs in place. */
static int process_start(struct probe *p)
{
	const struct probe_conf *c = p->conf;
	regex_t re;
	char why[160];
	uint64_t n = 0;
	char buf[64];
	int r = 0;

	if (c->pidfile) {
		r = (int)read_small(c->pidfile, buf, sizeof(buf));
		if (r < 0) {
			probe_finish(p, PROBE_CRITICAL, "pidfile %s: %s", c->pidfile, strerror(-r));
			return 0;
		}
		n = pid_alive((pid_t)strtol(buf, NULL, 10));
		r = 0;
	} else {
		if (c->cmdline && regex_compile(&re, c->cmdline, REG_EXTENDED | REG_NOSUB, why, sizeof(why)) < 0) {
			probe_finish(p, PROBE_UNKNOWN, "cmdline=%s: %s", c->cmdline, why);
			return 0;
		}
		r = count_processes(c, c->cmdline ? &re : NULL, &n);
		if (c->cmdline)
			regfree(&re);
	}
	if (r < 0)
		return r;
	probe_detail_u64(p, "PROBE_COUNT", n);
	if (c->max_count && n > c->max_count)
		probe_finish(p, PROBE_CRITICAL, "%" PRIu64 " processes (at most %" PRIu64 " expected)", n, c->max_count);
	else if (n < c->min_count)
		probe_finish(p, PROBE_CRITICAL, "%" PRIu64 " processes (at least %" PRIu64 " expected)", n, c->min_count);
	else
		probe_finish(p, PROBE_OK, "%" PRIu64 " process%s", n, n == 1 ? "" : "es");
	return 0;
}

static void process_stop(struct probe *p)
{
}

static const char *const process_allowed[] = { "name", "pidfile", "cmdline", "min_count", "max_count", NULL };

const struct probe_ops probe_process_ops = {
	.type = "process",
	.allowed = process_allowed,
	.start = process_start,
	.stop = process_stop,
};
