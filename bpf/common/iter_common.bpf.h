/* Helpers every iterator program shares: a per-CPU scratch record with room
 * for its string tail, and the one call that writes it to the seq_file. */
#ifndef BPFITER_ITER_COMMON_BPF_H
#define BPFITER_ITER_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "record_common.h"

char LICENSE[] SEC("license") = "GPL";

/* The running kernel's page size as a shift, set at load time from
 * sysconf(_SC_PAGESIZE) by csrc/core/program.c (set_page_shift): 4K, 16K
 * and 64K-page kernels differ, so it is not compiled in. */
const volatile __u32 bpfiter_page_shift = 12;
#define PAGE_SHIFT bpfiter_page_shift

/* The kernel work this variant of the program does, one bit per costly
 * field or group of fields (struct target.kernel_work): a walk whose fields
 * option leaves them out loads the program with their bits clear
 * (csrc/core/program.c). .rodata is frozen, so the verifier knows the
 * value and drops the skipped work as dead code. The program leaves those
 * fields zero (an empty tail: nil). All bits: the full program. */
const volatile __u32 bpfiter_want = 0xffffffff;
#define BPFITER_WANTS(bit) (bpfiter_want & (bit))

/* Declares `scratch`, a per-CPU slot holding `struct REC rec` immediately
 * followed by its tail buffer. Iterator programs run with migration
 * disabled, so one slot per CPU is enough. */
#define BPFITER_SCRATCH(REC)						\
	struct scratch_slot {						\
		struct REC rec;						\
		char tail[2 * BPFITER_TAIL_MAX];			\
	};								\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, 1);					\
		__type(key, __u32);					\
		__type(value, struct scratch_slot);			\
	} scratch SEC(".maps");						\
	static __always_inline struct scratch_slot *scratch_get(void)	\
	{								\
		__u32 zero = 0;						\
		struct scratch_slot *s =				\
			bpf_map_lookup_elem(&scratch, &zero);		\
		if (s) {						\
			__builtin_memset(&s->rec, 0, sizeof(s->rec));	\
			s->rec.kind = BPFITER_KIND_RECORD;		\
		}							\
		return s;						\
	}

/* Declares the stream header and trailer of this program's target. */
#define BPFITER_HEADER(KIND, NAME, REC)					\
	{								\
		.kind = KIND,						\
		.magic = BPFITER_MAGIC,					\
		.version = BPFITER_FORMAT_VERSION,			\
		.record_size = sizeof(struct REC),			\
		.target = NAME,						\
	}
#define BPFITER_TARGET(NAME, REC)					\
	const volatile struct bpfiter_header bpfiter_begin =		\
		BPFITER_HEADER(BPFITER_KIND_BEGIN, NAME, REC);		\
	const volatile struct bpfiter_header bpfiter_end =		\
		BPFITER_HEADER(BPFITER_KIND_END, NAME, REC)

/* First thing in every program: the header goes out before the first
 * object; the kernel calls the program with a NULL object when it reaches
 * the end of the walk, which writes the trailer (see record_common.h). */
#define BPFITER_FRAME(meta, obj)					\
	do {								\
		if (!(obj))						\
			bpf_seq_write((meta)->seq, (void *)&bpfiter_end,	\
				      sizeof(bpfiter_end));		\
		else if ((meta)->seq_num == 0)				\
			bpf_seq_write((meta)->seq, (void *)&bpfiter_begin, \
				      sizeof(bpfiter_begin));		\
	} while (0)

/* A thread sharing its leader's files table, whose fds the task_file
 * iterator already showed with the leader: the kernel skips it in a
 * system-wide walk, but 6.1 does not when the walk is given a pid. */
static __always_inline bool shares_leader_files(struct task_struct *task)
{
	return task->group_leader != task && task->files == task->group_leader->files;
}

/* bpf_d_path's result turned into a tail length (without the NUL). */
static __always_inline __u16 tail_len_from(long n)
{
	if (n <= 1 || n > BPFITER_TAIL_MAX)
		return 0;
	return (__u16)(n - 1);
}

/* The record and its padded tail go out in one write so a reader never
 * sees half a record from one object. The tail buffer has room for the
 * padding; the mask only convinces the verifier. */
#define BPFITER_EMIT(seq, s)						\
	bpf_seq_write((seq), &(s)->rec,					\
		      sizeof((s)->rec) +				\
		      (BPFITER_TAIL_PADDED((s)->rec.tail_len) &		\
		       (2 * BPFITER_TAIL_MAX - 1)))

/* Targets whose objects can produce more than the kernel's ~32 KiB per
 * object (all items of one epoll set, all pages of one file) declare a ring
 * buffer, put those records there and write a marker (bpfiter_ring_mark)
 * into the stream where they belong; the reader empties the ring after every
 * read(). When the ring is full the program returns 1: the kernel drops what
 * this object wrote to the stream and shows it again in the next read(),
 * once the ring is empty, and the program resumes from a cursor of its own
 * (keyed by ctx->meta->session_id). Records in the ring stay; the reader
 * takes those left after the last marker of a read before the next read's
 * data. So a program must write to the stream before the ring for an object,
 * and keep its marker out of a show the kernel will repeat. */
#define BPFITER_RING(BYTES)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_RINGBUF);			\
		__uint(max_entries, BYTES);				\
	} bpfiter_ring SEC(".maps")

/* The scratch record and its padded tail into the ring: 0, or -EAGAIN when
 * it is full. Nobody sleeps on the ring, so no wakeups. */
#define BPFITER_RING_EMIT(s)						\
	bpf_ringbuf_output(&bpfiter_ring, &(s)->rec,			\
			   sizeof((s)->rec) +				\
			   (BPFITER_TAIL_PADDED((s)->rec.tail_len) &	\
			    (2 * BPFITER_TAIL_MAX - 1)),		\
			   BPF_RB_NO_WAKEUP)

/* "The next n items are in the ring": 0, or < 0 when the stream buffer is
 * full (the kernel then shows this object again). */
static __always_inline long bpfiter_ring_mark(struct seq_file *seq, __u32 n)
{
	struct bpfiter_ring_marker m = { .kind = BPFITER_KIND_RING, .count = n };

	return bpf_seq_write(seq, &m, sizeof(m));
}

/* Tells the reader the program gave up (BPFITER_GAVE_UP_*): the walk then
 * raises. 0, or < 0 when the stream buffer is full: the kernel then shows
 * the object again, and the program must give up again (keep its counter
 * past the bound until this returns 0). */
static __always_inline long bpfiter_give_up(struct seq_file *seq, __u16 reason)
{
	struct bpfiter_error_marker m = { .kind = BPFITER_KIND_ERROR, .reason = reason };

	return bpf_seq_write(seq, &m, sizeof(m));
}

#endif
