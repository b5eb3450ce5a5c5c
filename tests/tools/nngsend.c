/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: sends a file's bytes as one nng REQ message and prints the
 * collector's reply as "STATUS SEQ REASON", or "error: ..." (exit 1).
 * With --frame it wraps the file as a valid batch's payload first; with
 * --tls it dials tls+tcp:// with that CA, certificate and key:
 *   nngsend ADDRESS FILE [--frame AGENT_HEX SEQ RECORDS] [--tls CA CERT KEY]
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/frame.h"
#include "common/transport.h"
#include "common/util.h"

static int read_all(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0) {
			(void)fclose(f);
			return -ENOBUFS;
		}
	(void)fclose(f);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: nngsend ADDRESS FILE [--frame AGENT_HEX SEQ RECORDS] [--tls CA CERT KEY]\n");
	return 2;
}

/*
 * Sends the batch in path (framed as frame says, or as it is) and prints the
 * reply; the exit status. On an error the socket is left to the exit: nng's
 * close waits for what a refused send left pending.
 */
static int send_one(const struct transport_conf *t, const char *path, char **frame, struct buf *in, struct buf *out)
{
	/* 5 s, or NNGSEND_TIMEOUT_MS: a test whose collector stores beside much other work gives it longer. */
	const char *env = getenv("NNGSEND_TIMEOUT_MS");
	nng_duration wait = env && atoi(env) > 0 ? atoi(env) : 5000;
	struct reply rep;
	nng_socket s;
	nng_msg *m;
	int rv;

	if (read_all(path, in) < 0) {
		fprintf(stderr, "error: cannot read %s\n", path);
		return 2;
	}
	if (frame) {
		struct frame_header h = { .version = FRAME_VERSION };
		ZSTD_CCtx *cctx = ZSTD_createCCtx();
		int built;

		if (hex_decode(frame[0], h.agent_id, AGENT_ID_SIZE) < 0) {
			ZSTD_freeCCtx(cctx);
			return 2;
		}
		h.seq = strtoull(frame[1], NULL, 10);
		h.records = (uint32_t)strtoul(frame[2], NULL, 10);
		h.raw_len = (uint32_t)in->len;
		h.created_us = now_realtime_us();
		built = cctx ? frame_build(cctx, &h, in->data, in->len, 3, out) : -ENOMEM;
		ZSTD_freeCCtx(cctx);
		if (built < 0)
			return 2;
	} else {
		(void)buf_append(out, in->data, in->len);
	}
	if ((rv = nng_req0_open(&s)) || (rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, wait)) ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, wait))) {
		printf("error: %s\n", nng_strerror(rv));
		return 1;
	}
	if (transport_dial(s, t) < 0) {
		printf("error: cannot dial %s\n", t->address);
		return 1;
	}
	/* nng_sendmsg() takes the message only when it succeeds. */
	if ((rv = nng_msg_alloc(&m, 0)) == 0 &&
	    ((rv = nng_msg_append(m, out->data, out->len)) || (rv = nng_sendmsg(s, m, 0))))
		nng_msg_free(m);
	if (rv || (rv = nng_recvmsg(s, &m, 0))) {
		printf("error: %s\n", nng_strerror(rv));
		return 1;
	}
	if (reply_decode(nng_msg_body(m), nng_msg_len(m), &rep) < 0) {
		printf("error: malformed reply\n");
		nng_msg_free(m);
		return 1;
	}
	printf("%s %" PRIu64 " %s\n", reply_status_name(rep.status), rep.seq, rep.reason);
	nng_msg_free(m);
	(void)nng_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	struct transport_conf t = { .address = argc > 1 ? argv[1] : NULL };
	char **frame = NULL;
	struct buf in, out;
	int rc;

	if (argc < 3)
		return usage();
	for (int i = 3; i < argc; i += 4) {
		if (i + 3 >= argc)
			return usage();
		if (strcmp(argv[i], "--frame") == 0) {
			frame = argv + i + 1;
		} else if (strcmp(argv[i], "--tls") == 0) {
			t.tls_ca = argv[i + 1];
			t.tls_cert = argv[i + 2];
			t.tls_key = argv[i + 3];
		} else {
			return usage();
		}
	}
	buf_init(&in, 512u << 20);
	buf_init(&out, 1024u << 20);
	rc = send_one(&t, argv[2], frame, &in, &out);
	buf_free(&in);
	buf_free(&out);
	return rc;
}
