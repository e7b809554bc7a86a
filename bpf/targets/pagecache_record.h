#ifndef BPFITER_PAGECACHE_RECORD_H
#define BPFITER_PAGECACHE_RECORD_H
#include "record_common.h"

/* The page-cache walk (pagecache.bpf.c) is driven by a one-element array
 * map made for each walk (csrc/targets/pagecache.c): its value holds what
 * the reader asked for and where the walk stands, so the program can go on
 * in the next read() when a show's step budget or the ring runs out. */
#define PC_WANT_PAGES	(1u << 0)	/* a record per folio (pagecache), else per file */
#define PC_WANT_EVICTED	(1u << 1)	/* shadow entries too */
#define PC_OPEN_ONLY	(1u << 2)	/* skip inodes surely neither open nor mapped */
#define PC_WANT_RUNS	(1u << 3)	/* with PC_WANT_PAGES: runs of entries alike */
#define PC_ONE_FILE	(1u << 4)	/* only the inode of the reader's fd `fd` */

struct pagecache_counts {
	__u64 cached, dirty, writeback, evicted, mapped;	/* pages */
};

struct pagecache_walk {
	/* set by the reader */
	__u32 want;		/* PC_WANT_*, PC_OPEN_ONLY */
	__u32 dev;		/* only this filesystem (kernel encoding); 0: all */
	__u64 ino;		/* only this inode number; 0: all */
	__u64 min_pages;	/* only inodes with at least this many cached pages */
	/* the program's cursor */
	__u32 phase;
	__u32 sb_dev;		/* of sb, to recognise it in the next show */
	__u64 anchor;		/* the superblock the walk starts and ends at */
	__u64 sb;		/* the current superblock */
	__u64 inode;		/* the current inode (0: none yet in sb) */
	__u64 cur_ino;		/* its number, to recognise it */
	__u64 index;		/* the next page index of the current inode */
	__u32 sb_ord;		/* superblocks passed */
	__u32 ino_ord;		/* inodes of sb passed, counted from the list's tail */
	__u32 skip;		/* re-walk: positions still to pass */
	__s32 fd;		/* PC_ONE_FILE: the reader holds the file open as this */
	struct pagecache_counts counts;	/* of the current inode so far */
	__u64 run_index, run_pages;	/* PC_WANT_RUNS: the run being built */
	__u16 run_flags;
	__u8 run_type;
	__u8 pad2[5];
	/* reported at the end */
	__u64 inodes;		/* inodes visited */
	__u32 rewalks;		/* a cursor object vanished: position re-walked */
	__u32 bounds;		/* a safety bound stopped part of the walk */
	__u32 shows;		/* times the program ran (and asked for more) */
	__u32 pad3;
};

/* Records, all in the ring buffer:
 *  - PC_REC_FILE: an inode. With PC_WANT_PAGES it comes before the
 *    inode's folios, without counts; otherwise after its walk, with them.
 *    The tail is the path from the filesystem's root, components from
 *    the leaf up, separated by '/' ("c/b/a" for /a/b/c).
 *  - PC_REC_FOLIO / PC_REC_SHADOW: a folio, or a shadow entry (pages
 *    recently evicted), of the last FILE's inode; with PC_WANT_RUNS, a run
 *    of consecutive ones with the same flags.
 *  - PC_REC_SUMMARY: the last record: the walk's own counters. */
#define PC_REC_FILE	1
#define PC_REC_FOLIO	2
#define PC_REC_SHADOW	3
#define PC_REC_SUMMARY	4

/* FILE: why there is no path */
#define PC_PATH_OK		0
#define PC_PATH_DELETED		1	/* no links left, or its dentry is unhashed */
#define PC_PATH_NO_DENTRY	2	/* the inode has no dentry in the dcache */
#define PC_PATH_TOO_DEEP	3	/* more levels than the program follows */

/* FOLIO flags */
#define PC_F_DIRTY	(1u << 0)	/* as cachestat counts: the xarray's dirty mark */
#define PC_F_WRITEBACK	(1u << 1)	/* the xarray's writeback mark */
#define PC_F_UPTODATE	(1u << 2)
#define PC_F_REFERENCED	(1u << 3)
#define PC_F_ACTIVE	(1u << 4)
#define PC_F_LOCKED	(1u << 5)
#define PC_F_MAPPED	(1u << 6)	/* some page table maps it */
#define PC_F_UNEVICTABLE (1u << 7)
#define PC_F_WORKINGSET	(1u << 8)

struct pagecache_record {
	BPFITER_RECORD_HEAD;
	__u8 type;		/* PC_REC_* */
	__u8 path_state;	/* FILE: PC_PATH_* */
	__u16 flags;		/* FOLIO: PC_F_* */
	__u32 dev;		/* kernel encoding: major << 20 | minor */
	__u32 generation;	/* FILE: i_generation */
	__u32 mode;		/* FILE: i_mode */
	__u32 rdev;		/* FILE: i_rdev (kernel encoding), the device a
				 * block device's cache (fstype "bdev") is of */
	__u64 ino;
	__u64 index;		/* FOLIO/SHADOW: first page index; FILE: i_size */
	__u64 pages;		/* FOLIO/SHADOW: pages covered */
	struct pagecache_counts counts;	/* FILE without PC_WANT_PAGES */
	char fstype[16];	/* FILE: the filesystem type's name */
};

#endif
