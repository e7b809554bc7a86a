/* netlink: one record per netlink socket (netlink iterator). */
#include "target.h"

#include <lauxlib.h>

#include "sockets.h"
#include "netlink_record.h"
#include "netlink.skel.h"

static const struct field netlink_fields[] = {
	FIELD(netlink_record, protocol, F_U32, "protocol"),
	FIELD(netlink_record, portid, F_U32, "portid"),
	FIELD(netlink_record, dst_portid, F_U32, "dst_portid"),
	FIELD(netlink_record, dst_group, F_U32, "dst_group"),
	FIELD(netlink_record, groups, F_U32, "groups"),
	FIELD(netlink_record, ngroups, F_U32, "ngroups"),
	FIELD(netlink_record, rx_queue, F_U32, "rx_queue"),
	FIELD(netlink_record, tx_queue, F_U32, "tx_queue"),
	FIELD(netlink_record, drops, F_U32, "drops"),
	FIELD(netlink_record, inode, F_U64, "inode"),
	FIELD(netlink_record, cookie, F_U64, "cookie"),
	FIELD(netlink_record, netns, F_U32, "netns"),
	FIELDS_END,
};

/* NETLINK_* of linux/netlink.h, lower-cased without the prefix. */
static const char *const protocol_names[] = {
	[0] = "route", [1] = "unused", [2] = "usersock", [3] = "firewall",
	[4] = "sock_diag", [5] = "nflog", [6] = "xfrm", [7] = "selinux",
	[8] = "iscsi", [9] = "audit", [10] = "fib_lookup", [11] = "connector",
	[12] = "netfilter", [13] = "ip6_fw", [14] = "dnrtmsg",
	[15] = "kobject_uevent", [16] = "generic", [18] = "scsitransport",
	[19] = "ecryptfs", [20] = "rdma", [21] = "crypto", [22] = "smc",
};

static void netlink_derive(lua_State *L, const void *rec)
{
	const struct netlink_record *r = rec;

	if (r->protocol < sizeof(protocol_names) / sizeof(protocol_names[0]) &&
	    protocol_names[r->protocol]) {
		lua_pushstring(L, protocol_names[r->protocol]);
		lua_setfield(L, -2, "protocol_name");
	}
}

const struct target target_netlink = {
	.name = "netlink", .program = "dump_netlink",
	.elf_bytes = netlink_bpf__elf_bytes,
	.record_size = sizeof(struct netlink_record),
	.fields = netlink_fields, .options = socket_options, .derive = netlink_derive,
	.derived = (const char *const[]){ "protocol_name", NULL },
};
