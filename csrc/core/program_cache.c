/* The verified-program cache: a program verified once per boot is pinned in
 * a root-only bpffs directory and reused by later processes, which then skip
 * CO-RE and the verifier (tens of ms per target). Safe by construction:
 *  - only programs whose maps hold nothing across walks are cached (per-CPU
 *    scratch arrays, read-only .rodata and .kconfig, and LRU hashes named session_*
 *    keyed by bpf_iter_meta.session_id, which is unique per walk system-wide):
 *    a cached program shares its maps with every process using it, so ring
 *    buffers, global cursors and other walk state would leak between walks;
 *  - the key hashes the embedded object, its load-time constants, the
 *    kernel release and the boot id, so a stale entry is never found;
 *  - the directory must be a bpffs directory owned by root, mode 0700, and
 *    only a root process with the BPF capabilities reads or writes it;
 *  - an entry is checked (program type and name) before use; a foreign one
 *    is removed and replaced.
 * Without bpffs, or for anyone else, programs load as before. */
#include "program_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>

#include <lauxlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errors.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define DEFAULT_DIR "/sys/fs/bpf/bpfiter-programs"
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

/* FNV-1a, twice with different bases: 128 bits against accidental equality
 * (the directory's permissions, not the hash, keep others out). */
struct key_hash {
	uint64_t a, b;
};

static void hash_bytes(struct key_hash *h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h->a = (h->a ^ c[i]) * 0x100000001b3ULL;
		h->b = (h->b ^ c[i]) * 0x100000001b3ULL;
	}
}

static bool read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* A root process that could load the programs itself: uid 0 with CAP_BPF
 * and CAP_PERFMON, or CAP_SYS_ADMIN. Anyone else loads as before. */
static bool may_use_cache(void)
{
	char status[4096];
	const char *line;
	unsigned long long eff;

	if (geteuid() != 0 || !read_small_file("/proc/self/status", status, sizeof(status)))
		return false;
	line = strstr(status, "\nCapEff:");
	if (!line || sscanf(line + 8, "%llx", &eff) != 1)
		return false;
	return (eff >> CAP_SYS_ADMIN_BIT & 1) ||
	       ((eff >> CAP_BPF_BIT & 1) && (eff >> CAP_PERFMON_BIT & 1));
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC;
}

/* The cache directory into dir, created if absent, or false (with the
 * reason in why) when the cache is off or not trustworthy. */
static bool cache_dir(char *dir, size_t size, const char **why)
{
	const char *env = getenv("BPFITER_PROGRAM_CACHE");
	struct stat st;

	if (env && !*env) {
		*why = "turned off (BPFITER_PROGRAM_CACHE is empty)";
		return false;
	}
	if ((size_t)snprintf(dir, size, "%s", env ? env : DEFAULT_DIR) >= size || dir[0] != '/') {
		*why = "BPFITER_PROGRAM_CACHE must be an absolute path";
		return false;
	}
	if (!may_use_cache()) {
		*why = "needs root with CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)";
		return false;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		*why = "cannot create the directory (is bpffs mounted?)";
		return false;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0) {
		*why = "the directory is not root's own with mode 0700: not used";
		return false;
	}
	if (!on_bpffs(dir)) {
		*why = "the directory is not on bpffs";
		return false;
	}
	return true;
}

bool program_cache_key(const struct target *t, struct bpf_object *obj, const void *elf,
		       size_t size, char key[PROGRAM_CACHE_KEY_LEN + 1])
{
	struct key_hash h = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	char boot_id[64] = "";
	struct utsname u;
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		enum bpf_map_type type = bpf_map__type(m);
		const char *name = bpf_map__name(m);
		size_t vsize;
		const void *v;

		if (type == BPF_MAP_TYPE_PERCPU_ARRAY)
			continue;	/* scratch, used within one call */
		if (type == BPF_MAP_TYPE_LRU_HASH && strncmp(name, "session_", 8) == 0 &&
		    bpf_map__key_size(m) == sizeof(__u64))
			continue;	/* per walk: keyed by bpf_iter_meta.session_id */
		/* .kconfig: values libbpf takes from the running kernel, whose
		 * release the key holds */
		if (type != BPF_MAP_TYPE_ARRAY || !bpf_map__is_internal(m) ||
		    (!strstr(name, ".rodata") && !strstr(name, ".kconfig")) ||
		    !(bpf_map__map_flags(m) & BPF_F_RDONLY_PROG))
			return false;	/* state that outlives a call: not shared */
		v = bpf_map__initial_value(m, &vsize);
		if (v)
			hash_bytes(&h, v, vsize);
	}
	hash_bytes(&h, t->name, strlen(t->name) + 1);
	hash_bytes(&h, elf, size);
	if (uname(&u) == 0)
		hash_bytes(&h, u.release, strlen(u.release));
	read_small_file("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));
	hash_bytes(&h, boot_id, strlen(boot_id));
	snprintf(key, PROGRAM_CACHE_KEY_LEN + 1, "%016llx%016llx", (unsigned long long)h.a,
		 (unsigned long long)h.b);
	return true;
}

