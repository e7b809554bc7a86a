/* What the generic core needs to know about one iterator target. Adding a
 * target means one BPF program with its record header (bpf/targets/), one
 * file defining its struct target (csrc/targets/), one line in
 * csrc/targets/registry.c and one spec; the core does not change (see
 * ARCHITECTURE.md). */
#ifndef BPFITER_TARGET_H
#define BPFITER_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <linux/bpf.h>

enum field_type {
	F_U32, F_S32, F_U64, F_S64,
	F_CHARS,	/* NUL-padded char array -> string */
	F_CHAR,		/* one char -> one-letter string */
	F_BOOL,		/* u8 -> boolean */
	F_DEV,		/* u32 kernel dev_t -> userland dev_t (as stat() gives) */
	F_MAJOR,	/* u32 kernel dev_t -> its major number */
	F_MINOR,	/* u32 kernel dev_t -> its minor number */
	F_TAIL,		/* u16 length of the string following the record (tail_len, or a
			 * member giving the length of the tail's first part) -> string or nil */
};

/* What a field means, declared with it: bpfiter.field_info, `bpfiter help
 * TARGET`, the man page, the LDoc reference and the LuaCATS file are made
 * from it. unit is what a number counts: "bytes", "ns", "pages" (of
 * bpfiter.page_size bytes), "count"; "" for what is not a quantity (ids,
 * names, flags, booleans). help is one line. */
struct field_doc {
	const char *unit;
	const char *help;
};

struct field {
	const char *name;
	uint16_t offset;
	uint8_t type;
	uint8_t size;
	struct field_doc doc;
};

/* FIELD(rec, member, type, name, unit, help); a field declared without the
 * last two still decodes, and spec 08 names it until it has them. */
#define FIELD(rec, member, type, name, ...) \
	{ name, offsetof(struct rec, member), type, sizeof(((struct rec *)0)->member), { __VA_ARGS__ } }
#define FIELDS_END { NULL, 0, 0, 0, { NULL, NULL } }

/* A field a target's derive or step hook computes: its name, its Lua type
 * as LuaCATS writes it ("string", "integer?", "integer[]", "any"), unit and
 * help as above. */
struct derived_field {
	const char *name;
	const char *luatype;
	struct field_doc doc;
};

#define DERIVED(name, luatype, ...) { name, luatype, { __VA_ARGS__ } }
#define DERIVED_END { NULL, NULL, { NULL, NULL } }

/* A field whose value costs the kernel real work per record (a path through
 * bpf_d_path, a copy of the argument area, a stack walk): a walk whose
 * fields option does not ask for it loads a variant of the program without
 * that work. bit is a bit of the program's bpfiter_want (bpf/common/
 * iter_common.bpf.h), which the verifier then folds to a constant: the work
 * is dead code, and the field decodes as nil. Several fields may share a
 * bit (those made from the same work). */
struct kernel_work {
	const char *field;
	uint32_t bit;
};

#define WORK(field, bit) { field, bit }
#define WORK_END { NULL, 0 }

/* A kernel version as kernel_version() (util/kernel.h) gives it. */
#define KERNEL_VERSION(major, minor) ((major) * 1000 + (minor))

/* Options a target accepts, each declared once here: options.c checks every
 * value against its declaration (type, range, words, scope), so hooks read
 * only valid values (options.h), and bpfiter.options exports the same
 * table to the CLI's parser and help and to the docs. */
enum option_type {
	OPT_INTEGER,
	OPT_BOOLEAN,
	OPT_STRING,
	OPT_INTEGER_OR_STRING,	/* e.g. an id or a path */
	OPT_FIELDS,		/* an array of the target's field names */
};

/* Where an option takes effect. */
enum option_scope {
	OPT_KERNEL = 1,		/* in the link info: fixed when a view is pinned */
	OPT_READER = 2,		/* a filter of the reader: given to bpfiter.open for views */
	OPT_LUA = 4,		/* resolved by the Lua layer before the core walk
				 * (pagecache.lua's path and pid) */
	OPT_INTERNAL = 8,	/* set by the Lua layer for the core, never public */
};

struct option {
	const char *name;
	enum option_type type;
	enum option_scope scope;
	lua_Integer min, max;		/* integers (either type): the accepted range */
	const char *const *words;	/* strings: the accepted words, NULL-terminated;
					 * NULL: any string (without NUL bytes) */
	bool required;
	const char *arg;		/* the value's name in help: "PID", "PATH" */
	const char *help;		/* one line, with the unit and the default */
	bool (*valid)(lua_Integer v);	/* optional: integers in range it rejects */
	const char *expect;		/* optional: what a value out of range (or
					 * not valid) must be, for the error */
};

#define OPTIONS_END { .name = NULL }

/* Filled by a target's attach hook: how to create its link. */
struct attach {
	union bpf_iter_link_info info;
	bool has_info;
	int fds[2];		/* opened for the link info; closed once it exists */
	int nfds;
	int held_fd;		/* -1, or an fd the program uses while the walk runs
				 * (the file a walk is about): closed with the
				 * iterator; a pinned view closes it at once */
};

