/* A bpfiter stream (bpf/common/record_common.h) turned into checked
 * records: the bytes read() gives from an iterator fd, a pinned view or a
 * saved file, and for ring targets the items the program put in its BPF
 * ring buffer, reassembled where the stream's markers say. All framing
 * lives here: headers, trailers, markers, item lengths, and each record
 * checked against its target's schema before anyone reads it.
 *
 * Knows nothing of Lua: failures come back as an errno and a reason in
 * stream.why; the iterator (iterator.c) raises them. */
#ifndef BPFITER_STREAM_H
#define BPFITER_STREAM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct target;
struct ring_buffer;
struct stream;

/* Bytes one read() asks for. A view's first read must be this large too:
 * the cgroup iterator cannot continue a walk in a second read. It also
 * bounds one item: a longer record is refused. */
#define STREAM_READ_BUFFER (64 * 1024)

/* The consumer of one program's ring, shared by its walks in a Lua state:
 * each read() is emptied into the stream that made it (reader). consume:
 * NULL, or what empties the ring instead of ring_buffer__consume(rb),
 * calling stream_ring_item per item (the fuzzer's ring). */
struct stream_ring {
	struct ring_buffer *rb;
	struct stream *reader;
	int (*consume)(struct stream_ring *ring);
};

/* ring_buffer__new's callback; ctx is the struct stream_ring. */
int stream_ring_item(void *ctx, void *data, size_t size);

struct stream {
	const struct target *target;
	int fd;			/* -1 once closed */
	bool header_seen;
	bool trailer_seen;	/* the kernel said it reached the end of its walk */
	bool whole_read;	/* target.one_read: the walk was read, complete */
	char *buf;
	size_t start, end;	/* unread bytes are buf[start, end) */
	/* Ring targets: what each read() put in the ring, in the order the
	 * program wrote it, until the stream says where it belongs. */
	struct stream_ring *ring;	/* NULL: none (a view, a file) */
	char *rbuf;
	size_t rstart, rend, rcap;	/* unread items are rbuf[rstart, rend) */
	uint32_t ring_due;	/* items the last marker announced, still to take */
	int ring_err;
	char why[200];		/* the reason of the last failure */
};

/* A stream over fd (owned from here on: closed by stream_close, also on
 * failure) of target t, with ring or NULL. Returns 0 or ENOMEM. */
int stream_init(struct stream *s, const struct target *t, int fd, struct stream_ring *ring);

/* A stream over the view or file fd (owned, as above): reads its first
 * bytes and takes the target from its header (any known target). Returns
 * 0, or an errno with the reason in s->why (EPROTO: not a bpfiter stream
 * this build reads); the stream is closed then. */
int stream_open_view(struct stream *s, int fd);

/* The next record of the walk in *rec, valid until the next call:
 * returns 1; 0 at the end of a complete walk; or a negative errno with
 * the reason in s->why (-EPROTO: the stream is malformed). The stream is
 * closed at the end and on failure. */
int stream_next(struct stream *s, const void **rec);

/* stream_next's answer for a target.one_read walk that did not fit in one
 * read(): nothing of it was taken; the caller loads the program with a
 * larger ring, makes a new iterator fd and gives it to stream_restart. */
#define STREAM_RING_TOO_SMALL (-ENOBUFS)

/* The stream starts over on fd (owned; the old one is closed) and ring,
 * keeping its buffers. */
void stream_restart(struct stream *s, int fd, struct stream_ring *ring);

/* Closes the fd and frees the buffers; safe twice. */
void stream_close(struct stream *s);

#endif
