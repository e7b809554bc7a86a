/* libFuzzer harness over the stream decoding of every target: the input is
 * written to a memfd and read back through bpfiter.core.open(), the same C
 * that bpfiter.open() and `bpfiter cat` run (framing, field tables, derive
 * hooks and the targets' own step functions), in a Lua state.
 *
 * Input: one mode byte, then
 *   mode & 1 == 0: a whole stream, header included (the corpus is captured
 *                  views and files: stable when targets are added);
 *   mode & 1 == 1: a target byte (an index into the registry) and a stream
 *                  body; the harness writes that target's header first, so
 *                  mutations spend their time past the header;
 *   mode & 2 == 0: 64 KiB of end-of-walk trailers (the stream's header
 *                  as a trailer, over and over) follow the stream, so that
 *                  a length raised by one mutation finds its bytes present
 *                  and the stream still ends well: an attacker can put
 *                  anything after a record, and a target that gathers
 *                  records before yielding (epoll) reaches its decoder;
 *                  first, if (mode >> 2 & 7) is not 0, a record of zeros
 *                  with a tail of that * 8 bytes, which lines them up
 *                  behind any length;
 *                  mode & 2: the stream ends where the input does;
 *   mode & 32:     the stream has a ring (as a live walk of epoll or the
 *                  page cache has): the body is a u16 length, that many
 *                  stream bytes, then what the ring holds at each read():
 *                  chunks of a count byte and that many items, each a u16
 *                  size and the item's bytes.
 * BPFITER_FUZZ_TARGET=NAME limits the search to one target.
 * A clean run decodes or raises a "bpfiter: " error; a Lua error of any
 * other shape (a decoder indexing nil...) aborts, as does any ASan/UBSan
 * finding. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "bpfiter.h"
#include "iterator.h"
#include "record_common.h"
#include "stream.h"
#include "target.h"

static lua_State *L;
static int memfd = -1;
static char path[64];

/* The ring of mode & 32: what is left of the input's ring chunks. */
static const uint8_t *ring_in;
static size_t ring_left;

static uint16_t take_u16(const uint8_t **p, size_t *left)
{
	uint16_t v = 0;

	if (*left >= 2) {
		v = (uint16_t)((*p)[0] | (*p)[1] << 8);
		*p += 2;
		*left -= 2;
	}
	return v;
}

/* One read()'s worth of ring: the next chunk, as ring_buffer__consume
 * would hand it over. */
static int fake_consume(struct stream_ring *ring)
{
	int count, n = 0;

	if (!ring_left)
		return 0;
	count = *ring_in++;
	ring_left--;
	for (; n < count && ring_left; n++) {
		/* libbpf hands items over 8-byte aligned */
		static _Alignas(8) uint8_t item[65536];
		size_t size = take_u16(&ring_in, &ring_left);
		int rc;

		if (size > ring_left)
			size = ring_left;
		memcpy(item, ring_in, size);
		rc = stream_ring_item(ring, item, size);
		ring_in += size;
		ring_left -= size;
		if (rc)
			return rc;
	}
	return n;
}

static struct stream_ring fake_ring = { .consume = fake_consume };

/* ring_open(path): a walk over the stream at path with the fake ring, as
 * a live walk of the target its header names starts (stream_init: the
 * header is read and checked as the first item). */
static int ring_open(lua_State *L)
{
	const char *p = luaL_checkstring(L, 1);
	struct bpfiter_header h;
	char name[sizeof(h.target) + 1] = "";
	const struct target *t;
	struct stream s;
	int fd;

	if (pread(memfd, &h, sizeof(h), 0) == sizeof(h))
		memcpy(name, h.target, sizeof(h.target));
	t = target_named(name);
	if (!t) {
		lua_pushnil(L);
		lua_pushliteral(L, "harness: no target named");
		lua_pushinteger(L, 71);
		return 3;
	}
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || stream_init(&s, t, fd, &fake_ring))
		return luaL_error(L, "harness: %s", p);
	return iterator_push_view(L, &s, 0);
}
/* Opens the stream and walks it; at most 100,000 records (bounded time);
 * returns "ok", or the error message. A failed open must be EPROTO. */
