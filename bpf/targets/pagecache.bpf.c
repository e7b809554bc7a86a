// SPDX-License-Identifier: GPL-2.0
/* pagecache: every folio (or every inode's totals) in the page cache of
 * every superblock, including files nobody has open. The kernel has no
 * iterator for this, so the walk is driven by a bpf_map_elem iterator over
 * a one-element array made for the walk (csrc/targets/pagecache.c): its one
 * element is shown again and again (the program returns 1) until the walk
 * is done, each show doing a bounded number of steps from the cursor kept
 * in that element, and writing records into the ring buffer, which the
 * reader empties between read()s.
 *
 * The walk reads lists and trees others change, without their locks:
 *  - superblocks: sb->s_list, from the reader's root filesystem around
 *    the circular list (its head, a static in fs/super.c, is recognised
 *    as not being a superblock whose root dentry points back at it);
 *  - inodes: sb->s_inodes from its tail (new inodes go to the head, so
 *    positions counted from the tail stay put while inodes come);
 *  - pages: mapping->i_pages, by index, upwards.
 * Within one show RCU keeps what is read alive; between shows the cursor
 * names objects by pointer and checks them again (superblock: s_dev and
 * its root; inode: i_sb and i_ino) before use. When one has gone, the
 * walk re-counts its way back to the same position (README: what this can
 * miss or count twice). Every load from these objects is fault-checked
 * (bpf_rdonly_cast, bpf_probe_read_kernel), and every loop has a bound. */
#include "iter_common.bpf.h"
#include "pagecache_record.h"
#include "folio.bpf.h"

BPFITER_SCRATCH(pagecache_record)
BPFITER_TARGET("pagecache", pagecache_record);
BPFITER_RING(4 << 20);

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#define VIEW(TYPE, p) \
	((struct TYPE *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(struct TYPE)))

#define STEPS_PER_SHOW (1 << 17)	/* a show holds RCU for about a millisecond */
#define MAX_SUPERBLOCKS (1 << 14)	/* bounds: a list longer than this is a cycle */
#define MAX_INODES_PER_SB (1 << 26)
#define MAX_PATH_DEPTH 32
#define MAX_REWALKS 4096
/* Shows of the one element, i.e. read()s, in one walk: each does up to
 * STEPS_PER_SHOW steps, so this is 2^37 steps (a page cache of hundreds of
 * TiB). Past it the program gives up rather than run without end. */
#define MAX_SHOWS (1 << 20)
#define XA_CHUNK_SHIFT 6
#define XA_CHUNK_SIZE 64
#define XA_MAX_LEVELS 11		/* 64-bit indices, 6 bits a level */

enum phase { P_START, P_SB, P_SB_NEXT, P_INODE_NEXT, P_INODE_SKIP, P_PAGES, P_SUMMARY, P_DONE };

/* Where the xarray walk stands inside one show; rebuilt from the index at
 * the start of each show (nodes may be gone by then). */
struct xa_pos {
	__u64 node;		/* struct xa_node *, 0: descend from the root */
	__u64 base;		/* index of the node's slot 0 */
	__u64 dirty_marks, wb_marks;	/* the node's marks, one bit a slot */
	__u32 offset;
	__u32 shift;
};

struct show {
	struct pagecache_walk w;
	struct xa_pos xa;
	__u32 sent;		/* records this show put in the ring */
	__u8 full;		/* the ring is full */
	__u8 end_of_file;	/* the xarray walk is past its last entry */
	__u8 no_more;		/* P_PAGES: the inode is no longer valid */
};

/* Links the cursor keeps are read as plain numbers, never as typed
 * pointers: the verifier then sees the same state on every step of a loop
 * and need not check the step once per pointer type it could hold. */
static __always_inline __u64 read_addr(const void *field)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), field);
	return v;
}

