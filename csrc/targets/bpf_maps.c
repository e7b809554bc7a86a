/* bpf_maps: one record per BPF map (bpf_map iterator). */
#include "target.h"

#include <lauxlib.h>

#include "bpf_names.h"
#include "bpf_map_record.h"
#include "bpf_map.skel.h"

_Static_assert(sizeof(struct bpf_map_record) % 8 == 0, "records stay 8-byte aligned");

static const struct field bpf_map_fields[] = {
	FIELD(bpf_map_record, id, F_U32, "id", "", "map id"),
	FIELD(bpf_map_record, name, F_CHARS, "name", "", "map name"),
	FIELD(bpf_map_record, key_size, F_U32, "key_size", "bytes", "key size"),
	FIELD(bpf_map_record, value_size, F_U32, "value_size", "bytes", "value size (per CPU for per-CPU maps)"),
	FIELD(bpf_map_record, max_entries, F_U32, "max_entries", "count", "capacity in entries"),
	FIELD(bpf_map_record, map_flags, F_U32, "flags", "", "BPF_F_* map flags"),
	FIELD(bpf_map_record, map_extra, F_U64, "map_extra", "", "map_extra as created (bloom filter hashes, arena address)"),
	FIELD(bpf_map_record, frozen, F_BOOL, "frozen", "", "frozen: read-only for syscalls"),
	FIELDS_END,
};

/* Absent BTF is nil, not 0. */
static void set_id(lua_State *L, const char *name, uint32_t id)
{
	if (id) {
		lua_pushinteger(L, id);
		lua_setfield(L, -2, name);
	}
}

static void bpf_map_derive(lua_State *L, const void *rec)
{
	const struct bpf_map_record *r = rec;

	push_map_type_name(L, r->type);
	lua_setfield(L, -2, "type");
	set_id(L, "btf_id", r->btf_id);
	set_id(L, "btf_key_type_id", r->btf_key_type_id);
	set_id(L, "btf_value_type_id", r->btf_value_type_id);
}

static const struct derived_field bpf_map_derived[] = {
	DERIVED("type", "string", "", "map type as bpftool names it: hash, percpu_array, ..."),
	DERIVED("btf_id", "integer?", "", "BTF object id; nil without BTF"),
	DERIVED("btf_key_type_id", "integer?", "", "BTF type id of the key; nil when absent"),
	DERIVED("btf_value_type_id", "integer?", "", "BTF type id of the value; nil when absent"),
	DERIVED_END,
};

const struct target target_bpf_maps = {
	.name = "bpf_maps", .help = "one record per BPF map in the system",
	.program = "dump_bpf_map",
	.elf_bytes = bpf_map_bpf__elf_bytes,
	.record_size = sizeof(struct bpf_map_record),
	.fields = bpf_map_fields,
	.derive = bpf_map_derive,
	.derived = bpf_map_derived,
};
