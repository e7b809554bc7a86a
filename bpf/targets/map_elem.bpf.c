// SPDX-License-Identifier: GPL-2.0
/* map_elems: one record per element of one map, from the bpf_map_elem
 * iterator (the map is given in the link info). */
#include "iter_common.bpf.h"
#include "map_elem_record.h"

BPFITER_TARGET("map_elems", map_elem_record);

/* Possible CPUs: a per-CPU value holds one slot per possible CPU. Set by
 * the reader before loading (csrc/targets/map_elems.c). */
const volatile __u32 nr_cpus = 1;

/* A value may take up to ~32 KiB, more than a per-CPU array value can hold
 * (PCPU_MIN_UNIT_SIZE), so the scratch slots are a plain array with one
 * entry per CPU (max_entries is set to nr_cpus before loading). Iterator
 * programs run with migration disabled, so the slot stays ours. */
struct elem_slot {
	struct map_elem_record rec;
	char tail[2 * MAP_ELEM_KEY_MAX + MAP_ELEM_VALUE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem_slot);
} slots SEC(".maps");

SEC("iter/bpf_map_elem")
int dump_map_elem(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	void *key = ctx->key, *value = ctx->value;
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 key_len, value_len, padded;
	struct elem_slot *s;
	struct map_elem_record *r;

	BPFITER_FRAME(ctx->meta, key);
	if (!key || !value || !map)
		return 0;
	s = bpf_map_lookup_elem(&slots, &cpu);
	if (!s)
		return 0;
	r = &s->rec;
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = BPFITER_KIND_RECORD;
	r->map_id = map->id;
	r->key_size = map->key_size;
	r->value_size = map->value_size;
	if (map->map_type == BPF_MAP_TYPE_PERCPU_HASH ||
	    map->map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	    map->map_type == BPF_MAP_TYPE_PERCPU_ARRAY)
		r->cpus = nr_cpus;

	key_len = r->key_size;
	value_len = r->cpus ? ((r->value_size + 7) & ~7u) * r->cpus : r->value_size;
	/* The reader refuses maps whose elements cannot fit in one seq_file
	 * object (MAP_ELEM_FIT); this only keeps the verifier's bounds. */
	if (key_len > MAP_ELEM_KEY_MAX || value_len > MAP_ELEM_FIT ||
	    key_len + value_len > MAP_ELEM_FIT)
		return 0;
	/* masks the verifier can see (the checks above already hold) */
	key_len &= 2 * MAP_ELEM_KEY_MAX - 1;
	value_len &= MAP_ELEM_VALUE_MAX - 1;
	barrier_var(key_len);
	barrier_var(value_len);
	if (bpf_probe_read_kernel(s->tail, key_len, key))
		return 0;
	if (bpf_probe_read_kernel(s->tail + key_len, value_len, value))
		return 0;
	padded = BPFITER_TAIL_PADDED(key_len + value_len);
	r->tail_len = key_len + value_len;
	bpf_seq_write(seq, r, sizeof(*r) + (padded & (MAP_ELEM_VALUE_MAX - 1)));
	return 0;
}
