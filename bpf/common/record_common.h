/* Types shared by the BPF programs and the C decoders. A record is a fixed
 * struct, optionally followed by a string "tail" whose length sits in the
 * struct (tail_len); the string is not NUL-terminated in the stream, and is
 * padded to a multiple of 8 bytes so every record in the stream starts
 * 8-byte aligned and can be read in place. */
#ifndef BPFITER_RECORD_COMMON_H
#define BPFITER_RECORD_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Longest tail string a program writes; a power of two so the verifier can
 * bound lengths with a mask. Equals PATH_MAX. */
#define BPFITER_TAIL_MAX 4096

/* A stream is a sequence of items, each starting with a __u16 kind:
 *  - BPFITER_KIND_BEGIN: the stream header, before the first object;
 *  - BPFITER_KIND_RECORD: a record (struct + padded tail);
 *  - BPFITER_KIND_END: the kernel reached the end of its walk. A walk that
 *    finds new objects after that (tasks forked meanwhile) goes on, so END
 *    may be followed by more records; an empty walk is END alone;
 *  - BPFITER_KIND_RING: a marker saying that the next `count` items of the
 *    stream are in the target's ring buffer (struct target.ring), for
 *    objects whose records exceed the kernel's ~32 KiB per-object limit;
 *  - BPFITER_KIND_ERROR: the program gave up (struct bpfiter_error_marker
 *    says why); the reader raises there, nothing after it counts.
 * The header and trailer carry a magic, the format version, the target
 * name and record size, so a reader can tell a bpfiter stream of a known
 * format from anything else. */
#define BPFITER_KIND_RECORD 1
#define BPFITER_KIND_BEGIN 2
#define BPFITER_KIND_END 3
#define BPFITER_KIND_RING 4
#define BPFITER_KIND_ERROR 5
#define BPFITER_MAGIC "BPFITER"		/* 8 bytes with the NUL */
#define BPFITER_FORMAT_VERSION 1

struct bpfiter_header {
	__u16 kind;		/* BPFITER_KIND_BEGIN or _END */
	__u16 pad;
	__u32 version;
	char magic[8];
	__u32 record_size;
	__u32 pad2;
	char target[16];	/* e.g. "tasks" */
};

struct bpfiter_ring_marker {
	__u16 kind;		/* BPFITER_KIND_RING */
	__u16 pad;
	__u32 count;		/* items to take from the ring here */
};

struct bpfiter_error_marker {
	__u16 kind;		/* BPFITER_KIND_ERROR */
	__u16 reason;		/* BPFITER_GAVE_UP_* */
	__u32 pad;
};

/* One object was shown again (the program returned 1) more often than its
 * bound allows: its kernel state kept changing, or the walk made no
 * progress. Every path that asks for an object again counts its shows. */
#define BPFITER_GAVE_UP_RESHOWN 1

/* The BPF_MAP_TYPE_RINGBUF map of a target with struct target.ring set. */
#define BPFITER_RING_MAP "bpfiter_ring"

/* First members of every record struct. tail_len is the length of the
 * string that follows the struct (0: none). */
#define BPFITER_RECORD_HEAD						\
	__u16 kind;							\
	__u16 tail_len

struct bpfiter_record_head {
	BPFITER_RECORD_HEAD;
};

/* Bytes a tail of len characters occupies in the stream. */
#define BPFITER_TAIL_PADDED(len) (((len) + 7u) & ~7u)

#endif
