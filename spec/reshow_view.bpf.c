// SPDX-License-Identifier: GPL-2.0
/* A tasks view whose program asks to see its second task again forever
 * (returns 1), as a hostile or broken pin could: reading it must end with
 * an error within seconds, never spin (spec/15-privileges_spec.lua). */
#include "tasks_view.bpf.h"

SEC("iter/task")
int dump_task_reshown(struct bpf_iter__task *ctx)
{
	if (!ctx->task)
		return 0;
	if (ctx->meta->seq_num == 0) {
		bpf_seq_write(ctx->meta->seq, (void *)&begin, sizeof(begin));
		return 0;
	}
	return 1;
}
