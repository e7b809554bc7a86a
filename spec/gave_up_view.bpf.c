// SPDX-License-Identifier: GPL-2.0
/* A tasks view whose program gives up on its first task the way bpfiter's
 * own programs do when an object was shown again too often (a
 * BPFITER_KIND_ERROR marker): the reader must raise with the reason
 * (spec/15-privileges_spec.lua). */
#include "tasks_view.bpf.h"

SEC("iter/task")
int dump_task_gave_up(struct bpf_iter__task *ctx)
{
	struct bpfiter_error_marker m = {
		.kind = BPFITER_KIND_ERROR,
		.reason = BPFITER_GAVE_UP_RESHOWN,
	};

	if (ctx->task && ctx->meta->seq_num == 0) {
		bpf_seq_write(ctx->meta->seq, (void *)&begin, sizeof(begin));
		bpf_seq_write(ctx->meta->seq, &m, sizeof(m));
	}
	return 0;
}
