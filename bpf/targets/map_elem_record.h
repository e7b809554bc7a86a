#ifndef BPFITER_MAP_ELEM_RECORD_H
#define BPFITER_MAP_ELEM_RECORD_H
#include "record_common.h"

/* Largest key the kernel allows for the maps it iterates (MAX_BPF_STACK). */
#define MAP_ELEM_KEY_MAX 512
/* Room for a value in the scratch buffer: a power of two, and more than a
 * seq_file can take for one object (~32 KiB), which the reader refuses at
 * open time; the mask only bounds lengths for the verifier. */
#define MAP_ELEM_VALUE_MAX 32768
/* Most key + value bytes one record can carry: a seq_file takes ~32 KiB
 * (8 pages) per object, and the first object also carries the stream
 * header; keep the record and header clear of it. */
#define MAP_ELEM_FIT (32768 - 128)

/* One per element of a map; written by map_elem.bpf.c. Tail: key_size
 * bytes of key, then the value: value_size bytes, or for per-CPU maps
 * `cpus` slots of value_size rounded up to 8 bytes. */
struct map_elem_record {
	BPFITER_RECORD_HEAD;
	__u32 map_id;
	__u32 key_size;
	__u32 value_size;
	__u32 cpus;		/* per-CPU maps: possible CPUs; else 0 */
	__u32 pad;
};

#endif
