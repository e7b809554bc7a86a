/* Stream framing and ring reassembly (stream.h). Every length, count and
 * kind read from a stream is checked against the target and the bytes
 * present before anything uses it: a stream can come from any file or any
 * BPF program that writes bytes. */
#include "stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "record_common.h"
#include "target.h"

/* Closes the stream and keeps the reason; returns -err. */
__attribute__((format(printf, 3, 4)))
static int fail(struct stream *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	stream_close(s);
	return -err;
}

/* Closes the stream, the reason already in s->why; returns -err. */
static int closed(struct stream *s, int err)
{
	stream_close(s);
	return -err;
}

int stream_init(struct stream *s, const struct target *t, int fd, struct stream_ring *ring)
{
	*s = (struct stream){ .target = t, .fd = fd, .ring = ring };
	s->buf = malloc(STREAM_READ_BUFFER);
	if (!s->buf)
		return -fail(s, ENOMEM, "read buffer");
	return 0;
}

void stream_restart(struct stream *s, int fd, struct stream_ring *ring)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->ring && s->ring->reader == s)
		s->ring->reader = NULL;
	s->fd = fd;
	s->ring = ring;
	s->header_seen = s->trailer_seen = s->whole_read = false;
	s->start = s->end = 0;
	s->rstart = s->rend = 0;
	s->ring_due = 0;
	s->ring_err = 0;
}

void stream_close(struct stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
	s->start = s->end = 0;
	if (s->ring && s->ring->reader == s)
		s->ring->reader = NULL;
	s->ring = NULL;
	free(s->rbuf);
	s->rbuf = NULL;
	s->rstart = s->rend = s->rcap = 0;
	s->ring_due = 0;
}

/* ---- framing ---- */

/* Checks a header or trailer at p against s->target (NULL: any known
 * target, which it then becomes). Returns its kind, or 0 with s->why set. */
static uint32_t check_header(struct stream *s, const void *p)
{
	struct bpfiter_header h;
	char name[sizeof(h.target) + 1];
	const struct target *t;

	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, BPFITER_MAGIC, sizeof(h.magic)) != 0) {
		snprintf(s->why, sizeof(s->why), "not a bpfiter stream (no header)");
		return 0;
	}
	if (h.kind != BPFITER_KIND_BEGIN && h.kind != BPFITER_KIND_END) {
		snprintf(s->why, sizeof(s->why), "not a bpfiter stream (bad header kind)");
		return 0;
	}
	if (h.version != BPFITER_FORMAT_VERSION) {
		snprintf(s->why, sizeof(s->why), "bpfiter stream format %u, this build reads %u",
			 h.version, BPFITER_FORMAT_VERSION);
		return 0;
	}
	memcpy(name, h.target, sizeof(h.target));
	name[sizeof(h.target)] = '\0';
	t = s->target ? s->target : target_named(name);
	if (!t || strcmp(t->name, name) != 0) {
		snprintf(s->why, sizeof(s->why), "stream of unknown target '%.*s'", (int)strnlen(name, 16),
			 name);
		return 0;
	}
	if (h.record_size != t->record_size) {
		snprintf(s->why, sizeof(s->why), "%s records of %u bytes, this build reads %zu", name,
			 h.record_size, t->record_size);
		return 0;
	}
	s->target = t;
	return h.kind;
}

/* Length of the stream item at p from its first bytes (kind, tail_len);
 * 0 when the kind is unknown. At most record_size + 65,535 + 7. */
static size_t item_length(const struct target *t, const void *p)
{
	struct bpfiter_record_head head;

	memcpy(&head, p, sizeof(head));
	switch (head.kind) {
	case BPFITER_KIND_RECORD:
		return t->record_size + BPFITER_TAIL_PADDED((size_t)head.tail_len);
	case BPFITER_KIND_BEGIN:
	case BPFITER_KIND_END:
		return sizeof(struct bpfiter_header);
	case BPFITER_KIND_RING:
		return sizeof(struct bpfiter_ring_marker);
	case BPFITER_KIND_ERROR:
		return sizeof(struct bpfiter_error_marker);
	}
	return 0;
}

/* A record, its tail present: checked against the target's schema. */
static int check_record(struct stream *s, const void *rec)
{
	const char *why = s->target->check ? s->target->check(rec) : NULL;

	if (why)
		return fail(s, EPROTO, "malformed %s record: %s", s->target->name, why);
	return 0;
}

/* ---- the ring ---- */