static const char walk_chunk[] =
	"local open, path = ...\n"
	"local step, it, errno = open(path)\n"
	"if not step then\n"
	"  if errno ~= 71 then error('open failed without EPROTO: ' .. tostring(it), 0) end\n"
	"  return 'refused'\n"
	"end\n"
	"local ok, err = pcall(function()\n"
	"  local n = 0\n"
	"  for r in step, it, nil, it do\n"
	"    n = n + 1\n"
	"    assert(type(r) == 'table')\n"
	"    if n >= 100000 then break end\n"
	"  end\n"
	"end)\n"
	"it:close()\n"
	"if not ok and not tostring(err):match('^bpfiter: ') then error('not a bpfiter error: ' .. tostring(err), 0) end\n"
	"return ok and 'ok' or err\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "bpfiter.core", luaopen_bpfiter_core, 0);
	lua_getfield(L, -1, "open");
	lua_setglobal(L, "bpfiter_open");
	lua_pop(L, 1);
	if (luaL_loadstring(L, walk_chunk) != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		abort();
	}
	lua_setglobal(L, "bpfiter_walk");
	lua_pushcfunction(L, ring_open);
	lua_setglobal(L, "bpfiter_ring_open");
	memfd = memfd_create("bpfiter-fuzz", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void put(const void *p, size_t n, off_t *off)
{
	if (n && pwrite(memfd, p, n, *off) != (ssize_t)n) {
		perror("pwrite");
		abort();
	}
	*off += (off_t)n;
}

/* BPFITER_FUZZ_TARGET=NAME: inputs for other targets are rejected (kept
 * out of the corpus), to search one target's decoder. */
static bool other_target(const uint8_t *data, size_t size)
{
	const char *only = getenv("BPFITER_FUZZ_TARGET");
	char name[sizeof(((struct bpfiter_header *)0)->target) + 1] = "";
	size_t at = 1 + offsetof(struct bpfiter_header, target);

	if (!only)
		return false;
	if (data[0] & 1)
		snprintf(name, sizeof(name), "%s", bpfiter_targets[data[1] % bpfiter_ntargets]->name);
	else if (size >= at + sizeof(name) - 1)
		memcpy(name, data + at, sizeof(name) - 1);
	return strcmp(name, only) != 0;
}

/* The header as written, as a trailer, 64 KiB of it, after a record of
 * zeros with a tail of `skew` bytes. */
static void put_trailers(off_t *off, uint16_t skew)
{
	static char filler[1638 * sizeof(struct bpfiter_header)];
	static char zeros[4096 + 64];
	struct bpfiter_record_head head = { .kind = BPFITER_KIND_RECORD, .tail_len = skew };
	struct bpfiter_header h;

	if (pread(memfd, &h, sizeof(h), 0) != sizeof(h))
		memset(&h, 'A', sizeof(h));
	h.kind = BPFITER_KIND_END;
	for (size_t i = 0; i < sizeof(filler); i += sizeof(h))
		memcpy(filler + i, &h, sizeof(h));
	if (skew && h.record_size >= sizeof(head) && h.record_size <= 4096) {
		memcpy(zeros, &head, sizeof(head));
		put(zeros, h.record_size + skew, off);
	}
	put(filler, sizeof(filler), off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body;
	size_t body_len;
	off_t off = 0;

	if (size < 2 || ftruncate(memfd, 0) < 0)
		return 0;
	if (other_target(data, size))
		return -1;
	body = data + 1 + (data[0] & 1);
	body_len = size - 1 - (data[0] & 1);
	ring_left = 0;
	if (data[0] & 32) {
		size_t n = take_u16(&body, &body_len);

		if (n > body_len)
			n = body_len;
		ring_in = body + n;
		ring_left = body_len - n;
		body_len = n;
	}
	if (data[0] & 1) {
		struct bpfiter_header h = { .kind = BPFITER_KIND_BEGIN,
					    .version = BPFITER_FORMAT_VERSION,
					    .magic = BPFITER_MAGIC };
		const struct target *t;

		t = bpfiter_targets[data[1] % bpfiter_ntargets];
		h.record_size = (uint32_t)t->record_size;
		strncpy(h.target, t->name, sizeof(h.target));
		put(&h, sizeof(h), &off);
	}
	put(body, body_len, &off);
	if (!(data[0] & 2))
		put_trailers(&off, (uint16_t)((data[0] >> 2 & 7) * 8));
	lua_getglobal(L, "bpfiter_walk");
	lua_getglobal(L, data[0] & 32 ? "bpfiter_ring_open" : "bpfiter_open");
	lua_pushstring(L, path);
	if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
		fprintf(stderr, "harness: %s\n", lua_tostring(L, -1));
		abort();
	}
	if (getenv("BPFITER_FUZZ_VERBOSE"))
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
	lua_pop(L, 1);
	lua_gc(L, LUA_GCCOLLECT);
	return 0;
}
