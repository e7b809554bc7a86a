/* bpf_progs: one record per loaded BPF program (bpf_prog iterator). */
#include "target.h"

#include <string.h>
#include <lauxlib.h>

#include "bpf_names.h"
#include "bpf_prog_record.h"
#include "bpf_prog.skel.h"

_Static_assert(sizeof(struct bpf_prog_record) % 8 == 0, "records stay 8-byte aligned");

static const struct field bpf_prog_fields[] = {
	FIELD(bpf_prog_record, id, F_U32, "id", "", "program id"),
	FIELD(bpf_prog_record, name, F_CHARS, "name", "", "program name"),
	FIELD(bpf_prog_record, load_time_ns, F_U64, "load_time_ns", "ns", "load time since boot (CLOCK_BOOTTIME)"),
	FIELD(bpf_prog_record, uid, F_U32, "uid", "", "uid of who loaded it"),
	FIELD(bpf_prog_record, xlated_bytes, F_U32, "xlated_bytes", "bytes", "size of the translated instructions"),
	FIELD(bpf_prog_record, jited_bytes, F_U32, "jited_bytes", "bytes", "size of the JIT-compiled code"),
	FIELD(bpf_prog_record, memlock_bytes, F_U32, "memlock_bytes", "bytes", "memory charged to it"),
	FIELD(bpf_prog_record, verified_insns, F_U32, "verified_insns", "count", "instructions the verifier processed"),
	FIELD(bpf_prog_record, gpl_compatible, F_BOOL, "gpl_compatible", "", "licence is GPL compatible"),
	FIELD(bpf_prog_record, jited, F_BOOL, "jited", "", "JIT-compiled"),
	FIELD(bpf_prog_record, sleepable, F_BOOL, "sleepable", "", "may sleep"),
	FIELDS_END,
};

static void bpf_prog_derive(lua_State *L, const void *rec)
{
	const struct bpf_prog_record *r = rec;
	const unsigned char *tail = (const unsigned char *)(r + 1);
	char tag[2 * sizeof(r->tag) + 1];
	uint32_t id;

	push_prog_type_name(L, r->type);
	lua_setfield(L, -2, "type");
	/* bpftool prints the tag as 16 hex digits */
	for (size_t i = 0; i < sizeof(r->tag); i++)
		snprintf(tag + 2 * i, 3, "%02x", r->tag[i]);
	lua_pushstring(L, tag);
	lua_setfield(L, -2, "tag");
	if (r->btf_id) {
		lua_pushinteger(L, r->btf_id);
		lua_setfield(L, -2, "btf_id");
	}
	lua_createtable(L, r->tail_len / 4, 0);
	for (int i = 0; i < r->tail_len / 4; i++) {
		memcpy(&id, tail + 4 * i, 4);
		lua_pushinteger(L, id);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "map_ids");
}

static const struct derived_field bpf_prog_derived[] = {
	DERIVED("type", "string", "", "program type as bpftool names it: tracing, socket_filter, ..."),
	DERIVED("tag", "string", "", "16 hex digits, as bpftool shows it"),
	DERIVED("btf_id", "integer?", "", "BTF object id; nil without BTF"),
	DERIVED("map_ids", "integer[]", "", "ids of the maps it uses"),
	DERIVED_END,
};

const struct target target_bpf_progs = {
	.name = "bpf_progs", .help = "one record per loaded BPF program in the system",
	.program = "dump_bpf_prog",
	.elf_bytes = bpf_prog_bpf__elf_bytes,
	.record_size = sizeof(struct bpf_prog_record),
	.fields = bpf_prog_fields,
	.derive = bpf_prog_derive,
	.derived = bpf_prog_derived,
};
