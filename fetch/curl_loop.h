/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CURL_LOOP_H
#define VIGIL_CURL_LOOP_H

#include <curl/curl.h>
#include <systemd/sd-event.h>
#include <time.h>

/*
 * libcurl's multi interface driven by an sd-event loop: curl's sockets
 * become I/O sources and its timer one timer source, so any number of
 * transfers run without a thread and without blocking the loop.
 */
struct curl_loop;

int curl_loop_new(sd_event *event, struct curl_loop **ret);
/* Every transfer must have been removed first. NULL is fine. */
void curl_loop_free(struct curl_loop *l);

typedef void (*curl_done_fn)(CURL *easy, CURLcode result, void *userdata);

/*
 * Starts easy (still owned by the caller). done runs on the loop when it
 * ends, after which the transfer is no longer in the loop.
 */
int curl_loop_add(struct curl_loop *l, CURL *easy, curl_done_fn done, void *userdata);
/* Stops easy before it ended (done is not called). */
void curl_loop_remove(struct curl_loop *l, CURL *easy);

/* When the server's certificate (of a transfer done with CURLOPT_CERTINFO) expires; -ENODATA. */
int curl_cert_expiry(CURL *easy, time_t *ret);

#endif
