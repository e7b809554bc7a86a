/* The handshake every spec fixture (spec/NAME.c) has with spec/helper.lua:
 * what it built goes to READY as "key value..." lines, written to READY.tmp
 * and renamed into place when complete; then it waits for stdin to reach
 * EOF (the spec closing its pipe) and exits. */
#ifndef BPFITER_FIXTURE_READY_H
#define BPFITER_FIXTURE_READY_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static FILE *ready;
static char ready_path[4096];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void ready_open(const char *path)
{
	char tmp[4200];

	snprintf(ready_path, sizeof(ready_path), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ready = fopen(tmp, "w");
	if (!ready)
		die("ready file");
	fprintf(ready, "pid %d\n", getpid());
}

/* Publishes READY without waiting (for fixtures that keep working). */
static void ready_publish(void)
{
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.tmp", ready_path);
	fclose(ready);
	if (rename(tmp, ready_path))
		die("rename");
}

static void ready_done_and_wait(void)
{
	char buf[64];

	ready_publish();
	while (read(0, buf, sizeof(buf)) > 0)
		;
}

#endif
