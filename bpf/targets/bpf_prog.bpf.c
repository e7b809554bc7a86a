// SPDX-License-Identifier: GPL-2.0
/* bpf_progs: one record per loaded BPF program, from the bpf_prog iterator. */
#include "iter_common.bpf.h"
#include "bpf_prog_record.h"

BPFITER_SCRATCH(bpf_prog_record)
BPFITER_TARGET("bpf_progs", bpf_prog_record);

/* The kernel's BPF_MAX_SUBPROGS. */
#define MAX_SUBPROGS 256

struct jited_sum {
	struct bpf_prog **funcs;
	__u32 n;
	__u32 total;
};

static long add_jited(__u64 i, void *data)
{
	struct jited_sum *j = data;
	struct bpf_prog *f = NULL;

	if (i >= j->n)
		return 1;
	bpf_probe_read_kernel(&f, sizeof(f), &j->funcs[i]);
	if (f)
		j->total += BPF_CORE_READ(f, jited_len);
	return 0;
}

/* What bpf_prog_get_info_by_fd() reports as jited_prog_len: the sum over
 * the subprograms when there are several. */
static __always_inline __u32 jited_bytes(struct bpf_prog *prog, struct bpf_prog_aux *aux)
{
	struct jited_sum j = { .funcs = aux->func, .n = aux->func_cnt };

	if (!j.n || !j.funcs)
		return prog->jited_len;
	bpf_loop(MAX_SUBPROGS, add_jited, &j, 0);
	return j.total;
}

struct map_id_list {
	struct bpf_map **maps;
	__u32 *ids;
	__u32 n;
	__u32 count;
};

static long add_map_id(__u64 i, void *data)
{
	struct map_id_list *l = data;
	struct bpf_map *m = NULL;

	if (i >= l->n)
		return 1;
	bpf_probe_read_kernel(&m, sizeof(m), &l->maps[i]);
	if (m)
		l->ids[l->count++ & (BPF_PROG_MAX_MAP_IDS - 1)] = BPF_CORE_READ(m, id);
	return 0;
}

/* sleepable moved from bpf_prog_aux into bpf_prog (6.10). */
struct bpf_prog___sleepable {
	__u8 sleepable:1;
} __attribute__((preserve_access_index));
struct bpf_prog_aux___sleepable {
	bool sleepable;
} __attribute__((preserve_access_index));

/* used_maps may grow (BPF_PROG_BIND_MAP) while we read it; a racing
 * reader sees the old or the new array, either is a true answer. */
static __always_inline __u16 map_ids(struct bpf_prog_aux *aux, struct scratch_slot *s)
{
	struct map_id_list l = {
		.maps = aux->used_maps, .ids = (__u32 *)s->tail, .n = aux->used_map_cnt,
	};

	if (!l.maps)
		return 0;
	bpf_loop(BPF_PROG_MAX_MAP_IDS, add_map_id, &l, 0);
	return (l.count & (2 * BPF_PROG_MAX_MAP_IDS - 1)) * sizeof(__u32);
}

SEC("iter/bpf_prog")
int dump_bpf_prog(struct bpf_iter__bpf_prog *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_prog *prog = ctx->prog;
	struct scratch_slot *s;
	struct bpf_prog_record *r;
	struct bpf_prog_aux *aux;

	BPFITER_FRAME(ctx->meta, prog);
	if (!prog)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	aux = prog->aux;

	r->id = aux->id;
	r->type = prog->type;
	r->xlated_bytes = prog->len * sizeof(struct bpf_insn);
	r->jited_bytes = jited_bytes(prog, aux);
	r->memlock_bytes = (__u32)prog->pages << PAGE_SHIFT;
	r->uid = aux->user ? aux->user->uid.val : 0;
	r->btf_id = aux->btf ? aux->btf->id : 0;
	r->verified_insns = aux->verified_insns;
	r->load_time_ns = aux->load_time;
	__builtin_memcpy(r->tag, prog->tag, sizeof(r->tag));
	__builtin_memcpy(r->name, aux->name, sizeof(r->name));
	r->gpl_compatible = BPF_CORE_READ_BITFIELD(prog, gpl_compatible);
	r->jited = BPF_CORE_READ_BITFIELD(prog, jited);
	if (bpf_core_field_exists(((struct bpf_prog___sleepable *)prog)->sleepable))
		r->sleepable = BPF_CORE_READ_BITFIELD((struct bpf_prog___sleepable *)prog, sleepable);
	else
		r->sleepable = BPF_CORE_READ((struct bpf_prog_aux___sleepable *)aux, sleepable);
	r->tail_len = map_ids(aux, s);
	BPFITER_EMIT(seq, s);
	return 0;
}
