/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a library the agent uses costs a process: built once per library by
 * bench/libcost.sh (LIBCOST_<NAME> says which to link and initialise), it
 * prints its resident and private memory from /proc/self/smaps_rollup.
 */
#include <stdio.h>
#include <string.h>

#ifdef LIBCOST_CURL
#include <curl/curl.h>
#endif
#ifdef LIBCOST_OPENSSL
#include <openssl/ssl.h>
#endif
#ifdef LIBCOST_SYSTEMD
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>
#endif
#ifdef LIBCOST_SQLITE
#include <sqlite3.h>
#endif
#ifdef LIBCOST_NNG
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#endif
#ifdef LIBCOST_ZSTD
#include <zstd.h>
#endif

/* Takes what the library needs to be ready, as the agent takes it; 0 or the failing step's number. */
static int initialise(void)
{
#ifdef LIBCOST_CURL
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !curl_easy_init())
		return 1;
#endif
#ifdef LIBCOST_OPENSSL
	if (!OPENSSL_init_ssl(0, NULL) || !SSL_CTX_new(TLS_client_method()))
		return 2;
#endif
#ifdef LIBCOST_SYSTEMD
	sd_event *e;
	sd_journal *j;

	if (sd_event_default(&e) < 0 || sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY) < 0)
		return 3;
#endif
#ifdef LIBCOST_SQLITE
	sqlite3 *db;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL))
		return 4;
#endif
#ifdef LIBCOST_NNG
	nng_socket s;

	if (nng_req0_open(&s) != 0)
		return 5;
#endif
#ifdef LIBCOST_ZSTD
	if (!ZSTD_createCCtx())
		return 6;
#endif
	return 0;
}

int main(void)
{
	char line[256];
	FILE *f;
	int r = initialise();

	if (r) {
		fprintf(stderr, "libcost: step %d failed\n", r);
		return 1;
	}
	f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Rss:", 4) || !strncmp(line, "Private_Clean:", 14) ||
		    !strncmp(line, "Private_Dirty:", 14) || !strncmp(line, "Anonymous:", 10))
			fputs(line, stdout);
	fclose(f);
	return 0;
}
