#ifndef BPFITER_BPF_MAP_RECORD_H
#define BPFITER_BPF_MAP_RECORD_H
#include "record_common.h"

/* One per BPF map; written by bpf_map.bpf.c. No tail. */
struct bpf_map_record {
	BPFITER_RECORD_HEAD;
	__u32 id;
	__u64 map_extra;
	__u32 type;		/* enum bpf_map_type */
	__u32 key_size;		/* bytes */
	__u32 value_size;	/* bytes (per CPU for per-CPU maps) */
	__u32 max_entries;
	__u32 map_flags;	/* BPF_F_* */
	__u32 btf_id;		/* 0: no BTF */
	__u32 btf_key_type_id;
	__u32 btf_value_type_id;
	char name[16];
	__u8 frozen;
	__u8 pad[7];
};

#endif
