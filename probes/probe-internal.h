/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PROBE_INTERNAL_H
#define VIGIL_PROBE_INTERNAL_H

#include "fetch/curl_loop.h"
#include "probes/probe.h"

/* A probe type: its config rules and how one run starts and stops. */
struct probe_ops {
	const char *type;
	/* Keys this type needs; a key of another type is an error. */
	const char *const *required;
	const char *const *allowed;
	/* Starts a run, which ends with probe_finish() (maybe before start returns). */
	int (*start)(struct probe *p);
	/* Releases what a run holds (sockets, children, timers); idempotent. */
	void (*stop)(struct probe *p);
	/*
	 * Optional: what the probe holds for its whole life (a bus match, a
	 * TLS context), set up by probe_new(), released by probe_free().
	 */
	int (*attach)(struct probe *p);
	void (*detach)(struct probe *p);
};

extern const struct probe_ops probe_tcp_ops, probe_http_ops, probe_cert_ops, probe_command_ops, probe_file_ops,
	probe_process_ops, probe_unit_ops;

/*
 * For http and cert, as their attach and detach: a reference on the curl
 * loop all curl-based probes of this process share, held from probe_new()
 * to probe_free(), so no run's end (which happens inside the loop's own
 * dispatch) can free it.
 */
int probe_curl_attach(struct probe *p);
void probe_curl_detach(struct probe *p);
/* For http and cert: a fresh-connection transfer of url in p->easy, set up but not started. */
int probe_curl_prepare(struct probe *p, const char *url);
/* Starts it on the shared loop; done(easy, result, p) ends it. */
int probe_curl_go(struct probe *p, curl_done_fn done);
/* Stops and frees p->easy; idempotent. */
void probe_curl_stop(struct probe *p);

struct probe {
	const struct probe_conf *conf;
	const struct probe_ops *ops;
	sd_event *event;
	probe_report_fn report;
	void *userdata;
	sd_event_source *timer;
	sd_event_source *deadline;
	uint64_t started_us; /* CLOCK_MONOTONIC */
	bool running;
	bool rerun; /* a change was seen while running: run again when it ends */
	bool has_last;
	enum probe_status last;
	struct buf details;
	/* What a run of the type holds; released by ops->stop(). */
	int fd;
	pid_t pid;
	sd_event_source *io;
	sd_event_source *child;
	sd_event_source *poll;
	struct buf io_buf;
	size_t io_done;
	int exit_status;
	bool exited;
	void *type_state;
	void *easy; /* CURL *, for http and cert */
	char curl_error[256];
	void *attached; /* what ops->attach() set up */
};

/* Ends the run: releases it (ops->stop), reports, schedules the next. */
void probe_finish(struct probe *p, enum probe_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds a detail field to the current result. */
void probe_detail(struct probe *p, const char *key, const char *value);
void probe_detail_u64(struct probe *p, const char *key, uint64_t value);
uint64_t probe_elapsed_us(const struct probe *p);
/* Runs the probe now (or right after the current run): something it watches changed. */
void probe_run_now(struct probe *p);

#endif
