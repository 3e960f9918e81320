/*
 * diag.h - the context of the last error on this thread.
 *
 * Errors are values; the value alone cannot say which device or offset was
 * at fault.  A failing call records that context with jrx_fail(), which
 * returns the error so call sites stay "return jrx_fail(err, ...)".  The
 * front end prints jrx_diag() alone, so the text says what failed, on what
 * and why, once: an -ENOMEM names what was being allocated and how much
 * ("allocating the list of jsets read: 64 entries of 56 bytes").
 *
 * Notes are the findings of a call that succeeded (a bad superblock copy
 * worked around, a member found by scanning): lines in a caller's buffer.
 */
#ifndef JRX_DIAG_H
#define JRX_DIAG_H

int jrx_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *jrx_diag(void);
/* Appends one line to the notes in buf (size bytes); drops what does not
 * fit. */
void jrx_note_line(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void jrx_diag_clear(void);

#endif
