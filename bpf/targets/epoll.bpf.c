// SPDX-License-Identifier: GPL-2.0
/* epoll: every registered item of every epoll set, from a task_file walk.
 * An epoll file is the anonymous inode "[eventpoll]" (is_epoll); its items
 * are the epitems of the red-black tree ep->rbr, read without ep->mtx
 * (best effort, see README). One set can hold far more items than the
 * kernel lets one object write to the stream, so items go to the ring
 * buffer (iter_common.bpf.h: BPFITER_RING), resumed across read()s from a
 * cursor: the tree's own key (file pointer, fd) of the last item sent. */
#include "iter_common.bpf.h"
#include "epoll_record.h"

BPFITER_SCRATCH(epoll_record)
BPFITER_TARGET("epoll", epoll_record);
BPFITER_RING(1 << 20);

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
/* Open-coded loops (libbpf 1.1.2 has no bpf_for): the verifier checks the
 * body until its states repeat, not once per possible iteration. Their
 * state as 6.4 defines it: older kernels' BTF has no such type. */
struct bpf_iter_num___local {
	__u64 __opaque[1];
} __attribute__((aligned(8)));
extern int bpf_iter_num_new(struct bpf_iter_num___local *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num___local *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num___local *it) __ksym;

/* Mixed into the opaque ids of sets and files, so they are not kernel
 * addresses; random, set at load time by csrc/targets/epoll.c. */
const volatile __u64 id_key = 0;

/* A read-only view of kernel memory at p as TYPE: every load through it is
 * fault-checked, as it must be for a tree others change under us. */
#define VIEW(TYPE, p) \
	((struct TYPE *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(struct TYPE)))

#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534f434b
#define ANON_INODE_FS_MAGIC 0x09041934

#define RB_DEPTH 64		/* an rb-tree of n nodes is at most 2 log2(n + 1) deep */
#define MAX_STEPS (1 << 23)	/* bpf_loop's limit; a bigger set goes on in the next read() */
/* Bounds on showing one epoll fd again (walk_set returns 1): shows in a
 * row that sent no item (the tree kept changing under every look), and
 * shows in all (each sends up to a full 1 MiB ring, ~10,000 items: this
 * is a set of hundreds of millions). Past either, the program gives up. */
#define MAX_IDLE_SHOWS 4
#define MAX_SHOWS (1 << 16)
/* Looks from the root in one show when the links lead nowhere forward. */
#define MAX_LOOKS_AGAIN 1024

/* Where a set's walk stands when the ring filled up, per iterator session
 * (an iterator fd). LRU: a walk abandoned mid-set leaves its entry behind. */
struct cursor {
	__u64 file;		/* the epoll file and its eventpoll: the object resumed */
	__u64 ep;
	__u64 key_file;		/* key of the last item sent */
	__s64 key_fd;
	__u32 keyed;		/* an item was sent */
	__u32 done;		/* all sent; only the stream marker failed */
	__u32 shows;		/* of this object so far */
	__u32 idle;		/* shows in a row that sent nothing */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct cursor);
} cursors SEC(".maps");

/* Looks again from the root in this show. In a map, not in the walk on
 * the stack: this kernel's verifier oopsed on a counter in a bpf_loop
 * callback's stack context (KERNEL-NOTES). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} looks SEC(".maps");

struct walk {
	__u64 ep;		/* struct eventpoll * */
	__u64 node;		/* rb_node of the last item passed, 0: none yet */
	__u64 key_file;
	__s64 key_fd;
	__u32 keyed;
	__u32 count;		/* items this show put in the ring */
	__u64 fds;		/* the fd table's array (struct file **) */
	__u32 max_fds;
	__u32 pid, tid;
	__s32 epfd;
	__u64 epoll_id;
	__u8 full;		/* the ring is full: show this object again */
	__u8 end;		/* no item after the cursor */
};

/* A number for pointer p: the verifier lets a program subtract pointers
 * (and nothing else), so from a fixed one of its own. */
#define ADDR(p) ((__u64)(p) - (__u64)&id_key)

static __always_inline __u64 opaque_id(__u64 p)
{
	__u64 x = (p ^ id_key) * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 32;
	return x ? x : 1;
}

/* The tree's order (ep_cmp_ffd): file pointer, then fd. */
static __always_inline int key_cmp(__u64 file, __s64 fd, __u64 kfile, __s64 kfd)
{
	if (file != kfile)
		return file > kfile ? 1 : -1;
	return fd > kfd ? 1 : fd < kfd ? -1 : 0;
}

/* rb_next(); 0 at the end or when the links make no sense (the caller then
 * asks the tree from its root). */
