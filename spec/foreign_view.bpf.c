// SPDX-License-Identifier: GPL-2.0
/* A stream that starts like a bpfiter view of "tasks" but with records of
 * another size, as another build of bpfiter could write: bpfiter.open must
 * refuse to decode it (spec/21-views_spec.lua pins it with bpftool). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "record_common.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct bpfiter_header foreign_begin = {
	.kind = BPFITER_KIND_BEGIN,
	.magic = BPFITER_MAGIC,
	.version = BPFITER_FORMAT_VERSION,
	.record_size = 1234,
	.target = "tasks",
};

SEC("iter/task")
int dump_task_foreign(struct bpf_iter__task *ctx)
{
	if (ctx->task && ctx->meta->seq_num == 0)
		bpf_seq_write(ctx->meta->seq, (void *)&foreign_begin, sizeof(foreign_begin));
	return 0;
}
