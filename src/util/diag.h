/*
 * diag.h - the context of the last error on this thread.
 *
 * Errors are values; the value alone cannot say which device or offset was
 * at fault.  A failing call records that context with jrx_fail(), which
 * returns the error so call sites stay "return jrx_fail(err, ...)".  The
 * front end prints jrx_diag() next to jrx_strerror(), so the text says
 * what failed and on what, not the error again: an -ENOMEM names what was
 * being allocated and how much ("allocating the list of jsets read: 64
 * entries of 56 bytes (Cannot allocate memory)").
 */
#ifndef JRX_DIAG_H
#define JRX_DIAG_H

int jrx_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *jrx_diag(void);
void jrx_diag_clear(void);

#endif
