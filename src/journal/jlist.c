/* jlist.c - the list a journal reader hands on (see jlist.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jlist.h"
#include "../io/engine.h"
#include "../util/diag.h"
#include "../util/vec.h"

const char *jrx_scan_mode_name(enum jrx_scan_mode m)
{
	switch (m) {
	case JRX_SCAN_SEQUENTIAL: return "sequential";
	case JRX_SCAN_FULL:	  return "full_scan";
	case JRX_SCAN_BISECT:	  return "bisect";
	}
	return "?";
}

const char *jrx_journal_scan_dev(const struct jrx_journal_scan *s,
				 uint32_t dev)
{
	return dev < s->nr_devs && s->dev_name[dev] ? s->dev_name[dev] : "?";
}

int jrx_journal_scan_keep(struct jrx_journal_scan *s, void *p, size_t len)
{
	int ret = JRX_VEC_RESERVE(s->arenas, s->nr_arenas, s->cap_arenas, 1,
				  "journal read arenas");

	if (ret) {
		jrx_io_arena_free(p, len);
		return ret;
	}
	s->arenas[s->nr_arenas].p = p;
	s->arenas[s->nr_arenas].len = len;
	s->nr_arenas++;
	return 0;
}

void jrx_journal_scan_drop_arenas(struct jrx_journal_scan *s)
{
	for (size_t i = 0; i < s->nr_arenas; i++)
		jrx_io_arena_free(s->arenas[i].p, s->arenas[i].len);
	s->nr_arenas = 0;
}

void jrx_journal_scan_free(struct jrx_journal_scan *s)
{
	jrx_journal_scan_drop_arenas(s);
	for (size_t i = 0; i < s->nr_copies; i++)
		free(s->copies[i]);
	free(s->copies);
	free(s->arenas);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