static bool entry_path(const struct target *t, const char *key, char *path, size_t size)
{
	char dir[256];
	const char *why;

	return cache_dir(dir, sizeof(dir), &why) &&
	       (size_t)snprintf(path, size, "%s/%s-%s", dir, t->name, key) < size;
}

/* Is fd an iterator program named like t's? */
static bool is_ours(const struct target *t, int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	       info.type == BPF_PROG_TYPE_TRACING &&
	       strncmp(info.name, t->program, sizeof(info.name) - 1) == 0;
}

int program_cache_get(const struct target *t, const char *key)
{
	char path[512];
	int fd;

	if (!entry_path(t, key, path, sizeof(path)))
		return -1;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	if (!is_ours(t, fd)) {	/* foreign or damaged: replaced by the caller's load */
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

void program_cache_put(const struct target *t, const char *key, int prog_fd)
{
	char path[512], tmp[540];

	if (!entry_path(t, key, path, sizeof(path)))
		return;
	/* Pinned beside, then renamed: readers never see a half-made entry.
	 * bpffs refuses dots in names. */
	snprintf(tmp, sizeof(tmp), "%s-tmp-%d", path, (int)getpid());
	unlink(tmp);
	if (bpf_obj_pin(prog_fd, tmp) != 0)
		return;
	if (rename(tmp, path) != 0)
		unlink(tmp);
}

/* An entry's name is TARGET-KEY: the key is PROGRAM_CACHE_KEY_LEN hex digits. */
static bool is_entry_name(const char *name)
{
	const char *dash = strrchr(name, '-');

	return dash && dash != name && strlen(dash + 1) == PROGRAM_CACHE_KEY_LEN &&
	       strspn(dash + 1, "0123456789abcdef") == PROGRAM_CACHE_KEY_LEN;
}

/* core.program_cache() -> {dir =, enabled =, reason =, entries = {{target =,
 * file =, id =, name =, tag =}, ...}} */
static int cache_list(lua_State *L)
{
	char dir[256], path[512];
	const char *why = NULL;
	bool enabled = cache_dir(dir, sizeof(dir), &why);
	DIR *d;
	struct dirent *e;
	int n = 0;

	lua_createtable(L, 0, 4);
	lua_pushstring(L, dir);
	lua_setfield(L, -2, "dir");
	lua_pushboolean(L, enabled);
	lua_setfield(L, -2, "enabled");
	if (why) {
		lua_pushstring(L, why);
		lua_setfield(L, -2, "reason");
	}
	lua_newtable(L);
	d = enabled ? opendir(dir) : NULL;
	while (d && (e = readdir(d))) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		char tag[2 * BPF_TAG_SIZE + 1];
		int fd;

		if (!is_entry_name(e->d_name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			for (int i = 0; i < BPF_TAG_SIZE; i++)
				snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
			lua_createtable(L, 0, 5);
			lua_pushlstring(L, e->d_name, (size_t)(strrchr(e->d_name, '-') - e->d_name));
			lua_setfield(L, -2, "target");
			lua_pushstring(L, path);
			lua_setfield(L, -2, "file");
			lua_pushinteger(L, info.id);
			lua_setfield(L, -2, "id");
			lua_pushstring(L, info.name);
			lua_setfield(L, -2, "name");
			lua_pushstring(L, tag);
			lua_setfield(L, -2, "tag");
			lua_rawseti(L, -2, ++n);
		}
		close(fd);
	}
	if (d)
		closedir(d);
	lua_setfield(L, -2, "entries");
	return 1;
}

/* core.program_cache_clear() -> number removed, or nil, message, errno */
static int cache_clear(lua_State *L)
{
	char dir[256], path[512];
	const char *why = NULL;
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (!cache_dir(dir, sizeof(dir), &why))
		return bpfiter_fail(L, EPERM, "program cache", "%s", why);
	d = opendir(dir);
	if (!d)
		return bpfiter_fail(L, errno, "program cache", "%s", dir);
	while ((e = readdir(d)))
		if (is_entry_name(e->d_name) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path) &&
		    unlink(path) == 0)
			n++;
	closedir(d);
	lua_pushinteger(L, n);
	return 1;
}

void program_cache_register(lua_State *L)
{
	lua_pushcfunction(L, cache_list);
	lua_setfield(L, -2, "program_cache");
	lua_pushcfunction(L, cache_clear);
	lua_setfield(L, -2, "program_cache_clear");
}
