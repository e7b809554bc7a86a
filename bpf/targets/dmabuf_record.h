#ifndef BPFITER_DMABUF_RECORD_H
#define BPFITER_DMABUF_RECORD_H
#include "record_common.h"

/* One per DMA buffer; written by dmabuf.bpf.c. No tail. */
struct dmabuf_record {
	BPFITER_RECORD_HEAD;
	__u32 pad;
	__u64 size;		/* bytes */
	__u64 inode;		/* inode of the buffer's file */
	char exporter[32];	/* exp_name */
	char name[32];		/* set by DMA_BUF_SET_NAME; "" when unnamed */
};

#endif