struct bpf_object;
struct iterator;

struct target {
	const char *name;
	const char *help;			/* one line: what a record is */
	const char *program;			/* BPF program (function) name */
	const void *(*elf_bytes)(size_t *size);	/* from the skeleton */
	size_t record_size;
	const struct field *fields;
	const struct option *options;		/* accepted; NULL: none */

	/* Optional: the fields whose kernel work a walk not asking for them
	 * skips (WORK_END ends it). */
	const struct kernel_work *kernel_work;

	/* Optional: called once per Lua state and program variant between
	 * opening the BPF object and loading it, to set what the program cannot
	 * find in the kernel (load-time constants in .rodata, map sizes).
	 * Returns 0 or an errno. */
	int (*prepare)(struct bpf_object *obj);

	/* Optional: options -> link info. Returns 0, or pushes the failure
	 * triple (bpfiter_fail) and returns 3. */
	int (*attach)(lua_State *L, const struct target *t, int opts, struct attach *a);

	/* Optional: per-walk filter state, built from the options, for the
	 * records the kernel cannot filter for us. */
	size_t filter_size;
	void (*filter_init)(lua_State *L, int opts, void *filter);
	bool (*skip)(const void *rec, const void *filter);

	/* Optional: push fields derived from several record members into the
	 * table on top of the stack; `derived` declares them (DERIVED_END
	 * ends it), as it does what a step hook adds. */
	void (*derive)(lua_State *L, const void *rec);
	const struct derived_field *derived;
	/* derive also clears or replaces stored fields (files: the fd of a cwd
	 * record is nil), so it runs whichever fields a projection asks for. */
	bool derive_rewrites;

	/* The oldest kernel the program loads on, KERNEL_VERSION(6, 4), and
	 * what it needs from that kernel (a phrase: "the dmabuf iterator").
	 * On an older kernel a failed load is ENOTSUP, "needs kernel >= 6.4
	 * (...)". 0: every kernel bpfiter runs on (6.1 and later). */
	int min_kernel;
	const char *min_kernel_needs;

	/* The kernel never runs the program at the end of the walk (the dmabuf
	 * iterator), so no trailer comes: the end of input is the end of the
	 * walk, and an empty walk is an empty stream. */
	bool no_end_call;

	/* The program also writes records into a BPF_MAP_TYPE_RINGBUF map
	 * named BPFITER_RING_MAP, at the places BPFITER_KIND_RING markers give
	 * in the stream (bpf/iter_common.bpf.h: BPFITER_RING). The reader
	 * empties the ring after every read(). Such a target cannot be pinned:
	 * a view's readers have no access to the ring. */
	bool ring;

	/* With ring: the kernel's walk must end within one read() (the unix
	 * iterator loses sockets where a read() ends: see bpf/targets/
	 * unix.bpf.c). The program writes only the header and trailer to the
	 * stream and every record to the ring, and returns 1 when the ring is
	 * full; the reader then loads the program with a larger ring and walks
	 * again, before any record was taken (the link keeps its info: it
	 * gets the new program through bpf_link_update). */
	bool one_read;

	/* With ring: the program writes every record to the stream when read
	 * through a pinned view (a bpffs file), so the target can be pinned. */
	bool pin_without_ring;

	/* The program compares kernel addresses that libbpf takes from
	 * /proc/kallsyms (a function __ksym). kallsyms shows 0 for all of them
	 * to a process without CAP_SYSLOG (when perf_event_paranoid > 1 or
	 * kptr_restrict is set), so loading is refused there with a hint
	 * rather than running a program that compares with 0. */
	bool kallsyms;

	/* Optional: checks one record against what the program writes (its
	 * kind of record, the lengths and counts inside it against tail_len
	 * and the format's limits), before any decoder reads it. The stream
	 * (stream.c) has checked that the record and its tail_len bytes of
	 * tail are present. Returns NULL, or why the record is malformed. A
	 * record whose derive or step reads anything by a length or count
	 * inside it needs one: streams come from any file or BPF program. */
	const char *(*check)(const void *rec);

	/* Optional: the target's own step, for records that cannot be decoded
	 * one at a time (a join of two kinds of records). It takes raw records
	 * from iterator_next_record, pushes one value and returns 1, or returns
	 * 0 at the end. `state` is the per-walk area of filter_size bytes
	 * (zeroed, then filter_init); release frees what the step allocated
	 * there, and may be called more than once. skip and derive are not
	 * used then. */
	int (*step)(lua_State *L, struct iterator *it, void *state);
	void (*release)(void *state);
};

/* The registry (csrc/targets/registry.c), in the order bpfiter.targets lists them. */
extern const struct target *const bpfiter_targets[];
extern const size_t bpfiter_ntargets;

/* The target of that name in the registry, or NULL. */
const struct target *target_named(const char *name);

#endif
