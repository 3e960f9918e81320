/*
 * synth_opts.c - jrx synth's options: the defaults, the --btrees mix and
 * the distribution names (synth.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "synth.h"
#include "jrx/errors.h"
#include "../format/bkey.h"
#include "../util/diag.h"

void jrx_synth_opts_default(struct jrx_synth_opts *o)
{
	memset(o, 0, sizeof(*o));
	jrx_synth_parse_mix(JRX_SYNTH_DEFAULT_MIX, o->mix);
	o->overwrite_ratio = 0.3;
	o->dist = JRX_SYNTH_UNIFORM;
	o->seed = 1;
	o->jset_size = JRX_SYNTH_DEFAULT_JSET;
	o->fill_pct = JRX_SYNTH_DEFAULT_FILL;
}

int jrx_synth_parse_mix(const char *str, uint32_t mix[JRX_SYNTH_NR_BTREES])
{
	const char *p = str;

	memset(mix, 0, JRX_SYNTH_NR_BTREES * sizeof(*mix));
	while (p && *p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		char name[32], *e;
		unsigned long v;
		int id;

		if (!end)
			end = p + strlen(p);
		if (!eq || eq > end || (size_t)(eq - p) >= sizeof(name))
			return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees '%s': expected"
					" name=weight,...", str);
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = 0;
		id = jrx_btree_id_parse(name);
		if (id < 0 || id >= JRX_SYNTH_NR_BTREES)
			return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees: unknown btree"
					" '%s' (extents, inodes, dirents, xattrs)",
					name);
		errno = 0;
		v = strtoul(eq + 1, &e, 10);
		if (errno || e != end || e == eq + 1 || v > 1000000)
			return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees: bad weight"
					" for %s (0 to 1000000)", name);
		mix[id] = (uint32_t)v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static const char *const dist_names[] = {
	[JRX_SYNTH_UNIFORM] = "uniform", [JRX_SYNTH_ZIPF] = "zipf",
	[JRX_SYNTH_SEQUENTIAL] = "sequential", [JRX_SYNTH_HOT] = "hot",
};
#define NR_DISTS (sizeof(dist_names) / sizeof(dist_names[0]))

int jrx_synth_parse_dist(const char *s)
{
	for (unsigned i = 0; i < NR_DISTS; i++)
		if (!strcmp(s, dist_names[i]))
			return (int)i;
	return -1;
}

const char *jrx_synth_dist_name(unsigned dist)
{
	return dist < NR_DISTS ? dist_names[dist] : "unknown";
}
