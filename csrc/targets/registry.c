/* The registry of iterator targets. Each target lives in its own
 * csrc/targets/NAME.c; adding one means adding it here too. */
#include "target.h"

#include <string.h>

extern const struct target target_tasks, target_files, target_vmas;
extern const struct target target_tcp, target_udp, target_unix, target_netlink;
extern const struct target target_bpf_progs, target_bpf_maps, target_bpf_links,
	target_map_elems, target_ksyms, target_kmem_caches, target_dmabufs;
extern const struct target target_cgroups;
extern const struct target target_epoll;
extern const struct target target_pagecache, target_cached_files;
#ifdef BPFITER_EXPERIMENTS
extern const struct target target_vmas_open;	/* build/exp: bench/vmas_open.lua */
#endif

const struct target *const bpfiter_targets[] = {
	&target_tasks,
	&target_files,
	&target_vmas,
	&target_tcp, &target_udp, &target_unix, &target_netlink,
	&target_bpf_progs, &target_bpf_maps, &target_bpf_links, &target_map_elems,
	&target_ksyms, &target_kmem_caches, &target_dmabufs,
	&target_cgroups,
	&target_epoll,
	&target_pagecache, &target_cached_files,
#ifdef BPFITER_EXPERIMENTS
	&target_vmas_open,
#endif
};

const size_t bpfiter_ntargets = sizeof(bpfiter_targets) / sizeof(bpfiter_targets[0]);

const struct target *target_named(const char *name)
{
	for (size_t i = 0; i < bpfiter_ntargets; i++)
		if (strcmp(bpfiter_targets[i]->name, name) == 0)
			return bpfiter_targets[i];
	return NULL;
}
