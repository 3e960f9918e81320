/*
 * replay_sess.h - a windowed replay's session (replay.h: begin, window,
 * stream_leaf, end), shared by the windows (replay_par.c) and the
 * streamed leaf (replay_stream.c).  Owner: the thread that owns the fs;
 * the workers of a window see only its struct par.
 */
#ifndef JRX_REPLAY_SESS_H
#define JRX_REPLAY_SESS_H

#include "replay.h"

struct par;

struct jrx_replay_session {
	struct jrx_fs		*fs;
	struct jrx_replay_opts	 o;		/* o.images: 1 to
						   JRX_REPLAY_IMAGES_MAX */
	struct jrx_placement	 pl;
	struct par		*c;		/* the workers' shared state */
	unsigned		 nw;
	struct jrx_replay_stats	*st;		/* the caller's, summed */
};

#endif