/* One show's working state. In a map, not on the stack: the verifier then
 * knows none of its values (step counts, slot offsets) and checks the step
 * callback once, not once per value they could take. Iterator programs run
 * with migration disabled, so one slot per CPU is enough. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct show);
} shows SEC(".maps");

static __always_inline struct show *show_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&shows, &zero);
}

static __always_inline __u64 flag_bit(__u64 flags, int bit)
{
	return (flags >> (bit & 63)) & 1;
}

/* ---- records ---- */

static __always_inline struct pagecache_record *new_record(struct scratch_slot *s, __u8 type,
							    struct pagecache_walk *w)
{
	struct pagecache_record *r = &s->rec;

	r->type = type;
	r->dev = w->sb_dev;
	r->ino = w->cur_ino;
	return r;
}

struct path_walk {
	__u64 dentry;
	__u8 state;
};

/* One level of the path: the dentry's name, then up to its parent. The
 * bytes written so far live in the record's tail_len, in the map, where
 * the verifier does not follow the value from one call to the next (as it
 * would on the stack, checking the callback again for every length). */
static long path_step(__u32 i, void *ctx)
{
	struct path_walk *p = ctx;
	struct dentry *d = VIEW(dentry, p->dentry);
	__u64 parent = read_addr(&d->d_parent);
	struct scratch_slot *s;
	__u32 zero = 0, pos;
	long n;

	if (!parent || parent == p->dentry) {
		p->state = PC_PATH_OK;
		return 1;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 1;
	pos = s->rec.tail_len;
	if (pos > BPFITER_TAIL_MAX - 256)
		return 1;
	if (pos)
		s->tail[pos++ & (BPFITER_TAIL_MAX - 1)] = '/';
	n = bpf_probe_read_kernel_str(s->tail + (pos & (BPFITER_TAIL_MAX - 1)), 256, d->d_name.name);
	if (n > 1)
		pos += n - 1;
	s->rec.tail_len = pos;
	p->dentry = parent;
	return 0;
}

/* The path from the filesystem's root, leaf first (see pagecache_record.h). */
static __always_inline __u8 inode_path(struct inode *inode, struct scratch_slot *s)
{
	struct hlist_node *alias = inode->i_dentry.first;
	struct path_walk p = { .state = PC_PATH_TOO_DEEP };
	struct dentry *d;

	if (!alias)
		return PC_PATH_NO_DENTRY;
	p.dentry = (__u64)alias - bpf_core_field_offset(struct dentry, d_u.d_alias);
	d = VIEW(dentry, p.dentry);
	if (inode->__i_nlink == 0 || (!d->d_hash.pprev && (__u64)d->d_parent != p.dentry))
		return PC_PATH_DELETED;
	s->rec.tail_len = 0;
	bpf_loop(MAX_PATH_DEPTH, path_step, &p, 0);
	if (p.state != PC_PATH_OK)
		s->rec.tail_len = 0;
	return p.state;
}

static __always_inline long send_file(struct show *sh, bool with_counts)
{
	struct scratch_slot *s = scratch_get();
	struct inode *inode = VIEW(inode, sh->w.inode);
	struct super_block *sb = VIEW(super_block, sh->w.sb);
	struct pagecache_record *r;

	if (!s)
		return 0;
	r = new_record(s, PC_REC_FILE, &sh->w);
	r->generation = inode->i_generation;
	r->mode = inode->i_mode;
	r->rdev = inode->i_rdev;
	r->index = inode->i_size;
	if (with_counts)
		r->counts = sh->w.counts;
	bpf_probe_read_kernel_str(r->fstype, sizeof(r->fstype), sb->s_type->name);
	r->path_state = inode_path(inode, s);
	return BPFITER_RING_EMIT(s);
}

static __always_inline long send_entry(struct show *sh, __u8 type, __u64 index, __u64 pages,
				       __u16 flags)
{
	struct scratch_slot *s = scratch_get();
	struct pagecache_record *r;

	if (!s)
		return 0;
	r = new_record(s, type, &sh->w);
	r->index = index;
	r->pages = pages;
	r->flags = flags;
	return BPFITER_RING_EMIT(s);
}

/* ---- superblocks ---- */

/* A live superblock: its root dentry points back at it. The list head
 * (not a superblock) and one being torn down fail this. */
static __always_inline bool sb_alive(__u64 p)
{
	struct super_block *sb = VIEW(super_block, p);
	struct dentry *root = sb->s_root;

	return root && (__u64)VIEW(dentry, (__u64)root)->d_sb == p;
}

static __always_inline __u64 sb_next(__u64 p)
{
	return read_addr(&VIEW(super_block, p)->s_list.next) -
	       bpf_core_field_offset(struct super_block, s_list);
}

/* ---- inodes ---- */

static __always_inline __u64 inode_prev(__u64 sb, __u64 inode)
{
	__u64 head = sb + bpf_core_field_offset(struct super_block, s_inodes);
	__u64 link = inode ? read_addr(&VIEW(inode, inode)->i_sb_list.prev)
			   : read_addr(&VIEW(super_block, sb)->s_inodes.prev);

	if (!link || link == head)
		return 0;
	return link - bpf_core_field_offset(struct inode, i_sb_list);
}

/* Possibly open or mapped: a cheap test that lets the walk skip the pages
 * of inodes nobody holds; the reader keeps the exact answer (a set of the
 * files tasks hold, lua/bpfiter/pagecache.lua). Opens count in i_writecount
 * (writers) and i_readcount (readers; it exists with CONFIG_IMA), mappings
 * sit in i_mmap, and an inode without links stays only while something
 * holds it: memfds and other files made without an open() move neither
 * count. */
static __always_inline bool inode_maybe_open(struct inode *inode)
{
	if (bpf_core_field_exists(inode->i_readcount) && inode->i_readcount.counter > 0)
		return true;
	if (!bpf_core_field_exists(inode->i_readcount))
		return true;	/* read-only opens leave no trace: keep them all */
	return inode->i_writecount.counter > 0 || inode->i_data.i_mmap.rb_root.rb_node ||
	       inode->__i_nlink == 0;
}

/* The i_state bits an inode being set up or freed has (I_NEW, I_WILL_FREE,
 * I_FREEING), set at load (csrc/targets/pagecache.c): an enum in BTF from
 * 6.18, macros before, renumbered in 6.12 ("fs: reorder i_state bits"). Not
 * a CO-RE enum relocation: on kernels without the enum libbpf would look
 * for it in module BTF, which only CAP_SYS_ADMIN may list. Read with the
 * wrong bits, a freshly written file (I_DIRTY_SYNC, 1 << 4 from 6.12)
 * looks half freed. */
const volatile __u32 inode_going = (1 << 0) | (1 << 7) | (1 << 8);

/* The enum's type for the field check below: a field relocation finds
 * struct inode in vmlinux whatever the field's type. */
enum inode_state_flags_t___compat { I_NEW___compat = 1 };

/* i_state itself: that enum from 6.18, an unsigned long before. */
struct inode___enum_state {
	enum inode_state_flags_t___compat i_state;
} __attribute__((preserve_access_index));
struct inode___word_state {
	unsigned long i_state;
} __attribute__((preserve_access_index));

static __always_inline __u32 inode_state(struct inode *inode)
{
	struct inode___enum_state *e = (void *)inode;

	if (bpf_core_field_exists(e->i_state))
		return e->i_state;
	return ((struct inode___word_state *)inode)->i_state;
}

/* Whether the walk goes into this inode's pages. */
static __always_inline bool inode_wanted(struct pagecache_walk *w, struct inode *inode)
{
	__u64 nrpages = inode->i_data.nrpages;
	__u32 state = inode_state(inode);
	if (state & inode_going)
		return false;
	if (w->ino && inode->i_ino != w->ino)
		return false;
	if (nrpages < w->min_pages)
		return false;
	if (!nrpages && !((w->want & PC_WANT_EVICTED) && inode->i_data.i_pages.xa_head))
		return false;
	return !(w->want & PC_OPEN_ONLY) || inode_maybe_open(inode);
}

/* The inode the cursor names is still the one it named. */
static __always_inline bool inode_same(struct pagecache_walk *w)
{
	struct inode *inode = VIEW(inode, w->inode);

	return (__u64)inode->i_sb == w->sb && inode->i_ino == w->cur_ino;
}

/* ---- pages ---- */

static __always_inline __u64 xa_slot(__u64 node, __u32 offset)
{
	__u64 e = 0;

	bpf_probe_read_kernel(&e, sizeof(e), (void *)(node + bpf_core_field_offset(struct xa_node, slots) +
						       (__u64)(offset & (XA_CHUNK_SIZE - 1)) * 8));
	return e;
}

static __always_inline void xa_enter(struct xa_pos *x, __u64 node, __u64 base, __u32 offset)
{
	struct xa_node *n = VIEW(xa_node, node);

	x->node = node;
	x->base = base;
	x->shift = n->shift;
	x->offset = offset;
	x->dirty_marks = n->marks[0];	/* PAGECACHE_TAG_DIRTY: XA_MARK_0 */
	x->wb_marks = n->marks[1];	/* PAGECACHE_TAG_WRITEBACK: XA_MARK_1 */
}

static __always_inline bool xa_is_node(__u64 e)
{
	return (e & 3) == 2 && e > 4096;
}

struct descent {
	__u64 node, base, index;
	__u32 shift, offset;
	__u8 found;
};

/* One level down towards index. */
static long descend_step(__u32 i, void *ctx)
{
	struct descent *d = ctx;
	__u64 e;

	d->offset = (d->index - d->base) >> (d->shift & 63) & (XA_CHUNK_SIZE - 1);
	e = xa_slot(d->node, d->offset);
	if (!xa_is_node(e) || d->shift < XA_CHUNK_SHIFT) {
		d->found = 1;
		return 1;
	}
	d->base += (__u64)d->offset << (d->shift & 63);
	d->node = e - 2;
	d->shift = VIEW(xa_node, d->node)->shift;
	return 0;
}

/* From the root down to the node whose slots hold index. false: nothing at
 * or after index (an empty tree, or index past its reach). */
static __always_inline bool xa_descend(struct xa_pos *x, __u64 head, __u64 index)
{
	struct descent d = { .index = index };

	if (!xa_is_node(head))
		return false;
	d.node = head - 2;
	d.shift = VIEW(xa_node, d.node)->shift;
	if (d.shift < 64 - XA_CHUNK_SHIFT && (index >> (d.shift + XA_CHUNK_SHIFT)))
		return false;
	bpf_loop(XA_MAX_LEVELS, descend_step, &d, 0);
	if (d.found)
		xa_enter(x, d.node, d.base, d.offset);
	return d.found;
}

struct siblings {
	__u64 node, sibling;
	__u32 offset, n;
};

static long sibling_step(__u32 i, void *ctx)
{
	struct siblings *sb = ctx;
	__u32 next = sb->offset + sb->n;

	if (next >= XA_CHUNK_SIZE || xa_slot(sb->node, next) != sb->sibling)
		return 1;
	sb->n++;
	return 0;
}

/* Pages a shadow entry covers: its slot and the sibling slots after it. */
static __always_inline __u64 shadow_pages(struct xa_pos *x)
{
	struct siblings sb = {
		.node = x->node, .offset = x->offset, .n = 1,
		.sibling = ((__u64)x->offset << 2) | 2,
	};

	bpf_loop(XA_CHUNK_SIZE - 1, sibling_step, &sb, 0);
	return (__u64)sb.n << (x->shift & 63);
}

#define PG(name) bpf_core_enum_value(enum pageflags, name)
#define TAKE(fl, pg, ours) ((__u16)flag_bit(fl, PG(pg)) * (ours))

static __always_inline __u16 folio_flags(__u64 p, struct xa_pos *x, __u64 *pages)
{
	struct folio *f = VIEW(folio, p);
	__u64 fl = folio_flags_word(f), slot = x->offset & (XA_CHUNK_SIZE - 1);
	bool large = flag_bit(fl, PG(PG_head));
	__u16 out;

	*pages = large ? folio_large_pages(f) : 1;
	if (!*pages || *pages > (1 << 20))
		*pages = 1;
	out = TAKE(fl, PG_uptodate, PC_F_UPTODATE) | TAKE(fl, PG_referenced, PC_F_REFERENCED) |
	      TAKE(fl, PG_active, PC_F_ACTIVE) | TAKE(fl, PG_locked, PC_F_LOCKED) |
	      TAKE(fl, PG_unevictable, PC_F_UNEVICTABLE) | TAKE(fl, PG_workingset, PC_F_WORKINGSET);
	if (x->node)
		out |= (__u16)(((x->dirty_marks >> slot) & 1) * PC_F_DIRTY |
			       ((x->wb_marks >> slot) & 1) * PC_F_WRITEBACK);
	else	/* a lone entry at the root keeps its marks in xa_flags; the
		 * folio's flags say the same, set together under the lock */
		out |= TAKE(fl, PG_dirty, PC_F_DIRTY) | TAKE(fl, PG_writeback, PC_F_WRITEBACK);
	if ((large ? folio_large_mapcount(f) : f->_mapcount.counter) >= 0)
		out |= PC_F_MAPPED;
	return out;
}

/* A folio or shadow entry for the reader: its own record, or (PC_WANT_RUNS)
 * part of the run being built, which goes out when the next entry does not
 * continue it. false: the ring is full, nothing changed. */
static __always_inline bool put_entry(struct show *sh, __u8 type, __u64 index, __u64 pages,
				      __u16 flags)
{
	struct pagecache_walk *w = &sh->w;

	if (!(w->want & PC_WANT_PAGES))
		return true;
	if (!(w->want & PC_WANT_RUNS)) {
		if (send_entry(sh, type, index, pages, flags) < 0)
			return false;
		sh->sent++;
		return true;
	}
	if (w->run_pages && w->run_type == type && w->run_flags == flags &&
	    w->run_index + w->run_pages == index) {
		w->run_pages += pages;
		return true;
	}
	if (w->run_pages) {
		if (send_entry(sh, w->run_type, w->run_index, w->run_pages, w->run_flags) < 0)
			return false;
		sh->sent++;
	}
	w->run_type = type;
	w->run_flags = flags;
	w->run_index = index;
	w->run_pages = pages;
	return true;
}

/* The run being built, out at the end of its file. false: the ring is full. */
static __always_inline bool flush_run(struct show *sh)
{
	struct pagecache_walk *w = &sh->w;

	if (!w->run_pages)
		return true;
	if (send_entry(sh, w->run_type, w->run_index, w->run_pages, w->run_flags) < 0)
		return false;
	sh->sent++;
	w->run_pages = 0;
	return true;
}

/* One xarray slot (or a move up or down the tree). */
static __always_inline void page_step(struct show *sh)
{
	struct pagecache_walk *w = &sh->w;
	struct xa_pos *x = &sh->xa;
	__u64 e, index, pages;
	__u16 flags;

	if (!x->node) {
		struct inode *inode = VIEW(inode, w->inode);
		__u64 head = read_addr(&inode->i_data.i_pages.xa_head);

		if (head && !xa_is_node(head) && (head & 3) != 2 && w->index == 0) {
			/* A lone entry at index 0, not in a node: no marks. */
			x->node = 0;
			x->offset = 0;
			x->shift = 0;
			e = head;
			index = 0;
			goto entry;
		}
		if (!xa_descend(x, head, w->index))
			sh->end_of_file = 1;
		return;
	}
	if (x->offset >= XA_CHUNK_SIZE) {
		struct xa_node *n = VIEW(xa_node, x->node);
		__u64 parent = read_addr(&n->parent);
		__u32 up = n->offset;

		if (!parent) {
			sh->end_of_file = 1;
			return;
		}
		xa_enter(x, parent, x->base - ((__u64)up << ((x->shift + XA_CHUNK_SHIFT) & 63)), up + 1);
		return;
	}
	e = xa_slot(x->node, x->offset);
	index = x->base + ((__u64)x->offset << (x->shift & 63));
	if (!e || (e & 3) == 2) {
		if (xa_is_node(e) && x->shift >= XA_CHUNK_SHIFT)
			xa_enter(x, e - 2, index, 0);
		else
			x->offset++;	/* empty, a sibling of an entry passed, a retry */
		return;
	}
entry:
	if (e & 1) {		/* a value entry: a shadow of evicted pages */
		pages = x->node ? shadow_pages(x) : 1;
		if ((w->want & PC_WANT_EVICTED) && !put_entry(sh, PC_REC_SHADOW, index, pages, 0)) {
			sh->full = 1;
			return;
		}
		w->counts.evicted += pages;
	} else {
		flags = folio_flags(e, x, &pages);
		if (!put_entry(sh, PC_REC_FOLIO, index, pages, flags)) {
			sh->full = 1;
			return;
		}
		w->counts.cached += pages;
		w->counts.dirty += pages * !!(flags & PC_F_DIRTY);
		w->counts.writeback += pages * !!(flags & PC_F_WRITEBACK);
		w->counts.mapped += pages * !!(flags & PC_F_MAPPED);
	}
	w->index = index + pages;
	if (!x->node)
		sh->end_of_file = 1;	/* the lone entry */
	else
		x->offset++;
}

/* ---- the walk ---- */

static __always_inline void start_inode(struct show *sh, __u64 inode)
{
	struct pagecache_walk *w = &sh->w;

	w->inode = inode;
	w->cur_ino = VIEW(inode, inode)->i_ino;
	w->index = 0;
	w->run_pages = 0;
	__builtin_memset(&w->counts, 0, sizeof(w->counts));
	sh->xa.node = 0;
}

/* The cursor's inode left the list under us (list_del_init points its
 * links at itself): count again from the tail to the same position. A walk
 * that keeps losing its place gives up on this superblock rather than
 * spin. */
static __always_inline void lost_place(struct pagecache_walk *w)
{
	if (++w->rewalks > MAX_REWALKS) {
		w->bounds++;
		w->phase = P_SB_NEXT;
		return;
	}
	w->inode = 0;
	w->skip = w->ino_ord;
	w->phase = P_INODE_SKIP;
}

/* The next inode towards the head: 0 at the head, the cursor's own inode
 * (or one of another superblock) when the links broke under us. */
static __always_inline bool inode_link_ok(struct pagecache_walk *w, __u64 next)
{
	return next != w->inode && (__u64)VIEW(inode, next)->i_sb == w->sb;
}

/* The next inode towards the list's head, or 0 when there is none to take
 * (end of the superblock's list: on to the next one; broken links: the
 * place is counted again). */
static __always_inline __u64 step_inode(struct pagecache_walk *w)
{
	__u64 next = inode_prev(w->sb, w->inode);

	if (!next) {
		w->phase = P_SB_NEXT;
		return 0;
	}
	if (!inode_link_ok(w, next)) {
		lost_place(w);
		return 0;
	}
	return next;
}

/* PC_ONE_FILE: the inode behind the reader's fd w->fd (the reader runs
 * this program in its read()), if it is the one asked for; else 0. */
static __always_inline __u64 held_inode(struct pagecache_walk *w)
{
	__u64 files = read_addr(&bpf_get_current_task_btf()->files);
	__u64 fdt = files ? read_addr(&((struct files_struct *)files)->fdt) : 0;
	__u64 fds, file, inode;
	unsigned int max_fds = 0;

	if (!fdt || w->fd < 0)
		return 0;
	bpf_probe_read_kernel(&max_fds, sizeof(max_fds), &((struct fdtable *)fdt)->max_fds);
	if ((unsigned int)w->fd >= max_fds)
		return 0;
	fds = read_addr(&((struct fdtable *)fdt)->fd);
	file = fds ? read_addr((void *)(fds + (__u64)(__u32)w->fd * sizeof(void *))) : 0;
	inode = file ? read_addr(&((struct file *)file)->f_inode) : 0;
	if (!inode || VIEW(inode, inode)->i_ino != w->ino ||
	    VIEW(super_block, read_addr(&((struct inode *)inode)->i_sb))->s_dev != w->dev)
		return 0;
	return inode;
}

/* PC_ONE_FILE: go straight to the inode, skipping the inode lists. It is
 * then walked as the lists would, and the walk ends after it. */
static __always_inline bool start_held(struct show *sh)
{
	struct pagecache_walk *w = &sh->w;
	__u64 inode = held_inode(w);

	if (!inode)
		return false;
	w->sb = w->anchor = read_addr(&((struct inode *)inode)->i_sb);
	w->sb_dev = w->dev;
	w->inodes = 1;
	if (!inode_wanted(w, VIEW(inode, inode))) {
		w->phase = P_SUMMARY;
		return true;
	}
	start_inode(sh, inode);
	if ((w->want & PC_WANT_PAGES) && send_file(sh, false) < 0) {
		w->inode = 0;	/* P_START again in the next show */
		w->phase = P_START;
		sh->full = 1;
		return true;
	}
	sh->sent += w->want & PC_WANT_PAGES;
	w->phase = P_PAGES;
	return true;
}

static long walk_step(__u32 i, void *ctx)
{
	struct show *sh = show_get();
	struct pagecache_walk *w;
	__u64 next;

	if (!sh)
		return 1;
	w = &sh->w;

	switch (w->phase) {
	case P_START:
		if ((w->want & PC_ONE_FILE) && start_held(sh))
			return w->phase != P_PAGES;
		w->anchor = read_addr(&bpf_get_current_task_btf()->fs->root.mnt->mnt_sb);
		w->sb = w->anchor;
		w->phase = P_SB;
		return 0;
	case P_SB:
		if (!sb_alive(w->sb)) {
			w->phase = P_SB_NEXT;
			return 0;
		}
		w->sb_dev = VIEW(super_block, w->sb)->s_dev;
		w->inode = 0;
		w->ino_ord = 0;
		w->phase = w->dev && w->dev != w->sb_dev ? P_SB_NEXT : P_INODE_NEXT;
		return 0;
	case P_SB_NEXT:
		next = sb_next(w->sb);
		/* s_dev is unique: the one filesystem asked for is done */
		if (next == w->anchor || (w->dev && w->dev == w->sb_dev)) {
			w->phase = P_SUMMARY;
			return 1;
		}
		if (++w->sb_ord >= MAX_SUPERBLOCKS) {
			w->bounds++;
			w->phase = P_SUMMARY;
			return 1;
		}
		w->sb = next;
		w->phase = P_SB;
		return 0;
	case P_INODE_SKIP:	/* re-walk to the position the cursor had */
		if (!w->skip) {
			w->phase = P_INODE_NEXT;
			return 0;
		}
		next = step_inode(w);
		if (!next)
			return 0;
		w->inode = next;
		w->cur_ino = VIEW(inode, next)->i_ino;
		w->skip--;
		return 0;
	case P_INODE_NEXT:
		next = step_inode(w);
		if (!next)
			return 0;
		if (w->ino_ord >= MAX_INODES_PER_SB) {
			w->bounds++;
			w->phase = P_SB_NEXT;
			return 0;
		}
		if (inode_wanted(w, VIEW(inode, next))) {
			__u64 before = w->inode, before_ino = w->cur_ino;

			start_inode(sh, next);
			if ((w->want & PC_WANT_PAGES) && send_file(sh, false) < 0) {
				w->inode = before;
				w->cur_ino = before_ino;
				sh->full = 1;
				return 1;
			}
			sh->sent += w->want & PC_WANT_PAGES;
			w->phase = P_PAGES;
		} else {
			w->inode = next;
			w->cur_ino = VIEW(inode, next)->i_ino;
		}
		w->ino_ord++;
		w->inodes++;
		return 0;
	case P_PAGES:
		page_step(sh);
		if (sh->full)
			return 1;
		if (sh->end_of_file) {
			sh->end_of_file = 0;
			if (!flush_run(sh)) {
				sh->full = 1;
				return 1;
			}
			if (!(w->want & PC_WANT_PAGES) && send_file(sh, true) < 0) {
				sh->full = 1;
				return 1;
			}
			sh->sent += !(w->want & PC_WANT_PAGES);
			/* One inode asked for by number: the walk is over. */
			w->phase = w->ino && w->dev ? P_SUMMARY : P_INODE_NEXT;
			return w->phase == P_SUMMARY;
		}
		return 0;
	}
	return 1;
}

static long sb_advance(__u32 i, void *ctx)
{
	__u64 *p = ctx;

	*p = sb_next(*p);
	return 0;
}

/* Between shows the superblock or inode named by the cursor may be gone:
 * check, and re-walk to the same position when it is. */
static __always_inline void revalidate(struct show *sh)
{
	struct pagecache_walk *w = &sh->w;
	__u32 ord = w->sb_ord;

	if (w->phase == P_START || w->phase >= P_SUMMARY)
		return;
	if (!sb_alive(w->sb) || VIEW(super_block, w->sb)->s_dev != w->sb_dev) {
		/* Superblocks are few: count from the anchor, then go on with
		 * the one at the same position, from its first inode. */
		__u64 p = w->anchor;

		bpf_loop(ord < MAX_SUPERBLOCKS ? ord : MAX_SUPERBLOCKS, sb_advance, &p, 0);
		w->rewalks++;
		w->sb = p;
		w->phase = p == w->anchor && ord ? P_SUMMARY : P_SB;
		return;
	}
	if (w->phase >= P_INODE_NEXT && w->inode && !inode_same(w))
		lost_place(w);
}

SEC("iter/bpf_map_elem")
int walk_pagecache(struct bpf_iter__bpf_map_elem *ctx)
{
	struct pagecache_walk *cursor = ctx->value;
	struct scratch_slot *s;
	struct show *sh;

	BPFITER_FRAME(ctx->meta, cursor);
	if (!cursor || cursor->phase == P_DONE)
		return 0;
	if (cursor->shows >= MAX_SHOWS) {
		/* until the reader has the marker, the walk stays past the bound */
		if (bpfiter_give_up(ctx->meta->seq, BPFITER_GAVE_UP_RESHOWN) == 0)
			cursor->phase = P_DONE;
		return 0;
	}
	cursor->shows++;
	sh = show_get();
	if (!sh)
		return 0;
	__builtin_memset(sh, 0, sizeof(*sh));
	__builtin_memcpy(&sh->w, cursor, sizeof(sh->w));
	revalidate(sh);
	if (sh->w.phase < P_SUMMARY)
		bpf_loop(STEPS_PER_SHOW, walk_step, NULL, 0);
	if (sh->w.phase == P_SUMMARY) {
		s = scratch_get();
		if (s) {
			s->rec.type = PC_REC_SUMMARY;
			s->rec.ino = sh->w.inodes;
			s->rec.index = sh->w.rewalks;
			s->rec.pages = sh->w.bounds;
			if (BPFITER_RING_EMIT(s) == 0) {
				sh->sent++;
				sh->w.phase = P_DONE;
			}
		}
	}
	__builtin_memcpy(cursor, &sh->w, sizeof(sh->w));
	if (sh->w.phase != P_DONE)
		return 1;	/* more in the next read() */
	if (sh->sent)
		bpfiter_ring_mark(ctx->meta->seq, sh->sent);
	return 0;
}
