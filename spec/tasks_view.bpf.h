/* The start of a crafted "tasks" view (spec/reshow_view.bpf.c,
 * spec/gave_up_view.bpf.c): a header this build of bpfiter accepts. */
#ifndef SPEC_TASKS_VIEW_BPF_H
#define SPEC_TASKS_VIEW_BPF_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "record_common.h"
#include "task_record.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct bpfiter_header begin = {
	.kind = BPFITER_KIND_BEGIN,
	.magic = BPFITER_MAGIC,
	.version = BPFITER_FORMAT_VERSION,
	.record_size = sizeof(struct task_record),
	.target = "tasks",
};
#endif
