/* Ground truth for spec/12-kernel_tables_spec.lua: kernel objects in a slab
 * cache nothing else on the machine uses.
 *
 *   slab_objects N READY   holds N userfaultfd contexts (one object each in
 *                          userfaultfd_ctx_cache)
 *
 * Writes "pid PID" and "objects N" to READY (renamed into place when
 * complete), then holds them until its stdin reaches EOF. It dies with its
 * parent. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	char tmp[4200], buf[64];
	FILE *ready;
	int n;

	if (argc != 3) {
		fprintf(stderr, "usage: slab_objects N READY\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	n = atoi(argv[1]);
	for (int i = 0; i < n; i++)
		if (syscall(SYS_userfaultfd, O_CLOEXEC) < 0)
			die("userfaultfd");
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	ready = fopen(tmp, "w");
	if (!ready)
		die("ready file");
	fprintf(ready, "pid %d\nobjects %d\n", getpid(), n);
	fclose(ready);
	if (rename(tmp, argv[2]))
		die("rename");
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
