/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FILE_H
#define VIGIL_FILE_H

#include <stddef.h>

/* The largest PEM file (certificates, keys, CA bundles with CRLs) read from a path given in a config. */
#define PEM_FILE_MAX (1024 * 1024)

/*
 * The whole of path, NUL-terminated, into *ret (the caller's to free):
 * -errno if it cannot be read, -EFBIG if it holds more than max bytes.
 */
int file_read_text(const char *path, size_t max, char **ret);

/*
 * Replaces path with len bytes of data, created with mode (and the process
 * umask), through a temporary file in the same folder that is fsynced and
 * renamed over it: a crash leaves the old file or the new one, never half.
 */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

#endif