static __always_inline __u64 rb_next_node(__u64 n)
{
	struct rb_node *node = VIEW(rb_node, n);
	__u64 r = (__u64)node->rb_right, parent, next = 0;
	struct bpf_iter_num___local it;

	bpf_iter_num_new(&it, 0, RB_DEPTH);
	if (r) {
		while (bpf_iter_num_next(&it)) {
			__u64 l = (__u64)VIEW(rb_node, r)->rb_left;

			if (!l) {
				next = r;
				break;
			}
			r = l;
		}
	} else {
		while (bpf_iter_num_next(&it)) {
			parent = node->__rb_parent_color & ~3ULL;
			if (!parent)
				break;
			node = VIEW(rb_node, parent);
			if ((__u64)node->rb_right != n) {
				next = parent;
				break;
			}
			n = parent;
		}
	}
	bpf_iter_num_destroy(&it);
	return next;
}

/* The first item whose key is above the cursor (the first item when there
 * is no cursor yet), from the root down; 0 when there is none. */
static __always_inline __u64 first_after(struct walk *w)
{
	struct eventpoll *ep = VIEW(eventpoll, w->ep);
	__u64 n, succ = 0;
	struct bpf_iter_num___local it;

	if (!w->keyed)
		return (__u64)ep->rbr.rb_leftmost;
	n = (__u64)ep->rbr.rb_root.rb_node;
	bpf_iter_num_new(&it, 0, RB_DEPTH);
	while (n && bpf_iter_num_next(&it)) {
		struct epitem *e = VIEW(epitem, n);

		if (key_cmp((__u64)e->ffd.file, e->ffd.fd, w->key_file, w->key_fd) > 0) {
			succ = n;
			n = (__u64)e->rbn.rb_left;
		} else {
			n = (__u64)e->rbn.rb_right;
		}
	}
	bpf_iter_num_destroy(&it);
	return succ;
}

static __always_inline __u64 fd_file(__u64 fds, __u32 max_fds, __s32 fd)
{
	__u64 f = 0;

	if (fd >= 0 && (__u32)fd < max_fds)
		bpf_probe_read_kernel(&f, sizeof(f), (void *)(fds + (__u64)fd * 8));
	return f;
}

/* fs/eventpoll.c makes every epoll file with anon_inode_getfile("[eventpoll]"),
 * and only it uses that name. Not f_op->poll == ep_eventpoll_poll: libbpf
 * takes that address from /proc/kallsyms, which shows 0 to a loader
 * without CAP_SYSLOG, and a program comparing with 0 took every file
 * without ->poll for an epoll set (and spun re-showing one). */
static __always_inline bool is_epoll(struct file *f)
{
	const char want[12] = "[eventpoll]";
	char name[12];

	if (f->f_inode->i_sb->s_magic != ANON_INODE_FS_MAGIC ||
	    bpf_probe_read_kernel(name, sizeof(name), f->f_path.dentry->d_name.name))
		return false;
#pragma unroll
	for (int i = 0; i < (int)sizeof(name); i++)
		if (name[i] != want[i])
			return false;
	return true;
}

static __always_inline void describe_target(struct epoll_record *r, struct file *f)
{
	struct inode *inode = f->f_inode;

	r->file_id = opaque_id(ADDR(f));
	r->ino = inode->i_ino;
	r->dev = inode->i_sb->s_dev;
	r->magic = inode->i_sb->s_magic;
	r->mode = inode->i_mode;
}

/* One item into the ring: 0, or < 0 when the ring is full. */
static __always_inline long send_item(struct walk *w, struct epitem *e)
{
	struct scratch_slot *s = scratch_get();
	struct epoll_record *r;
	struct file *tf;
	__u64 registered;

	if (!s)
		return 0;
	r = &s->rec;
	r->type = EPOLL_REC_ITEM;
	r->pid = w->pid;
	r->tid = w->tid;
	r->epfd = w->epfd;
	r->epoll_id = w->epoll_id;
	r->tfd = e->ffd.fd;
	r->events = e->event.events;
	r->data = e->event.data;
	registered = (__u64)e->ffd.file;
	tf = VIEW(file, registered);
	describe_target(r, tf);
	if (is_epoll(tf))
		r->target_epoll_id = opaque_id((__u64)tf->private_data);
	r->same_file = fd_file(w->fds, w->max_fds, r->tfd) == registered;
	if (!r->same_file) {
		/* Maybe in no fd of this table, so no path to join: its dentry
		 * name lets the reader name pipes, sockets, anonymous inodes. */
		long n = bpf_probe_read_kernel_str(s->tail, 256,
						   BPF_CORE_READ(tf, f_path.dentry, d_name.name));
		r->tail_len = n > 1 ? n - 1 : 0;
		r->tail_is_name = 1;
	}
	return BPFITER_RING_EMIT(s);
}

/* An item of this set past the cursor: what the next one must be. Links
 * read while the tree changes can lead elsewhere (an erased node's links
 * are overwritten at once by its RCU head), never backwards here. */
static __always_inline bool follows(struct walk *w, struct epitem *e)
{
	return (__u64)e->ep == w->ep &&
	       key_cmp((__u64)e->ffd.file, e->ffd.fd, w->key_file, w->key_fd) > 0;
}

