/* dmabufs: one record per DMA buffer (dmabuf iterator). */
#include "target.h"

#include <string.h>
#include <lauxlib.h>

#include "dmabuf_record.h"
#include "dmabuf.skel.h"

_Static_assert(sizeof(struct dmabuf_record) % 8 == 0, "records stay 8-byte aligned");

static const struct field dmabuf_fields[] = {
	FIELD(dmabuf_record, inode, F_U64, "inode", "", "inode of the buffer"),
	FIELD(dmabuf_record, size, F_U64, "size", "bytes", "buffer size"),
	FIELD(dmabuf_record, exporter, F_CHARS, "exporter", "", "name of the exporting driver"),
	FIELDS_END,
};

static void dmabuf_derive(lua_State *L, const void *rec)
{
	const struct dmabuf_record *r = rec;

	if (r->name[0]) {
		lua_pushlstring(L, r->name, strnlen(r->name, sizeof(r->name)));
		lua_setfield(L, -2, "name");
	}
}

static const struct derived_field dmabuf_derived[] = {
	DERIVED("name", "string?", "", "buffer name; nil when unnamed"),
	DERIVED_END,
};

const struct target target_dmabufs = {
	.name = "dmabufs", .help = "one record per DMA buffer",
	.program = "dump_dmabuf",
	.elf_bytes = dmabuf_bpf__elf_bytes,
	.min_kernel = KERNEL_VERSION(6, 16), .min_kernel_needs = "the dmabuf iterator",
	.record_size = sizeof(struct dmabuf_record),
	.fields = dmabuf_fields,
	.derive = dmabuf_derive,
	.derived = dmabuf_derived,
	/* dmabuf_iter_seq_stop() does not run the program: no trailer */
	.no_end_call = true,
};
