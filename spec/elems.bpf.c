// SPDX-License-Identifier: GPL-2.0
/* A BPF object for spec/11-bpf_objects_spec.lua, loaded with bpftool: maps
 * whose BTF describes their keys and values (bpftool map create cannot
 * attach BTF), and a program that uses two of them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum elems_color { ELEMS_RED = 1, ELEMS_GREEN = 2, ELEMS_BLUE = 7 };

struct elems_point {
	__s32 x;
	__s32 y;
};

struct elems_key {
	__u32 id;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct elems_value {
	__u64 count;
	__s32 delta;
	char label[12];
	struct elems_point corners[2];
	__u8 bytes[3];
	enum elems_color color;
	unsigned int flag : 1;
	unsigned int level : 4;
	int offset : 5;
	_Bool on;
	void *ptr;
	union {
		__u32 word;
		__u8 octets[4];
	} u;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct elems_key);
	__type(value, struct elems_value);
} elems_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct elems_point);
} elems_pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __s64);
} elems_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} elems_ring SEC(".maps");

/* global data: a .data map, one element, its value described by a DATASEC */
__u32 elems_counter = 42;
char elems_greeting[8] = "hello";

SEC("socket")
int elems_prog(void *ctx)
{
	__u32 zero = 0;
	__s64 *v = bpf_map_lookup_elem(&elems_array, &zero);
	struct elems_point *p = bpf_map_lookup_elem(&elems_pcpu, &zero);

	return (v ? 1 : 0) + (p ? 1 : 0) + elems_counter + elems_greeting[0];
}
