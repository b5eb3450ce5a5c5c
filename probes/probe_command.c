/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include "probes/argv.h"
#include "common/export.h"
#include "common/macro.h"
#include "probes/probe-internal.h"

/*
 * A Nagios-compatible plugin: run without a shell in its own process group
 * (killed whole at the timeout), exit 0/1/2/3 = ok/warning/critical/unknown,
 * the first line of its output is the message, perfdata after '|' become
 * PROBE_PERF_* fields.
 */

static void command_stop(struct probe *p)
{
	p->io = sd_event_source_disable_unref(p->io);
	p->child = sd_event_source_disable_unref(p->child);
	if (p->fd >= 0)
		(void)close(p->fd);
	p->fd = -1;
	if (p->pid > 0 && !p->exited) {
		(void)kill(-p->pid, SIGKILL);
		(void)waitpid(p->pid, NULL, 0);
	}
	p->pid = -1;
}

/* "label=value[UOM];warn;crit;min;max" items: PROBE_PERF_LABEL=value. */
static void add_perfdata(struct probe *p, char *perf)
{
	char *save = NULL;

	for (char *item = strtok_r(perf, " ", &save); item; item = strtok_r(NULL, " ", &save)) {
		char key[EXPORT_KEY_MAX + 1] = "PROBE_PERF_", *eq = strchr(item, '='), *end;
		size_t k = strlen(key);

		if (!eq || eq == item)
			continue;
		for (char *c = item; c < eq && k < EXPORT_KEY_MAX; c++) {
			char u = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
			key[k++] = (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ? u : '_';
		}
		key[k] = 0;
		end = strchr(eq + 1, ';');
		if (end)
			*end = 0;
		probe_detail(p, key, eq + 1);
	}
}

static void finish_command(struct probe *p)
{
	static const enum probe_status by_code[] = { PROBE_OK, PROBE_WARNING, PROBE_CRITICAL, PROBE_UNKNOWN };
	char *out, *nl, *bar;
	enum probe_status st;
	int code = -1;

	(void)buf_terminate(&p->io_buf);
	out = p->io_buf.data ? (char *)p->io_buf.data : (char *)"";
	nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	bar = strchr(out, '|');
	if (bar) {
		*bar = 0;
		add_perfdata(p, bar + 1);
	}
	for (size_t n = strlen(out); n && (out[n - 1] == ' ' || out[n - 1] == '\t'); n--)
		out[n - 1] = 0;
	if (WIFEXITED(p->exit_status))
		code = WEXITSTATUS(p->exit_status);
	st = code >= 0 && code <= 3 ? by_code[code] : PROBE_UNKNOWN;
	probe_detail_u64(p, "PROBE_EXIT_STATUS", code >= 0 ? (uint64_t)code : 255);
	if (code == 127 && !*out)
		probe_finish(p, PROBE_UNKNOWN, "cannot execute %s", p->conf->command);
	else if (code < 0)
		probe_finish(p, PROBE_UNKNOWN, "killed by signal %d%s%s", WTERMSIG(p->exit_status), *out ? ": " : "",
			     out);
	else
		probe_finish(p, st, "%s", *out ? out : "(no output)");
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *p = userdata;
	ssize_t n;

	/* Only the first line matters; keep up to 8 KiB, drain the rest. */
	if (buf_reserve(&p->io_buf, 4096) == 0 && p->io_buf.len < 8192) {
		n = read(fd, p->io_buf.data + p->io_buf.len, 4096);
		if (n > 0)
			p->io_buf.len += (size_t)n;
	} else {
		char sink[4096];
		n = read(fd, sink, sizeof(sink));
	}
	if (n > 0 || (n < 0 && errno == EAGAIN))
		return 0;
	p->io = sd_event_source_disable_unref(p->io);
	if (p->exited)
		finish_command(p);
	return 0;
}

static int on_exit_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct probe *p = userdata;

	p->exited = true;
	p->exit_status = si->si_code == CLD_EXITED ? W_EXITCODE(si->si_status, 0) : si->si_status;
	p->child = sd_event_source_disable_unref(p->child);
	/* The process group may live on (a daemonized grandchild): it goes with the run. */
	(void)kill(-p->pid, SIGKILL);
	if (!p->io)
		finish_command(p);
	return 0;
}

/*
 * The plugin in a process group of its own (the timeout kills the group),
 * stdout to the pipe, stdin and stderr on /dev/null, no blocked signals and
 * SIGPIPE back to default (the agent ignores it, and an ignored signal
 * stays ignored across exec). posix_spawn does not copy the agent's page
 * tables as fork would, and reports a failed exec as its error.
 */
static int spawn(char **argv, int out, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int r;

	(void)sigemptyset(&none);
	(void)sigemptyset(&dfl);
	(void)sigaddset(&dfl, SIGPIPE);
	r = posix_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	r = posix_spawnattr_init(&at);
	if (r) {
		(void)posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	if (!r)
		r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (!r)
		r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!r)
		r = posix_spawnattr_setpgroup(&at, 0);
	if (!r)
		r = posix_spawnattr_setsigmask(&at, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&at, &dfl);
	if (!r)
		r = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	(void)posix_spawnattr_destroy(&at);
	(void)posix_spawn_file_actions_destroy(&fa);
	return -r;
}

static int command_start(struct probe *p)
{
	char **argv = argv_split(p->conf->command);
	int pipefd[2], r;

	p->exited = false;
	p->exit_status = 0;
	buf_reset(&p->io_buf);
	if (!argv) {
		probe_finish(p, PROBE_UNKNOWN, "command=%s: %s", p->conf->command,
			     errno == EINVAL ? "unterminated quote or empty" : strerror(errno));
		return 0;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = -errno;
		argv_free(argv);
		return r;
	}
	r = spawn(argv, pipefd[1], &p->pid);
	if (r < 0)
		p->pid = -1;
	argv_free(argv);
	(void)close(pipefd[1]);
	p->fd = pipefd[0];
	if (r == 0) {
		(void)fcntl(p->fd, F_SETFL, O_NONBLOCK);
		r = sd_event_add_io(p->event, &p->io, p->fd, EPOLLIN, on_output, p);
	}
	if (r == 0)
		r = sd_event_add_child(p->event, &p->child, p->pid, WEXITED, on_exit_child, p);
	return r;
}

static const char *const command_required[] = { "command", NULL };

const struct probe_ops probe_command_ops = {
	.type = "command",
	.required = command_required,
	.start = command_start,
	.stop = command_stop,
};
