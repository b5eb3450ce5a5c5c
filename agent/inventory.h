/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_INVENTORY_H
#define VIGIL_INVENTORY_H

#include "common/buf.h"

/*
 * What the host is: HOST_* fields in export format (hostname, machine id,
 * OS, kernel, architecture, CPU model and count, memory, IP addresses,
 * agent version, labels). Reads /etc and /proc; appends to out.
 */
int inventory_collect(const char *hostname, const char *labels, struct buf *out);


#endif
