/* unix: one record per unix domain socket (unix iterator). */
#include "target.h"

#include <string.h>
#include <lauxlib.h>

#include "sockets.h"
#include "unix_record.h"
#include "unix.skel.h"

static const struct field unix_fields[] = {
	FIELD(unix_record, inode, F_U64, "inode"),
	FIELD(unix_record, peer_inode, F_U64, "peer_inode"),
	FIELD(unix_record, uid, F_U32, "uid"),
	FIELD(unix_record, rx_queue, F_U32, "rx_queue"),
	FIELD(unix_record, tx_queue, F_U32, "tx_queue"),
	FIELD(unix_record, cookie, F_U64, "cookie"),
	FIELD(unix_record, netns, F_U32, "netns"),
	FIELDS_END,
};

static const char *unix_type_name(unsigned type)
{
	switch (type) {
	case 1: return "stream";
	case 2: return "dgram";
	case 5: return "seqpacket";
	}
	return "unknown";
}

/* The address as ss and /proc/net/unix show it: a path up to its NUL; an
 * abstract name (leading NUL) as "@name", with NULs inside shown as '@'. */
static void push_address(lua_State *L, const struct unix_record *r)
{
	const char *sun_path = (const char *)r + sizeof(*r);
	size_t len = r->tail_len;
	char name[UNIX_RECORD_PATH_MAX + 1];

	if (len == 0 || len > UNIX_RECORD_PATH_MAX)
		return;
	if (sun_path[0] != '\0') {
		lua_pushlstring(L, sun_path, strnlen(sun_path, len));
		lua_setfield(L, -2, "path");
		lua_pushboolean(L, 0);
	} else {
		for (size_t i = 0; i < len; i++)
			name[i] = sun_path[i] ? sun_path[i] : '@';
		lua_pushlstring(L, name, len);
		lua_setfield(L, -2, "path");
		lua_pushboolean(L, 1);
	}
	lua_setfield(L, -2, "abstract");
}

static void unix_derive(lua_State *L, const void *rec)
{
	const struct unix_record *r = rec;
	const char *state = ss_state_name(r->state);

	lua_pushstring(L, unix_type_name(r->type));
	lua_setfield(L, -2, "type");
	lua_pushstring(L, state ? state : "UNKNOWN");
	lua_setfield(L, -2, "state");
	push_address(L, r);
}

const struct target target_unix = {
	.name = "unix", .program = "dump_unix",
	.elf_bytes = unix_bpf__elf_bytes,
	.record_size = sizeof(struct unix_record),
	.fields = unix_fields, .options = socket_options, .derive = unix_derive,
	.derived = (const char *const[]){ "type", "state", "path", "abstract", NULL },
	.ring = true, .one_read = true,	/* see bpf/targets/unix.bpf.c */
};
