/* CPU load for spec/22-cpu_wait_spec.lua. Like spec/fixture.c it writes
 * what it started to READY (renamed into place when complete), runs until
 * its stdin reaches EOF, and dies with its parent.
 *
 *   cpu_load spin N CPU READY     N threads spinning, all pinned to CPU
 *   cpu_load nap N MS CPU READY   N threads sleeping MS ms in a loop,
 *                                 pinned to CPU (-1: not pinned)
 *
 * READY holds "pid P" and "tids T1 T2 ..." (the worker threads). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define MAX_THREADS 64

static int cpu = -1;
static long nap_ms;
static pid_t tids[MAX_THREADS];
static pthread_barrier_t started;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void pin(void)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void *worker(void *arg)
{
	volatile unsigned long spins = 0;
	struct timespec ts = { nap_ms / 1000, (nap_ms % 1000) * 1000000L };

	tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	pin();
	pthread_barrier_wait(&started);
	for (;;) {
		if (nap_ms)
			nanosleep(&ts, NULL);
		else
			spins++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char tmp[4200], buf[64];
	const char *ready;
	int n;
	FILE *f;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc == 5 && strcmp(argv[1], "spin") == 0) {
		n = atoi(argv[2]);
		cpu = atoi(argv[3]);
		ready = argv[4];
	} else if (argc == 6 && strcmp(argv[1], "nap") == 0) {
		n = atoi(argv[2]);
		nap_ms = atol(argv[3]);
		cpu = atoi(argv[4]);
		ready = argv[5];
		if (nap_ms <= 0)
			nap_ms = 1;
	} else {
		fprintf(stderr, "usage: cpu_load spin N CPU READY | nap N MS CPU READY\n");
		return 2;
	}
	if (n < 1 || n > MAX_THREADS)
		die("thread count");
	pthread_barrier_init(&started, NULL, (unsigned)n + 1);
	for (long i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, (void *)i))
			die("pthread_create");
	}
	pthread_barrier_wait(&started);

	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	f = fopen(tmp, "w");
	if (!f)
		die("ready file");
	fprintf(f, "pid %d\ntids", getpid());
	for (int i = 0; i < n; i++)
		fprintf(f, " %d", tids[i]);
	fprintf(f, "\n");
	fclose(f);
	if (rename(tmp, ready))
		die("rename");
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
