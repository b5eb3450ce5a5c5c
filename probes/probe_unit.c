/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <systemd/sd-bus.h>

#include "common/log.h"
#include "common/macro.h"
#include "probes/probe-internal.h"

/*
 * A systemd unit's state, read over the system bus. One connection serves
 * every unit probe of the process. systemd sends unit signals on the bus only
 * while some client is subscribed, so the connection calls Manager.Subscribe;
 * each probe matches its unit's PropertiesChanged and runs at once when it
 * fires, so a stop or a failure is reported within a bus round trip. The
 * interval's runs re-read the state in case a signal was missed.
 */

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define UNIT_IFACE "org.freedesktop.systemd1.Unit"

static struct {
	sd_bus *bus;
	/* Bumped by every new connection: matches made on an older one are gone. */
	unsigned generation;
	unsigned users;
} shared;

struct unit_watch {
	char *path; /* the unit's object path */
	sd_bus_slot *match;
	unsigned generation; /* of the connection match was added on; 0: none */
	sd_bus_slot *call;   /* the run's GetAll */
};

static void bus_drop(void)
{
	if (!shared.bus)
		return;
	(void)sd_bus_detach_event(shared.bus);
	shared.bus = sd_bus_close_unref(shared.bus);
}

static int on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const sd_bus_error *e = sd_bus_message_get_error(m);

	if (e)
		log_warning("system bus: Subscribe to systemd failed, unit probes see changes only at their interval: %s",
			 e->message ? e->message : e->name);
	return 0;
}

/* A working connection, made anew if there is none or it was lost (dbus restarted). */
static int bus_connect(sd_event *event)
{
	sd_bus *bus = NULL;
	int r;

	if (shared.bus && sd_bus_is_open(shared.bus) > 0)
		return 0;
	bus_drop();
	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_bus_call_method_async(bus, NULL, SYSTEMD_DEST, "/org/freedesktop/systemd1",
					     "org.freedesktop.systemd1.Manager", "Subscribe", on_subscribed, NULL, "");
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	shared.bus = bus;
	if (++shared.generation == 0)
		shared.generation = 1;
	return 0;
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	probe_run_now(userdata);
	return 0;
}

static int add_match(struct probe *p)
{
	struct unit_watch *w = p->attached;
	int r;

	w->match = sd_bus_slot_unref(w->match);
	r = sd_bus_match_signal_async(shared.bus, &w->match, SYSTEMD_DEST, w->path, "org.freedesktop.DBus.Properties",
				      "PropertiesChanged", on_changed, NULL, p);
	if (r >= 0)
		w->generation = shared.generation;
	return r;
}

static void unit_stop(struct probe *p)
{
	struct unit_watch *w = p->attached;

	if (w)
		w->call = sd_bus_slot_unref(w->call);
}

/* Status of a unit from its states; the message says them as systemctl does. */
static enum probe_status unit_status(const char *load, const char *active)
{
	static const struct {
		const char *state;
		enum probe_status status;
	} map[] = {
		{ "active", PROBE_OK },		  { "reloading", PROBE_OK },	{ "activating", PROBE_WARNING },
		{ "deactivating", PROBE_WARNING }, { "maintenance", PROBE_WARNING }, { "inactive", PROBE_CRITICAL },
		{ "failed", PROBE_CRITICAL },
	};

	if (strcmp(load, "loaded") != 0)
		return PROBE_CRITICAL; /* not-found, masked, bad-setting, error */
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(map[i].state, active) == 0)
			return map[i].status;
	return PROBE_UNKNOWN;
}

/* Reads the a{sv} of GetAll, keeping the states and when they last changed. */
static int read_props(sd_bus_message *m, char load[static 32], char active[static 32], char sub[static 32],
		      uint64_t *changed_us)
{
	const char *name, *value;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		char *dst = NULL;

		r = sd_bus_message_read(m, "s", &name);
		if (r < 0)
			break;
		dst = strcmp(name, "LoadState") == 0	? load :
		      strcmp(name, "ActiveState") == 0 ? active :
		      strcmp(name, "SubState") == 0	? sub :
							  NULL;
		if (dst) {
			r = sd_bus_message_read(m, "v", "s", &value);
			if (r >= 0)
				(void)snprintf(dst, 32, "%s", value);
		} else if (strcmp(name, "StateChangeTimestamp") == 0) {
			r = sd_bus_message_read(m, "v", "t", changed_us);
		} else {
			r = sd_bus_message_skip(m, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int on_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct probe *p = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	char load[32] = "", active[32] = "", sub[32] = "";
	uint64_t changed_us = 0;
	enum probe_status s;
	int r;

	if (e) {
		probe_finish(p, PROBE_UNKNOWN, "%s: %s", p->conf->unit, e->message ? e->message : e->name);
		return 0;
	}
	r = read_props(m, load, active, sub, &changed_us);
	if (r < 0 || !*load || !*active) {
		probe_finish(p, PROBE_UNKNOWN, "%s: unexpected answer from systemd: %s", p->conf->unit,
			     r < 0 ? strerror(-r) : "no LoadState or ActiveState");
		return 0;
	}
	probe_detail(p, "PROBE_LOAD_STATE", load);
	probe_detail(p, "PROBE_ACTIVE_STATE", active);
	probe_detail(p, "PROBE_SUB_STATE", sub);
	if (changed_us)
		probe_detail_u64(p, "PROBE_STATE_CHANGE_US", changed_us);
	s = unit_status(load, active);
	if (strcmp(load, "loaded") != 0)
		probe_finish(p, s, "%s is %s", p->conf->unit, load);
	else
		probe_finish(p, s, "%s is %s (%s)", p->conf->unit, active, sub);
	return 0;
}

static int unit_start(struct probe *p)
{
	struct unit_watch *w = p->attached;
	int r;

	probe_detail(p, "PROBE_UNIT", p->conf->unit);
	r = bus_connect(p->event);
	if (r < 0) {
		probe_finish(p, PROBE_UNKNOWN, "cannot connect to the system bus: %s", strerror(-r));
		return 0;
	}
	if (w->generation != shared.generation && add_match(p) < 0)
		log_warning("probe %s: cannot watch %s for changes; reading it every interval", p->conf->name,
			 p->conf->unit);
	r = sd_bus_call_method_async(shared.bus, &w->call, SYSTEMD_DEST, w->path, "org.freedesktop.DBus.Properties",
				     "GetAll", on_props, p, "s", UNIT_IFACE);
	if (r < 0)
		probe_finish(p, PROBE_UNKNOWN, "asking systemd about %s: %s", p->conf->unit, strerror(-r));
	return 0;
}

static int unit_attach(struct probe *p)
{
	struct unit_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", p->conf->unit, &w->path);
	if (r < 0) {
		free(w);
		return r;
	}
	p->attached = w;
	shared.users++;
	/* Without a bus now, runs report unknown and connect again. */
	if (bus_connect(p->event) >= 0)
		(void)add_match(p);
	return 0;
}

static void unit_detach(struct probe *p)
{
	struct unit_watch *w = p->attached;

	if (!w)
		return;
	sd_bus_slot_unref(w->call);
	sd_bus_slot_unref(w->match);
	free(w->path);
	free(w);
	p->attached = NULL;
	if (--shared.users == 0)
		bus_drop();
}

static const char *const unit_required[] = { "unit", NULL };

const struct probe_ops probe_unit_ops = {
	.type = "unit",
	.required = unit_required,
	.start = unit_start,
	.stop = unit_stop,
	.attach = unit_attach,
	.detach = unit_detach,
};