/* Appends one item the program put in the ring to its reader's rbuf. */
int stream_ring_item(void *ctx, void *data, size_t size)
{
	struct stream_ring *ring = ctx;
	struct stream *s = ring->reader;
	size_t cap;

	struct bpfiter_record_head head;

	if (!s)
		return -EPROTO;
	if (size >= sizeof(head))
		memcpy(&head, data, sizeof(head));
	if (size < sizeof(head) || head.kind != BPFITER_KIND_RECORD ||
	    item_length(s->target, data) != size) {
		s->ring_err = EPROTO;
		return -EPROTO;
	}
	if (s->rend + size > s->rcap) {
		if (s->rstart > 0) {	/* everything before rstart was taken */
			memmove(s->rbuf, s->rbuf + s->rstart, s->rend - s->rstart);
			s->rend -= s->rstart;
			s->rstart = 0;
		}
		for (cap = s->rcap ? s->rcap : 64 * 1024; cap < s->rend + size;)
			cap *= 2;
		if (cap != s->rcap) {
			char *p = realloc(s->rbuf, cap);

			if (!p) {
				s->ring_err = ENOMEM;
				return -ENOMEM;
			}
			s->rbuf = p;
			s->rcap = cap;
		}
	}
	memcpy(s->rbuf + s->rend, data, size);
	s->rend += size;
	return 0;
}

/* Moves what the last read() put in the ring to rbuf. Returns 1 when there
 * was anything, 0 when not, or a negative errno. */
static int drain_ring(struct stream *s)
{
	size_t before = s->rend - s->rstart;
	int n;

	if (!s->ring || !s->ring->rb)
		return 0;
	s->ring->reader = s;
	n = s->ring->consume ? s->ring->consume(s->ring) : ring_buffer__consume(s->ring->rb);
	s->ring->reader = NULL;
	if (n < 0 || s->ring_err) {
		int err = s->ring_err ? s->ring_err : -n;

		return fail(s, err, "reading the ring buffer failed%s",
			    err == EPROTO ? " (an item that is not a record)" : "");
	}
	return s->rend - s->rstart > before;
}

/* Takes the item at the front of rbuf (its length checked when drained). */
static const char *take_ring_item(struct stream *s)
{
	const char *item = s->rbuf + s->rstart;

	s->rstart += item_length(s->target, item);
	if (s->rstart == s->rend)
		s->rstart = s->rend = 0;	/* the next drain starts at the front */
	return item;
}

/* ---- reading ---- */

