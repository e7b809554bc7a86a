/* ksyms: one record per kernel symbol (ksym iterator), the lines of
 * /proc/kallsyms. */
#include "target.h"

#include <stdio.h>
#include <string.h>
#include <lauxlib.h>

#include "ksym_record.h"
#include "ksym.skel.h"

_Static_assert(sizeof(struct ksym_record) % 8 == 0, "records stay 8-byte aligned");

static const struct field ksym_fields[] = {
	FIELD(ksym_record, address, F_U64, "address", "", "symbol address (kernel addresses are negative Lua integers); 0 when hidden"),
	FIELD(ksym_record, type, F_CHAR, "type", "", "the symbol's type letter"),
	FIELD(ksym_record, tail_len, F_TAIL, "name", "", "symbol name"),
	FIELDS_END,
};

static void ksym_derive(lua_State *L, const void *rec)
{
	const struct ksym_record *r = rec;
	char hex[17];

	/* Kernel addresses are above 2^63: negative as Lua integers. The
	 * hex string is what /proc/kallsyms prints. */
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)r->address);
	lua_pushstring(L, hex);
	lua_setfield(L, -2, "address_hex");
	if (r->module[0]) {
		lua_pushlstring(L, r->module, strnlen(r->module, sizeof(r->module)));
		lua_setfield(L, -2, "module");
	}
}

static const struct derived_field ksym_derived[] = {
	DERIVED("address_hex", "string", "", "the address as 16 hex digits, as /proc/kallsyms"),
	DERIVED("module", "string?", "", "module name; nil for vmlinux"),
	DERIVED_END,
};

const struct target target_ksyms = {
	.name = "ksyms", .help = "one record per kernel symbol, as /proc/kallsyms",
	.program = "dump_ksym",
	.elf_bytes = ksym_bpf__elf_bytes,
	.record_size = sizeof(struct ksym_record),
	.fields = ksym_fields,
	.derive = ksym_derive,
	.derived = ksym_derived,
};
