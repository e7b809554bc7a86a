// SPDX-License-Identifier: GPL-2.0
/* bpf_links: one record per BPF link, from the bpf_link iterator. */
#include "iter_common.bpf.h"
#include "bpf_link_record.h"

BPFITER_SCRATCH(bpf_link_record)
BPFITER_TARGET("bpf_links", bpf_link_record);

/* The link is the first member of each type's own struct; those fields
 * are beyond what the verifier knows of struct bpf_link, so they are read
 * with probe reads. */
/* bpf_link.attach_type (6.17); older kernels keep it per link type. */
struct bpf_link___attach_type {
	enum bpf_attach_type attach_type;
} __attribute__((preserve_access_index));

static __always_inline void attach_info(struct bpf_link *link, struct scratch_slot *s)
{
	struct bpf_link_record *r = &s->rec;
	const char *name = NULL;
	long n;

	if (r->type == BPF_LINK_TYPE_ITER) {
		struct bpf_iter_link *il = (void *)link;

		name = BPF_CORE_READ(il, tinfo, reg_info, target);
		r->map_id = BPF_CORE_READ(il, aux.map, id);
	} else if (r->type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
		struct bpf_raw_tp_link *rl = (void *)link;

		name = BPF_CORE_READ(rl, btp, tp, name);
	} else if (r->type == BPF_LINK_TYPE_CGROUP) {
		struct bpf_cgroup_link *cl = (void *)link;

		r->cgroup_id = BPF_CORE_READ(cl, cgroup, kn, id);
	}
	if (name) {
		n = bpf_probe_read_kernel_str(s->tail, 256, name);
		r->tail_len = n > 1 ? n - 1 : 0;
	}
}

SEC("iter/bpf_link")
int dump_bpf_link(struct bpf_iter__bpf_link *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_link *link = ctx->link;
	struct scratch_slot *s;
	struct bpf_link_record *r;

	BPFITER_FRAME(ctx->meta, link);
	if (!link)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	r->id = link->id;
	r->type = link->type;
	r->attach_type = ~0u;
	if (bpf_core_field_exists(((struct bpf_link___attach_type *)link)->attach_type))
		r->attach_type = BPF_CORE_READ((struct bpf_link___attach_type *)link, attach_type);
	if (link->prog)
		r->prog_id = link->prog->aux->id;
	attach_info(link, s);
	BPFITER_EMIT(seq, s);
	return 0;
}
