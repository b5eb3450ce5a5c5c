/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/syslog.sh's load generator: syslogload udp|tcp PORT COUNT [HOSTS]
 * sends COUNT RFC 5424 messages of about 200 bytes to 127.0.0.1:PORT as
 * fast as the socket takes them, from HOSTS device names in turn (default
 * 8): over UDP 64 datagrams a sendmmsg(), over TCP octet-counted in writes
 * of 1 MB. Prints the seconds it took.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static int message(char *out, size_t size, long i, int hosts)
{
	return snprintf(out, size,
			"<134>1 2026-12-02T10:00:00.%06ldZ fw-%ld gateway %ld - [req@32473 id=\"%ld\"] "
			"POST /api/v1/exchange/records status=200 bytes=%ld dur_ms=%ld user=u%ld from 10.%ld.%ld.%ld",
			i % 1000000, i % hosts + 1, 1000 + i % 50, i, 500 + i % 9000, i % 700, i % 5000, i % 200,
			(i / 7) % 250, i % 250);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	long count, i = 0;
	int hosts, fd, udp;
	double t0;

	if (argc < 4)
		return fprintf(stderr, "usage: syslogload udp|tcp PORT COUNT [HOSTS]\n"), 2;
	udp = strcmp(argv[1], "udp") == 0;
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	count = atol(argv[3]);
	hosts = argc > 4 ? atoi(argv[4]) : 8;
	fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
		return perror("connect"), 1;
	t0 = now();
	if (udp) {
		static char bufs[BATCH][512];
		struct mmsghdr m[BATCH];
		struct iovec iov[BATCH];
		while (i < count) {
			int n = 0;
			for (; n < BATCH && i + n < count; n++) {
				iov[n] = (struct iovec){ bufs[n], (size_t)message(bufs[n], sizeof(bufs[n]), i + n, hosts) };
				m[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 } };
			}
			int sent = sendmmsg(fd, m, (unsigned)n, 0);
			if (sent < 0)
				return perror("sendmmsg"), 1;
			i += sent;
		}
	} else {
		static char out[1 << 20];
		char msg[512];
		while (i < count) {
			size_t len = 0;
			for (; i < count && len + 600 < sizeof(out); i++) {
				int k = message(msg, sizeof(msg), i, hosts);
				len += (size_t)snprintf(out + len, sizeof(out) - len, "%d %s", k, msg);
			}
			for (size_t at = 0; at < len;) {
				ssize_t w = write(fd, out + at, len - at);
				if (w < 0)
					return perror("write"), 1;
				at += (size_t)w;
			}
		}
	}
	printf("%.3f\n", now() - t0);
	close(fd);
	return 0;
}
