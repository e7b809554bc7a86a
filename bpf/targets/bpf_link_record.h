#ifndef BPFITER_BPF_LINK_RECORD_H
#define BPFITER_BPF_LINK_RECORD_H
#include "record_common.h"

/* One per BPF link; written by bpf_link.bpf.c. Tail: the iterator target
 * of an iter link, or the tracepoint of a raw_tracepoint link. */
struct bpf_link_record {
	BPFITER_RECORD_HEAD;
	__u32 id;
	__u64 cgroup_id;	/* cgroup links: the cgroup's id; else 0 */
	__u32 type;		/* enum bpf_link_type */
	__u32 attach_type;	/* enum bpf_attach_type; ~0: unknown */
	__u32 prog_id;		/* 0: no program */
	__u32 map_id;		/* iter links over a map; else 0 */
};

#endif
