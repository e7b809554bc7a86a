#ifndef BPFITER_EPOLL_RECORD_H
#define BPFITER_EPOLL_RECORD_H
#include "record_common.h"

/* Two kinds of records, in one stream, from a task_file walk:
 *  - EPOLL_REC_ITEM: one registered item of an epoll set (the epoll fd is
 *    `epfd`), written to the ring buffer; a tail (the target's dentry
 *    name) only when tfd no longer refers to the target file.
 *  - EPOLL_REC_FILE: an fd whose file some epoll watches (file->f_ep set):
 *    `tfd` is that fd, the tail its path as readlink shows it, except on
 *    pipefs, sockfs and the anonymous inode fs, whose paths the kernel
 *    prints from the inode number or the dentry name (tail_is_name: the
 *    tail is the name): the reader prints them the same way.
 * Records of one fd table (one task visit, `tid`) are contiguous; the
 * reader takes an item's path from the FILE record with its file_id. */
#define EPOLL_REC_ITEM 1
#define EPOLL_REC_FILE 2

struct epoll_record {
	BPFITER_RECORD_HEAD;
	__u8 type;		/* EPOLL_REC_ITEM or EPOLL_REC_FILE */
	__u8 same_file;		/* tfd still refers to the registered file */
	__u8 tail_is_name;	/* the tail is a dentry name, not a path */
	__u8 pad;
	__u32 pid;		/* tgid */
	__u32 tid;		/* the task whose fd table this is */
	__s32 epfd;		/* ITEM: the epoll fd */
	__s32 tfd;		/* ITEM: target fd as registered; FILE: the fd */
	__u32 events;		/* ITEM: epoll_event.events */
	__u32 dev;		/* target's filesystem, kernel encoding: major << 20 | minor */
	__u32 mode;		/* target's i_mode */
	__u32 magic;		/* target's filesystem magic (s_magic) */
	__u64 data;		/* ITEM: epoll_event.data */
	__u64 ino;
	__u64 file_id;		/* the (target) file, as an opaque id */
	__u64 epoll_id;		/* ITEM: the set (struct eventpoll), as an opaque id */
	__u64 target_epoll_id;	/* ITEM: the target's set when it is an epoll, else 0 */
};

#endif
