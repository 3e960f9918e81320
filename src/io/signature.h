/*
 * signature.h - what a device already holds before it is overwritten: a
 * jrx superblock (either copy, valid or not), or any file system, RAID
 * member or partition table libblkid recognises.
 */
#ifndef JRX_SIGNATURE_H
#define JRX_SIGNATURE_H

#include <stddef.h>
#include "device.h"

/*
 * 1 and a description in what ("a jrx array (uuid ..., member 0 of 2,
 * unclean)", "an ext4 file system (UUID ...)"), 0 if nothing is found, or
 * a negative error (a read error names the device and offset).
 */
int jrx_dev_signature(struct jrx_dev *d, char *what, size_t len);

#endif
