/*
 * mkfs.h - `jrx format`: lay out a new array over N devices (regular files
 * are created sparse when a size is given), with empty btrees (plus the
 * root directory inode), alloc info for every used bucket and a clean
 * superblock on every device.
 */
#ifndef JRX_MKFS_H
#define JRX_MKFS_H

#include <stdint.h>
#include "jrx/jrx.h"
#include "../format/format.h"	/* JRX_ROOT_INO */

#endif
