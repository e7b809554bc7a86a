#ifndef BPFITER_KSYM_RECORD_H
#define BPFITER_KSYM_RECORD_H
#include "record_common.h"

/* One per kernel symbol, the lines of /proc/kallsyms; written by
 * ksym.bpf.c. Tail: the symbol's name. */
struct ksym_record {
	BPFITER_RECORD_HEAD;
	char type;		/* the letter /proc/kallsyms shows */
	__u8 pad[3];
	__u64 address;		/* 0 where /proc/kallsyms would show zeros */
	char module[56];	/* "" for vmlinux; "bpf", "__builtin__ftrace", ... */
};

#endif
