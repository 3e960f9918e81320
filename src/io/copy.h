/*
 * copy.h - a sparse-aware copy of a device file: only the data ranges are
 * read and written, the holes stay holes.
 */
#ifndef JRX_COPY_H
#define JRX_COPY_H

#include <stdint.h>

/*
 * Copy the regular file src to dst (created or truncated; not src itself).
 * *copied (may be NULL) gets the data bytes copied.  Errors are negative
 * errno values with the file and offset in jrx_diag().
 */
int jrx_copy_sparse(const char *src, const char *dst, uint64_t *copied);

#endif
