/* A process whose mappings keep changing, for spec/03-vmas_spec.lua: walks
 * of it must still come out in strict address order.
 *
 *   vma_churn PAGES READY
 *
 * Maps PAGES pages of a memfd in one block (file offset = address - START),
 * every other page read-only, so the block is PAGES separate mappings; writes "block START PAGES" to READY; then,
 * until its stdin reaches EOF, flips odd pages picked at random between
 * writable (merged with both neighbours into one mapping that starts a
 * page lower) and read-only (split off again), in a thread of its own.
 * Each change takes the mmap lock for writing, which makes a walk drop it
 * and find its place again in the changed mappings; so does every read()
 * boundary of a walk.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "fixture_ready.h"

static long page, pages;
static char *block;

static void *churn(void *arg)
{
	uint32_t seed = 12345;
	char *writable = calloc((size_t)pages, 1);

	(void)arg;
	if (!writable)
		die("calloc");
	for (;;) {
		long i;

		seed = seed * 1103515245 + 12345;
		i = 1 + 2 * (long)((seed >> 8) % (uint32_t)(pages / 2 - 1));
		writable[i] = !writable[i];
		if (mprotect(block + i * page, page, writable[i] ? PROT_READ | PROT_WRITE : PROT_READ))
			die("mprotect");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int memfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	page = sysconf(_SC_PAGESIZE);
	if (argc != 3 || (pages = atol(argv[1])) < 8) {
		fprintf(stderr, "usage: see the comment at the top of spec/vma_churn.c\n");
		return 2;
	}
	ready_open(argv[2]);
	memfd = memfd_create("vma_churn", 0);
	if (memfd < 0 || ftruncate(memfd, pages * page))
		die("memfd");
	block = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, memfd, 0);
	if (block == MAP_FAILED)
		die("mmap");
	for (long i = 1; i < pages; i += 2)
		if (mprotect(block + i * page, page, PROT_READ))
			die("mprotect");
	fprintf(ready, "block %lu %ld\n", (unsigned long)block, pages);
	if (pthread_create(&t, NULL, churn, NULL))
		die("pthread_create");
	ready_done_and_wait();
	return 0;
}
