// SPDX-License-Identifier: GPL-2.0
/* bpf_maps: one record per BPF map, from the bpf_map iterator. */
#include "iter_common.bpf.h"
#include "bpf_map_record.h"

BPFITER_SCRATCH(bpf_map_record)
BPFITER_TARGET("bpf_maps", bpf_map_record);

SEC("iter/bpf_map")
int dump_bpf_map(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	struct scratch_slot *s;
	struct bpf_map_record *r;

	BPFITER_FRAME(ctx->meta, map);
	if (!map)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	r->id = map->id;
	r->type = map->map_type;
	r->key_size = map->key_size;
	r->value_size = map->value_size;
	r->max_entries = map->max_entries;
	r->map_flags = map->map_flags;
	r->map_extra = map->map_extra;
	r->btf_id = map->btf ? map->btf->id : 0;
	r->btf_key_type_id = map->btf_key_type_id;
	r->btf_value_type_id = map->btf_value_type_id;
	__builtin_memcpy(r->name, map->name, sizeof(r->name));
	r->frozen = map->frozen;
	BPFITER_EMIT(seq, s);
	return 0;
}
