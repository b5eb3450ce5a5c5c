/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_AGENT_ENROLL_H
#define VIGIL_AGENT_ENROLL_H

#include <stdint.h>

#include "agent/agent_conf.h"

/*
 * The agent's side of enrollment (docs/operations.md, Enrollment).
 *
 * agent_enroll(): `vigil-agent --enroll URL --token T`. Fetches the
 * collector's CA from URL and checks it is the one the token names before
 * anything secret is sent; makes the host's key (STATE_DIR/enroll/agent.key,
 * kept if it is there: it never leaves the host) and a request for the
 * host's name; sends it with the token over HTTPS verified against that
 * CA; writes the certificate and the CA beside the key, and the drop-in
 * CONFIG.d/50-enroll.conf that points [collector] at them. Run as root,
 * the files are given to STATE_DIR's owner (the agent's user). token is
 * the token's text, or "-": the first line of standard input.
 */
int agent_enroll(const struct agent_conf *conf, const char *config_path, const char *url, const char *token);

#define ENROLL_DROPIN "50-enroll.conf"

/*
 * Renewal by the running agent, with [enroll] url=: when a third of the
 * certificate's life is left it asks the collector for a new one (a
 * request signed by the same key proves it holds it) and replaces
 * [collector] tls_cert=. When the next look is due (realtime
 * microseconds) into *next_us: 1 renewed (the connection must be made
 * again with the new certificate), 0 nothing to do yet, negative when the
 * renewal failed (logged; *next_us says when to try again).
 */
int agent_renew_if_due(const struct agent_conf *conf, uint64_t now_us, uint64_t *next_us);

#endif
