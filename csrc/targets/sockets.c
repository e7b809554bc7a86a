/* What the socket targets (tcp, udp, unix, netlink) share in C. */
#include "target.h"
#include "sockets.h"

#include <stdint.h>

/* netns is resolved in Lua (lua/bpfiter/netns.lua: "all" is a walk per
 * namespace); the core walks one namespace, named by netns_path. */
const struct option socket_options[] = {
	{ .name = "netns", .type = OPT_INTEGER_OR_STRING, .scope = OPT_LUA,
	  .min = 0, .max = UINT32_MAX, .arg = "all|PATH|FD|INODE",
	  .expect = "\"all\", a namespace file, an open fd or a namespace inode",
	  .help = "network namespaces: \"all\" (held by a process or under /run/netns), "
		  "a file (/run/netns/NAME, /proc/PID/ns/net), an fd or an inode "
		  "(default: the caller's)" },
	{ .name = "netns_path", .type = OPT_STRING, .scope = OPT_INTERNAL, .arg = "PATH",
	  .help = "the network namespace file the walk enters" },
	{ .name = "netns_inode", .type = OPT_INTEGER, .scope = OPT_INTERNAL, .min = 1,
	  .max = UINT32_MAX, .arg = "INODE",
	  .help = "the inode netns_path must still have (a /proc/PID path may be reused)" },
	OPTIONS_END,
};
