/*
 * diag.h - the context of the last error on this thread.
 *
 * Errors are values; the value alone cannot say which device or offset was
 * at fault.  A failing call records that context with jrx_fail(), which
 * returns the error so call sites stay "return jrx_fail(err, ...)".  The
 * front end prints jrx_diag() next to jrx_strerror().
 */
#ifndef JRX_DIAG_H
#define JRX_DIAG_H

int jrx_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *jrx_diag(void);
void jrx_diag_clear(void);

#endif
