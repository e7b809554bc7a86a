/* Ground truth for spec/11-bpf_objects_spec.lua: BPF links of two kinds
 * bpftool cannot create, made with the bpf() syscall alone (no libbpf):
 *
 *   bpf_links CGROUP_DIR READY   a raw_tracepoint link on sched_switch, and
 *                                a cgroup link (inet ingress) on CGROUP_DIR
 *
 * Writes "raw_tp_link ID", "raw_tp_prog ID", "cgroup_link ID",
 * "cgroup_prog ID" to READY (renamed into place when complete), then holds
 * the links until its stdin reaches EOF. It dies with its parent. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* r0 = ret; exit */
static int load(enum bpf_prog_type type, enum bpf_attach_type attach, int ret, const char *name)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.expected_attach_type = attach;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = 2;
	attr.license = (uintptr_t)"GPL";
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", name);
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd < 0)
		die("BPF_PROG_LOAD");
	return fd;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr))
		die("prog info");
	return info.id;
}

static uint32_t link_id(int fd)
{
	struct bpf_link_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr))
		die("link info");
	return info.id;
}

int main(int argc, char **argv)
{
	union bpf_attr attr;
	char tmp[4200], buf[64];
	int raw_prog, raw_link, cg_prog, cg_link, cg_fd;
	FILE *ready;

	if (argc != 3) {
		fprintf(stderr, "usage: bpf_links CGROUP_DIR READY\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	raw_prog = load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, "spec_raw_tp");
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.name = (uintptr_t)"sched_switch";
	attr.raw_tracepoint.prog_fd = raw_prog;
	raw_link = sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &attr);
	if (raw_link < 0)
		die("BPF_RAW_TRACEPOINT_OPEN");

	cg_prog = load(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 1, "spec_cgroup");
	cg_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0)
		die(argv[1]);
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = cg_prog;
	attr.link_create.target_fd = cg_fd;
	attr.link_create.attach_type = BPF_CGROUP_INET_INGRESS;
	cg_link = sys_bpf(BPF_LINK_CREATE, &attr);
	if (cg_link < 0)
		die("BPF_LINK_CREATE");

	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	ready = fopen(tmp, "w");
	if (!ready)
		die("ready file");
	fprintf(ready, "pid %d\n", getpid());
	fprintf(ready, "raw_tp_link %u\nraw_tp_prog %u\n", link_id(raw_link), prog_id(raw_prog));
	fprintf(ready, "cgroup_link %u\ncgroup_prog %u\n", link_id(cg_link), prog_id(cg_prog));
	fclose(ready);
	if (rename(tmp, argv[2]))
		die("rename");
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
