// SPDX-License-Identifier: GPL-2.0
/* A task iterator that prints text, as tools other than bpfiter pin them
 * (spec/21-views_spec.lua pins it with `bpftool iter pin`): not a view
 * bpfiter.open may accept. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task")
int dump_task_text(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d %s\n", task->pid, task->comm);
	return 0;
}
