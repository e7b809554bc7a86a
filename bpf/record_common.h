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

/* Every stream (a live walk or a pinned view) starts with a header and ends
 * with a trailer of this shape, so a reader can tell a bpfiter stream of a
 * known format from anything else, and a complete walk from a cut one. An
 * empty walk is the trailer alone. Records must be longer than this struct
 * (the reader tells a final trailer from a record by its size). */
#define BPFITER_MAGIC "BPFITER"		/* 8 bytes with the NUL */
#define BPFITER_FORMAT_VERSION 1
#define BPFITER_STREAM_BEGIN 1
#define BPFITER_STREAM_END 2

struct bpfiter_header {
	char magic[8];
	__u32 version;
	__u32 kind;		/* BPFITER_STREAM_BEGIN or _END */
	__u32 record_size;
	__u32 pad;
	char target[16];	/* e.g. "tasks" */
};

/* Bytes a tail of len characters occupies in the stream. */
#define BPFITER_TAIL_PADDED(len) (((len) + 7u) & ~7u)

#endif
