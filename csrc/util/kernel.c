/* Facts about the running kernel (kernel.h). */
#include "kernel.h"

#include <stdio.h>
#include <sys/utsname.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

int kernel_version(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

bool kernel_has_function(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (libbpf_get_error(btf))
		return false;
	found = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return found;
}
