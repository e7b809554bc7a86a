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

/* Bytes a tail of len characters occupies in the stream. */
#define BPFITER_TAIL_PADDED(len) (((len) + 7u) & ~7u)

#endif
