// SPDX-License-Identifier: GPL-2.0
/* tasks for kernels without bpf_rcu_read_lock() (before 6.2): the task
 * program, not sleepable, so without cmdline (see task.bpf.c). */
#define TASK_NO_SLEEP
#include "task.bpf.c"