static long walk_step(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	struct epitem *e = NULL;
	__u64 n = 0;

	if (w->node) {
		n = rb_next_node(w->node);
		if (n && !follows(w, VIEW(epitem, n)))
			n = 0;
	}
	if (!n) {
		n = first_after(w);
		if (!n) {
			w->end = 1;
			return 1;
		}
		/* The tree is changing under us: look again. A consistent tree
		 * always answers right, so this ends when the writer is done,
		 * or the looks run out and the kernel shows the fd again. */
		if (!follows(w, VIEW(epitem, n))) {
			__u32 zero = 0, *k = bpf_map_lookup_elem(&looks, &zero);

			if (!k || ++*k > MAX_LOOKS_AGAIN)
				return 1;
			return 0;
		}
	}
	e = VIEW(epitem, n);
	if (!e->dying) {	/* dying: its file is being released */
		if (send_item(w, e) < 0) {
			w->full = 1;
			return 1;
		}
		w->count++;
	}
	w->node = n;
	w->key_file = (__u64)e->ffd.file;
	w->key_fd = e->ffd.fd;
	w->keyed = 1;
	return 0;
}

/* Returns the program's result: 1 asks the kernel to show the object again. */
static __always_inline int walk_set(struct bpf_iter__task_file *ctx, struct task_struct *task,
				    struct file *file)
{
	__u64 sid = ctx->meta->session_id;
	struct cursor *c = bpf_map_lookup_elem(&cursors, &sid);
	struct fdtable *fdt = task->files->fdt;
	struct walk w = {
		.ep = (__u64)file->private_data,
		.fds = (__u64)fdt->fd,
		.max_fds = fdt->max_fds,
		.pid = task->tgid,
		.tid = task->pid,
		.epfd = ctx->fd,
	};
	struct cursor save = { .file = (__u64)file, .ep = w.ep };
	__u32 zero = 0, *k;

	if (c && c->file == save.file && c->ep == save.ep) {
		if (c->done) {	/* the reader has the items already */
			bpf_map_delete_elem(&cursors, &sid);
			return 0;
		}
		w.keyed = c->keyed;
		w.key_file = c->key_file;
		w.key_fd = c->key_fd;
		save.shows = c->shows;
		save.idle = c->idle;
		if (save.shows >= MAX_SHOWS || save.idle >= MAX_IDLE_SHOWS) {
			/* the cursor stays past the bound until the reader has it */
			if (bpfiter_give_up(ctx->meta->seq, BPFITER_GAVE_UP_RESHOWN) == 0)
				bpf_map_delete_elem(&cursors, &sid);
			return 0;
		}
	}
	k = bpf_map_lookup_elem(&looks, &zero);
	if (k)
		*k = 0;
	w.epoll_id = opaque_id(w.ep);
	bpf_loop(MAX_STEPS, walk_step, &w, 0);
	if (!w.end) {
		save.keyed = w.keyed;
		save.key_file = w.key_file;
		save.key_fd = w.key_fd;
		save.shows++;
		save.idle = w.count ? 0 : save.idle + 1;
		bpf_map_update_elem(&cursors, &sid, &save, BPF_ANY);
		return 1;
	}
	if (w.count && bpfiter_ring_mark(ctx->meta->seq, w.count) < 0) {
		/* The stream is full: the kernel shows this fd again, but the
		 * items are in the ring and the reader takes them before. */
		save.done = 1;
		bpf_map_update_elem(&cursors, &sid, &save, BPF_ANY);
		return 0;
	}
	if (c)
		bpf_map_delete_elem(&cursors, &sid);
	return 0;
}

SEC("iter/task_file")
int dump_epoll(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct scratch_slot *s;
	struct epoll_record *r;

	BPFITER_FRAME(ctx->meta, file);
	if (!task || !file || shares_leader_files(task))
		return 0;
	if (file->f_ep) {
		/* Some epoll watches this file: its path, for the items. */
		s = scratch_get();
		if (!s)
			return 0;
		r = &s->rec;
		r->type = EPOLL_REC_FILE;
		r->pid = task->tgid;
		r->tid = task->pid;
		r->epfd = -1;
		r->tfd = ctx->fd;
		describe_target(r, file);
		if (r->magic == PIPEFS_MAGIC || r->magic == SOCKFS_MAGIC) {
			r->tail_is_name = 1;	/* "pipe:[ino]", the reader prints it */
		} else if (r->magic == ANON_INODE_FS_MAGIC) {
			/* d_path would only print "anon_inode:" and the name */
			long n = bpf_probe_read_kernel_str(s->tail, 256,
							   file->f_path.dentry->d_name.name);
			r->tail_len = n > 1 ? n - 1 : 0;
			r->tail_is_name = 1;
		} else {
			r->tail_len = tail_len_from(bpf_d_path((struct path *)&file->f_path,
							       s->tail, BPFITER_TAIL_MAX));
		}
		if (BPFITER_EMIT(seq, s) < 0)
			return 0;	/* stream full: the kernel shows this fd again */
	}
	if (!is_epoll(file))
		return 0;
	return walk_set(ctx, task, file);
}
