/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "common/export.h"
#include "common/macro.h"
#include "agent/inventory.h"

/* The value of "key=" (or "key\t: ") in a text file, unquoted, into out. */
static bool file_value(const char *path, const char *key, char sep, char *out, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	size_t kl = strlen(key);
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *v;
		if (strncmp(line, key, kl) != 0)
			continue;
		v = line + kl;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != sep)
			continue;
		v++;
		while (*v == ' ' || *v == '"')
			v++;
		v[strcspn(v, "\"\n")] = 0;
		(void)snprintf(out, size, "%s", v);
		found = true;
	}
	(void)fclose(f);
	return found;
}

static void add_addresses(struct buf *out)
{
	struct ifaddrs *ifa, *i;
	char all[2048] = "", host[NI_MAXHOST];
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : 0;
		if ((fam != AF_INET && fam != AF_INET6) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (getnameinfo(i->ifa_addr, fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
				host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		n += (size_t)snprintf(all + n, sizeof(all) - MIN(n, sizeof(all)), "%s%s", n ? " " : "", host);
		if (n >= sizeof(all))
			break;
	}
	freeifaddrs(ifa);
	(void)export_put_str(out, "HOST_ADDRESSES", all);
}

int inventory_collect(const char *hostname, const char *labels, struct buf *out)
{
	char v[512], mem[64];
	struct utsname u;
	sd_id128_t id;
	uint64_t kb = 0;
	int r = 0;

	r |= export_put_str(out, "HOST_HOSTNAME", hostname);
	if (sd_id128_get_machine(&id) >= 0) {
		char s[SD_ID128_STRING_MAX];
		r |= export_put_str(out, "HOST_MACHINE_ID", sd_id128_to_string(id, s));
	}
	if (file_value("/etc/os-release", "PRETTY_NAME", '=', v, sizeof(v)) ||
	    file_value("/usr/lib/os-release", "PRETTY_NAME", '=', v, sizeof(v)))
		r |= export_put_str(out, "HOST_OS", v);
	if (uname(&u) == 0) {
		r |= export_put_str(out, "HOST_KERNEL", u.release);
		r |= export_put_str(out, "HOST_ARCH", u.machine);
	}
	if (file_value("/proc/cpuinfo", "model name", ':', v, sizeof(v)))
		r |= export_put_str(out, "HOST_CPU_MODEL", v);
	r |= export_put_u64(out, "HOST_CPUS", (uint64_t)MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L));
	if (file_value("/proc/meminfo", "MemTotal", ':', mem, sizeof(mem)) && sscanf(mem, "%" SCNu64, &kb) == 1)
		r |= export_put_u64(out, "HOST_MEMORY_BYTES", kb * 1024);
	add_addresses(out);
	r |= export_put_str(out, "HOST_AGENT_VERSION", PACKAGE_VERSION);
	if (labels)
		r |= export_put_str(out, "HOST_LABELS", labels);
	return r ? -ENOBUFS : 0;
}
