// SPDX-License-Identifier: GPL-2.0
/* A pinned view can come from any BPF program that writes bytes. This task
 * iterator writes a valid bpfiter header for "epoll", then one record whose
 * tail claims to be a 1,000-byte anonymous-inode name (a real one is at
 * most 255 bytes), with all its bytes present, then the end-of-walk trailer:
 * spec/14-hostile_streams_spec.lua pins it with `bpftool iter pin` and
 * expects bpfiter.open to end the walk with EPROTO, never to overflow. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "record_common.h"
#include "epoll_record.h"

char LICENSE[] SEC("license") = "GPL";

#define HOSTILE_TAIL 1000
#define ANON_INODE_FS_MAGIC 0x09041934

#define EPOLL_HEADER(k) {						\
	.kind = (k),							\
	.magic = BPFITER_MAGIC,						\
	.version = BPFITER_FORMAT_VERSION,				\
	.record_size = sizeof(struct epoll_record),			\
	.target = "epoll",						\
}
const volatile struct bpfiter_header hostile_begin = EPOLL_HEADER(BPFITER_KIND_BEGIN);
const volatile struct bpfiter_header hostile_end = EPOLL_HEADER(BPFITER_KIND_END);

/* An item whose target fd was closed, named by its dentry, and the name. */
const volatile struct {
	struct epoll_record rec;
	char tail[BPFITER_TAIL_PADDED(HOSTILE_TAIL)];
} hostile_item = {
	.rec = {
		.kind = BPFITER_KIND_RECORD,
		.tail_len = HOSTILE_TAIL,
		.type = EPOLL_REC_ITEM,
		.same_file = 0,
		.tail_is_name = 1,
		.pid = 1, .tid = 1, .epfd = 3, .tfd = 4,
		.magic = ANON_INODE_FS_MAGIC,
		.file_id = 77, .epoll_id = 78,
	},
	.tail = { [0 ... BPFITER_TAIL_PADDED(HOSTILE_TAIL) - 1] = 'A' },
};

SEC("iter/task")
int dump_hostile(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;

	if (!ctx->task) {
		bpf_seq_write(seq, (void *)&hostile_end, sizeof(hostile_end));
		return 0;
	}
	if (ctx->meta->seq_num == 0) {
		bpf_seq_write(seq, (void *)&hostile_begin, sizeof(hostile_begin));
		bpf_seq_write(seq, (void *)&hostile_item, sizeof(hostile_item));
	}
	return 0;
}
