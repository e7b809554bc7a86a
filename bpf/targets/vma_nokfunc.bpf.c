// SPDX-License-Identifier: GPL-2.0
/* vmas for kernels without the vma iterator kfuncs (before 6.7): the same
 * program without their externs (see cgroup.bpf.c); no gap fill. */
#define BPFITER_NO_KFUNC_ITERS
#include "vma.bpf.c"