/* One read() that EINTR does not cut short. */
static ssize_t read_fully(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* target.one_read: the whole walk in the first read(), which a second
 * read() must confirm by finding nothing more (the kernel went on from
 * where the first stopped: the ring filled, or its limit of a million
 * objects per read() cut the walk). Returns 1, STREAM_RING_TOO_SMALL (the
 * walk must start again with a larger ring; nothing was taken from it), or
 * a negative errno. */
static int read_whole_walk(struct stream *s)
{
	char more[sizeof(struct bpfiter_header)];
	ssize_t n, again;
	int err, rc;

	n = read_fully(s->fd, s->buf + s->end, STREAM_READ_BUFFER - s->end);
	err = errno;
	again = n > 0 ? read_fully(s->fd, more, sizeof(more)) : -1;
	rc = drain_ring(s);
	if (rc < 0)
		return rc;
	if (n == 0 || (n > 0 && again == 0)) {
		/* (nothing at all: finish says the walk was cut short) */
		s->end += (size_t)n;
		s->whole_read = true;
		return 1;
	}
	if (n < 0 && err != EAGAIN)
		return fail(s, err, "reading the iterator failed");
	return STREAM_RING_TOO_SMALL;
}

/* read() gives EAGAIN when the program asked to see its object again and
 * nothing else was read. Our programs bound that themselves (and say so in
 * the stream); this bounds any other program a view may hold: no legitimate
 * walk asks this often in a row without producing anything. */
#define MAX_IDLE_READS (1 << 16)

/* Reads more of the stream (and empties the ring). Returns 1 when there is
 * more, 0 at the end of input, STREAM_RING_TOO_SMALL, or a negative errno. */
static int refill(struct stream *s)
{
	unsigned idle = 0;
	int err, ring_more;
	ssize_t n;

	if (s->target->one_read && s->ring)
		return s->whole_read ? 0 : read_whole_walk(s);
	memmove(s->buf, s->buf + s->start, s->end - s->start);
	s->end -= s->start;
	s->start = 0;
	for (;;) {
		n = read(s->fd, s->buf + s->end, STREAM_READ_BUFFER - s->end);
		err = n < 0 ? errno : 0;
		/* A program that filled the ring asks the kernel to show its
		 * object again (EAGAIN when nothing else was read): what it
		 * wrote to the ring comes first. Without a ring, EAGAIN is a
		 * file that would block: a failure, never a wait. */
		ring_more = (n >= 0 || err == EAGAIN) ? drain_ring(s) : 0;
		if (ring_more < 0)
			return ring_more;
		if (n >= 0 || ring_more || !(err == EINTR || (err == EAGAIN && s->ring)) ||
		    (err == EAGAIN && ++idle >= MAX_IDLE_READS))
			break;
	}
	if (n < 0 && !ring_more)
		return fail(s, err, "reading the iterator failed%s",
			    err == EAGAIN ? " (the kernel program kept asking to see the"
					    " same object again without producing anything)" :
			    err == E2BIG ? " (one object produced more than the"
					   " kernel's per-object limit)" :
			    /* a pinned cgroups view: one kernel buffer, no second read */
			    err == EOPNOTSUPP ? " (the walk outgrew the one kernel"
						" buffer a pinned view of this iterator"
						" has: pin a smaller subtree)" : "");
	if (n > 0)
		s->end += (size_t)n;
	return n > 0 || ring_more;
}

/* The next complete item of buf in *item (its length in *len): 1; 0 when
 * more must be read; or a negative errno. */
static int buffered_item(struct stream *s, const char **item, size_t *len)
{
	size_t have = s->end - s->start;
	const char *p = s->buf + s->start;

	if (have < sizeof(struct bpfiter_record_head))
		return 0;
	*len = item_length(s->target, p);
	if (*len == 0)
		return fail(s, EPROTO, "not a bpfiter stream (bad item kind)");
	if (!s->header_seen && *len != sizeof(struct bpfiter_header))
		return fail(s, EPROTO, "not a bpfiter stream (no header)");
	if (*len > STREAM_READ_BUFFER)
		return fail(s, EPROTO, "a %s record of %zu bytes, more than a stream item can be",
			    s->target->name, *len);
	*item = p;
	return have >= *len;
}

/* A header or trailer; the first item of a stream must be one. */
static int take_frame(struct stream *s, const char *p)
{
	uint32_t kind = check_header(s, p);

	if (!kind)
		return closed(s, EPROTO);
	if (kind == BPFITER_KIND_BEGIN && s->header_seen)
		return fail(s, EPROTO, "stream header out of place");
	s->header_seen = true;
	if (kind == BPFITER_KIND_END)
		s->trailer_seen = true;
	return 0;
}

/* The program gave up on an object (bpf/common/record_common.h): nothing
 * after it counts. */
static int gave_up(struct stream *s, const void *item)
{
	struct bpfiter_error_marker m;

	memcpy(&m, item, sizeof(m));
	if (m.reason == BPFITER_GAVE_UP_RESHOWN)
		return fail(s, EAGAIN, "the kernel program gave up on an object it had to show again"
			    " too often (its kernel state kept changing)");
	return fail(s, EPROTO, "the kernel program gave up (reason %u)", m.reason);
}

/* At the end of input nothing may be left over, and the kernel must have
 * said it reached the end (where it can: see target.no_end_call). */
static int finish(struct stream *s)
{
	if (s->end != s->start)
		return fail(s, EPROTO, "walk ended inside a record");
	if (s->ring_due || s->rstart != s->rend)
		return fail(s, EPROTO, "the stream and the ring buffer disagree");
	if (!s->trailer_seen && !s->target->no_end_call)
		return fail(s, EPROTO, "walk was cut short (no end-of-walk trailer)");
	stream_close(s);
	return 0;
}

int stream_next(struct stream *s, const void **rec)
{
	struct bpfiter_ring_marker mark;
	const char *item = NULL;
	size_t len = 0;
	int rc;

	while (s->fd >= 0) {
		if (s->ring_due > 0) {
			if (s->rstart == s->rend)
				return fail(s, EPROTO, "the stream announced records the ring buffer"
					    " does not hold");
			s->ring_due--;
			item = take_ring_item(s);
			goto record;
		}
		rc = buffered_item(s, &item, &len);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			s->start += len;
			switch (((const struct bpfiter_record_head *)item)->kind) {
			case BPFITER_KIND_RECORD:
				goto record;
			case BPFITER_KIND_ERROR:
				return gave_up(s, item);
			case BPFITER_KIND_RING:
				if (!s->ring)
					return fail(s, EPROTO, "ring buffer marker in a stream without one");
				memcpy(&mark, item, sizeof(mark));
				s->ring_due = mark.count;
				continue;
			default:
				rc = take_frame(s, item);
				if (rc < 0)
					return rc;
				continue;
			}
		}
		/* What a read() left in the ring after its last marker belongs to
		 * the object the kernel shows again first in the next read(). */
		if (s->start == s->end && s->rstart < s->rend) {
			item = take_ring_item(s);
			goto record;
		}
		rc = refill(s);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return finish(s);
	}
	return 0;

record:
	rc = check_record(s, item);
	if (rc < 0)
		return rc;
	*rec = item;
	return 1;
}

/* ---- views and saved streams ---- */

int stream_open_view(struct stream *s, int fd)
{
	uint32_t kind;
	int rc = stream_init(s, NULL, fd, NULL);

	if (rc)
		return rc;
	/* One large first read (the cgroup iterator needs it), then more
	 * until the header is in. */
	while (s->end < sizeof(struct bpfiter_header)) {
		ssize_t n = read(fd, s->buf + s->end, STREAM_READ_BUFFER - s->end);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -fail(s, errno, "reading the view failed");
		if (n == 0)
			return -fail(s, EPROTO, "not a bpfiter view (too short)");
		s->end += (size_t)n;
	}
	kind = check_header(s, s->buf);
	if (!kind)
		return -closed(s, EPROTO);
	s->header_seen = true;
	s->trailer_seen = kind == BPFITER_KIND_END;
	s->start = sizeof(struct bpfiter_header);
	return 0;
}
