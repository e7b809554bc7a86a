/* unix: one record per unix domain socket (unix iterator). */
#include "target.h"

#include <string.h>
#include <lauxlib.h>

#include "sockets.h"
#include "unix_record.h"
#include "unix.skel.h"

static const struct field unix_fields[] = {
	FIELD(unix_record, inode, F_U64, "inode", "", "socket inode; 0 for none"),
	FIELD(unix_record, peer_inode, F_U64, "peer_inode", "", "peer's inode; 0 for none"),
	FIELD(unix_record, uid, F_U32, "uid", "", "owner uid"),
	FIELD(unix_record, rx_queue, F_U32, "rx_queue", "bytes", "unread bytes (LISTEN: connections waiting for accept)"),
	FIELD(unix_record, tx_queue, F_U32, "tx_queue", "bytes", "bytes sent still unread at the receiver (LISTEN: max backlog)"),
	FIELD(unix_record, cookie, F_U64, "cookie", "", "socket cookie (SO_COOKIE)"),
	FIELD(unix_record, netns, F_U32, "netns", "", "inode of the socket's network namespace (readlink /proc/PID/ns/net)"),
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

static const struct derived_field unix_derived[] = {
	DERIVED("type", "string", "", "stream, dgram or seqpacket"),
	DERIVED("state", "string", "", "as ss names it: LISTEN, ESTAB, UNCONN, ..."),
	DERIVED("path", "string?", "", "path, or abstract name as @name; nil when unbound"),
	DERIVED("abstract", "boolean?", "", "true for an abstract name, false for a path, nil when unbound"),
	DERIVED_END,
};

const struct target target_unix = {
	.name = "unix", .help = "one record per unix socket of the caller's network namespace (or those netns names)",
	.program = "dump_unix",
	.elf_bytes = unix_bpf__elf_bytes,
	.record_size = sizeof(struct unix_record),
	.fields = unix_fields, .options = socket_options, .derive = unix_derive,
	.derived = unix_derived,
	.ring = true, .one_read = true,	/* see bpf/targets/unix.bpf.c */
};
