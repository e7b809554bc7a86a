// SPDX-License-Identifier: GPL-2.0
/* cgroups for kernels without the css_task kfuncs (before 6.7): the same
 * program without their externs (see cgroup.bpf.c); nr_tasks stays nil. */
#define BPFITER_NO_KFUNC_ITERS
#include "cgroup.bpf.c"
