// SPDX-License-Identifier: GPL-2.0
/* dmabufs: one record per DMA buffer, from the dmabuf iterator. */
#include "iter_common.bpf.h"
#include "dmabuf_record.h"

BPFITER_SCRATCH(dmabuf_record)

/* struct bpf_iter__dmabuf as of 6.16, spelled out: older kernels' BTF (and
 * so a vmlinux.h made from it) has no such type; CO-RE finds the kernel's. */
struct bpf_iter__dmabuf___local {
	struct bpf_iter_meta *meta;
	struct dma_buf *dmabuf;
} __attribute__((preserve_access_index));
BPFITER_TARGET("dmabufs", dmabuf_record);

SEC("iter/dmabuf")
int dump_dmabuf(struct bpf_iter__dmabuf___local *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct dma_buf *buf = ctx->dmabuf;
	struct scratch_slot *s;
	struct dmabuf_record *r;
	const char *name;

	/* The kernel never calls us with a NULL buffer at the end (nor at all
	 * when there is none): the reader takes the end of input as the end
	 * (csrc/targets/dmabufs.c, no_end_call). */
	BPFITER_FRAME(ctx->meta, buf);
	if (!buf)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	r->size = buf->size;
	r->inode = BPF_CORE_READ(buf, file, f_inode, i_ino);
	bpf_probe_read_kernel_str(r->exporter, sizeof(r->exporter), buf->exp_name);
	/* The name can be changed by its owner (DMA_BUF_SET_NAME) under
	 * name_lock, which we cannot take; a racing rename gives the old or
	 * the new name, cut at the first NUL either way. */
	name = buf->name;
	if (name)
		bpf_probe_read_kernel_str(r->name, sizeof(r->name), name);
	BPFITER_EMIT(seq, s);
	return 0;
}
