/*
 * recover.c - what every recovery shares (recover.h): the read-only
 * post-recovery view and the crash-injection hook.
 */
#include "recover.h"
#include "../io/device.h"

int jrx_open_view(struct jrx_array *a, struct jrx_fs *view,
		  struct jrx_report *r)
{
	struct jrx_recover_opts o = { .dry_run = true };
	struct jrx_report local;

	if (a->sb.flags & JRX_SB_CLEAN)
		return jrx_fs_open(view, a, JRX_FS_RDONLY);
	if (!r) {
		jrx_report_init(&local, "reference");
		r = &local;
	}
	return jrx_recover_reference(a, &o, r, view);
}

void jrx_recover_crash_after_writes(uint64_t n)
{
	jrx_dev_crash_after_writes(n);
}
