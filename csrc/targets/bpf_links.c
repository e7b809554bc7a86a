/* bpf_links: one record per BPF link (bpf_link iterator). */
#include "target.h"

#include <lauxlib.h>

#include "bpf_names.h"
#include "bpf_link_record.h"
#include "bpf_link.skel.h"

_Static_assert(sizeof(struct bpf_link_record) % 8 == 0, "records stay 8-byte aligned");

static const struct field bpf_link_fields[] = {
	FIELD(bpf_link_record, id, F_U32, "id", "", "link id"),
	FIELDS_END,
};

static void set_nonzero(lua_State *L, const char *name, uint64_t v)
{
	if (v) {
		lua_pushinteger(L, (lua_Integer)v);
		lua_setfield(L, -2, name);
	}
}

static void bpf_link_derive(lua_State *L, const void *rec)
{
	const struct bpf_link_record *r = rec;

	push_link_type_name(L, r->type);
	lua_setfield(L, -2, "type");
	/* 0 is cgroup_inet_ingress, which only cgroup links can have; other
	 * links leave 0 when attach types do not apply to them. */
	if (r->attach_type != ~0u && (r->attach_type != 0 || r->type == BPF_LINK_TYPE_CGROUP)) {
		push_attach_type_name(L, r->attach_type);
		lua_setfield(L, -2, "attach_type");
	}
	set_nonzero(L, "prog_id", r->prog_id);
	set_nonzero(L, "map_id", r->map_id);
	set_nonzero(L, "cgroup_id", r->cgroup_id);
	if (r->tail_len) {
		/* named as bpftool names them */
		lua_pushlstring(L, (const char *)(r + 1), r->tail_len);
		lua_setfield(L, -2, r->type == BPF_LINK_TYPE_RAW_TRACEPOINT ? "tp_name" : "target_name");
	}
}

static const struct derived_field bpf_link_derived[] = {
	DERIVED("type", "string", "", "link type as bpftool names it: iter, raw_tracepoint, cgroup, ..."),
	DERIVED("attach_type", "string?", "", "attach type (e.g. trace_iter); nil where none applies"),
	DERIVED("prog_id", "integer", "", "id of the linked program"),
	DERIVED("map_id", "integer?", "", "iter links over a map: the map id"),
	DERIVED("target_name", "string?", "", "iter links: the iterator target"),
	DERIVED("tp_name", "string?", "", "raw tracepoint links: the tracepoint"),
	DERIVED("cgroup_id", "integer?", "", "cgroup links: id of the cgroup"),
	DERIVED_END,
};

const struct target target_bpf_links = {
	.name = "bpf_links", .help = "one record per BPF link in the system",
	.program = "dump_bpf_link",
	.elf_bytes = bpf_link_bpf__elf_bytes,
	.record_size = sizeof(struct bpf_link_record),
	.fields = bpf_link_fields,
	.derive = bpf_link_derive,
	.derived = bpf_link_derived,
};
