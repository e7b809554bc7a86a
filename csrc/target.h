/* What the generic core needs to know about one iterator target. Adding a
 * target means one BPF program, its record header and one entry in
 * targets.c; nothing else in csrc/ changes. */
#ifndef BPFITER_TARGET_H
#define BPFITER_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lua.h>

enum field_type {
	F_U32, F_S32, F_U64, F_S64,
	F_CHARS,	/* NUL-padded char array -> string */
	F_CHAR,		/* one char -> one-letter string */
	F_BOOL,		/* u8 -> boolean */
	F_DEV,		/* u32 kernel dev_t -> userland dev_t (as stat() gives) */
	F_MAJOR,	/* u32 kernel dev_t -> its major number */
	F_MINOR,	/* u32 kernel dev_t -> its minor number */
	F_TAIL,		/* u16 length of the string following the record -> string or nil */
};

struct field {
	const char *name;
	uint16_t offset;
	uint8_t type;
	uint8_t size;
};

#define FIELD(rec, member, type, name) \
	{ name, offsetof(struct rec, member), type, sizeof(((struct rec *)0)->member) }
#define FIELDS_END { NULL, 0, 0, 0 }

/* Options a target may accept; the core parses and checks them. */
enum option_bit {
	OPT_PID = 1 << 0,	/* pid=N: one process (or thread) only */
	OPT_THREADS = 1 << 1,	/* threads=false: one record per process */
};

struct iter_options {
	lua_Integer pid;	/* 0: every process */
	bool threads;		/* default true */
};

struct target {
	const char *name;
	const char *program;			/* BPF program (function) name */
	const void *(*elf_bytes)(size_t *size);	/* from the skeleton */
	size_t record_size;
	const struct field *fields;
	unsigned options;			/* OPT_* accepted */
	/* Optional: drop a record the kernel could not filter for us. */
	bool (*skip)(const void *rec, const struct iter_options *opts);
	/* Optional: push fields derived from several record members into the
	 * table on top of the stack. */
	void (*derive)(lua_State *L, const void *rec);
};

extern const struct target bpfiter_targets[];
extern const size_t bpfiter_ntargets;

#endif
