/* Facts about the running kernel (kernel.h). */
#include "kernel.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
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

/* The kernel's BTF takes tens of ms to load and parse, and targets ask at
 * every program load (which program to embed, then its constants): the
 * answers are kept for the process (the running kernel does not change),
 * a handful of names, under a lock for hosts with Lua states in threads. */
#define KNOWN_MAX 8
static struct { const char *name; bool found; } known[KNOWN_MAX];
static int known_count;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

bool kernel_has_function(const char *name)
{
	struct btf *btf;
	bool found;

	pthread_mutex_lock(&known_lock);
	for (int i = 0; i < known_count; i++) {
		if (strcmp(known[i].name, name) == 0) {
			found = known[i].found;
			pthread_mutex_unlock(&known_lock);
			return found;
		}
	}
	btf = btf__load_vmlinux_btf();
	found = !libbpf_get_error(btf) && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
	if (!libbpf_get_error(btf)) {
		btf__free(btf);
		if (known_count < KNOWN_MAX)	/* names are string literals */
			known[known_count++] = (typeof(known[0])){ name, found };
	}
	pthread_mutex_unlock(&known_lock);
	return found;
}

bool kernel_enum_values(const char *type, const char *const names[], int n, long long values[])
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t;
	int id, found = 0;

	if (libbpf_get_error(btf))
		return false;
	id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	t = id > 0 ? btf__type_by_id(btf, (__u32)id) : NULL;
	for (int i = 0; t && i < n; i++) {
		const struct btf_enum *e = btf_enum(t);

		for (int j = 0; j < btf_vlen(t); j++, e++) {
			if (strcmp(btf__name_by_offset(btf, e->name_off), names[i]) == 0) {
				values[i] = e->val;
				found++;
				break;
			}
		}
	}
	btf__free(btf);
	return found == n;
}
