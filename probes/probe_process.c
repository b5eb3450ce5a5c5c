/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/macro.h"
#include "common/regex.h"
#include "common/util.h"
#include "probes/probe-internal.h"

/*
 * One scan of /proc serves every process probe that runs within FRESH_US of
 * it: the probes of one interval run together, and a scan opens a file or
 * two per process (monit, too, reads the process table once a cycle). An
 * entry is a byte of what could be read (READ_COMM, READ_CMDLINE), comm and
 * the command line (its NULs as spaces), each NUL-terminated. Past
 * TABLE_MAX bytes the table is not kept and each probe scans for itself.
 * Held while a process probe exists (attach, detach), as the curl loop is.
 */
#define FRESH_US (USEC_PER_SEC / 2)
#define TABLE_MAX (256 * 1024)
#define READ_COMM 1
#define READ_CMDLINE 2

static struct proc_table {
	unsigned users, by_name, by_cmdline; /* of the probes attached, those that read comm, the command line */
	uint64_t taken_us;                   /* CLOCK_MONOTONIC; 0: none to use */
	struct buf text;
} table;

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

/* What of process pid (a /proc name) is asked for (READ_*), into comm and cmd; what could be read. */
static unsigned read_process(const char *pid, unsigned want, char comm[4096], char cmd[4096])
{
	char path[300];
	unsigned got = 0;
	ssize_t len;

	*comm = *cmd = 0;
	if ((want & READ_COMM) && snprintf(path, sizeof(path), "/proc/%s/comm", pid) > 0 &&
	    read_small(path, comm, 4096) > 0) {
		comm[strcspn(comm, "\n")] = 0;
		got |= READ_COMM;
	}
	if ((want & READ_CMDLINE) && snprintf(path, sizeof(path), "/proc/%s/cmdline", pid) > 0 &&
	    (len = read_small(path, cmd, 4096)) > 0) {
		for (ssize_t i = 0; i < len - 1; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		got |= READ_CMDLINE;
	}
	return got;
}

/* Whether a process of what got (READ_*), comm and cmd is one of c's, whose command line matches re. */
static bool process_matches(const struct probe_conf *c, const regex_t *re, unsigned got, const char *comm,
			    const char *cmd)
{
	if (c->process && (!(got & READ_COMM) || strcmp(comm, c->process) != 0))
		return false;
	return !re || ((got & READ_CMDLINE) && regexec(re, cmd, 0, NULL, 0) == 0);
}

static int table_add(unsigned got, const char *comm, const char *cmd)
{
	int r = buf_putc(&table.text, (char)got);

	if (r == 0)
		r = buf_append(&table.text, comm, strlen(comm) + 1);
	return r ? r : buf_append(&table.text, cmd, strlen(cmd) + 1);
}

/*
 * Walks /proc: counts processes that match c and re (both when given) and,
 * with keep, makes the table (its taken_us set once it is whole).
 */
static int scan_processes(const struct probe_conf *c, const regex_t *re, bool keep, uint64_t *ret)
{
	unsigned want = keep ? (table.by_name ? READ_COMM : 0) | (table.by_cmdline ? READ_CMDLINE : 0) :
			       (c->process ? READ_COMM : 0) | (re ? READ_CMDLINE : 0);
	DIR *d = opendir("/proc");
	struct dirent *de;
	uint64_t n = 0;

	if (!d)
		return -errno;
	buf_reset(&table.text);
	table.taken_us = 0;
	while ((de = readdir(d))) {
		char comm[4096], cmd[4096];
		unsigned got;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		got = read_process(de->d_name, want, comm, cmd);
		n += process_matches(c, re, got, comm, cmd);
		if (keep && table_add(got, comm, cmd) < 0)
			keep = false;
	}
	(void)closedir(d);
	if (keep)
		table.taken_us = now_monotonic_us();
	*ret = n;
	return 0;
}

/* Counts processes that match c and re, from the table when it is fresh, else by a scan that renews it. */
static int count_processes(const struct probe_conf *c, const regex_t *re, uint64_t *ret)
{
	const char *t = (const char *)table.text.data, *end = t + table.text.len;
	uint64_t n = 0;

	if (!table.taken_us || now_monotonic_us() - table.taken_us > FRESH_US)
		return scan_processes(c, re, table.users > 0, ret);
	while (t < end) {
		unsigned got = (unsigned char)*t++;
		const char *comm = t, *cmd = comm + strlen(comm) + 1;

		n += process_matches(c, re, got, comm, cmd);
		t = cmd + strlen(cmd) + 1;
	}
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

static int process_attach(struct probe *p)
{
	if (!table.users++)
		buf_init(&table.text, TABLE_MAX);
	table.by_name += p->conf->process != NULL;
	table.by_cmdline += p->conf->cmdline != NULL;
	/* What the table holds is what those before asked for. */
	table.taken_us = 0;
	p->attached = &table;
	return 0;
}

static void process_detach(struct probe *p)
{
	if (!p->attached)
		return;
	p->attached = NULL;
	table.by_name -= p->conf->process != NULL;
	table.by_cmdline -= p->conf->cmdline != NULL;
	if (--table.users == 0) {
		buf_free(&table.text);
		table.taken_us = 0;
	}
}

static const char *const process_allowed[] = { "name", "pidfile", "cmdline", "min_count", "max_count", NULL };

const struct probe_ops probe_process_ops = {
	.type = "process",
	.allowed = process_allowed,
	.start = process_start,
	.stop = process_stop,
	.attach = process_attach,
	.detach = process_detach,
};
