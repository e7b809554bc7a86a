#ifndef BPFITER_BPF_PROG_RECORD_H
#define BPFITER_BPF_PROG_RECORD_H
#include "record_common.h"

/* Most used maps a program can have (the kernel's MAX_USED_MAPS). */
#define BPF_PROG_MAX_MAP_IDS 64

/* One per loaded BPF program; written by bpf_prog.bpf.c. Tail: the ids of
 * the maps the program uses, one __u32 each (tail_len = 4 * count). */
struct bpf_prog_record {
	BPFITER_RECORD_HEAD;
	__u32 id;
	__u64 load_time_ns;	/* since boot, CLOCK_BOOTTIME */
	__u32 type;		/* enum bpf_prog_type */
	__u32 xlated_bytes;	/* translated instructions, as bpftool's bytes_xlated */
	__u32 jited_bytes;	/* JIT image, all subprograms (bytes_jited) */
	__u32 memlock_bytes;	/* pages charged, as bytes_memlock */
	__u32 uid;		/* who loaded it */
	__u32 btf_id;		/* 0: none */
	__u32 verified_insns;
	__u8 tag[8];		/* first 8 bytes of the instructions' digest */
	char name[16];
	__u8 gpl_compatible;
	__u8 jited;
	__u8 sleepable;
	__u8 pad;
};

#endif
