// SPDX-License-Identifier: GPL-2.0
/* ksyms: one record per kernel symbol, from the ksym iterator, as
 * /proc/kallsyms shows them (s_show() in kernel/kallsyms.c). */
#include "iter_common.bpf.h"
#include "ksym_record.h"

BPFITER_SCRATCH(ksym_record)
BPFITER_TARGET("ksyms", ksym_record);

#define KSYM_NAME_LEN 512

/* The end of the walk is not signalled with a NULL symbol, as other
 * iterators do: at the end the kernel passes its kallsym_iter as the last,
 * failed, lookup left it. That lookup (get_ksymbol_kprobe(), the last
 * source) sets the module to "__builtin__kprobes" and keeps the address,
 * type and name of the previous symbol; and the walk's seq_num only grows
 * when the kernel found another symbol. So a call with that module and the
 * seq_num, address and type of the call before it is the end. Symbols
 * outside vmlinux are few; their calls are remembered here, per walk
 * (session). Kernels without kprobes, like this one, never show symbols of
 * that module otherwise. */
struct ksym_seen {
	__u64 seq_num;
	__u64 value;
	char type;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);		/* session id */
	__type(value, struct ksym_seen);
} session_seen SEC(".maps");

static __always_inline bool is_kprobes_module(const char *m)
{
	static const char kprobes[] = "__builtin__kprobes";

	for (int i = 0; i < sizeof(kprobes); i++)
		if (m[i] != kprobes[i])
			return false;
	return true;
}

/* True at the end of the walk; remembers this symbol otherwise. */
static __always_inline bool walk_ended(struct bpf_iter_meta *meta, struct kallsym_iter *it,
				       const char *module)
{
	__u64 session = meta->session_id;
	struct ksym_seen *seen = bpf_map_lookup_elem(&session_seen, &session);
	struct ksym_seen now = { .seq_num = meta->seq_num, .value = it->value, .type = it->type };

	if (is_kprobes_module(module) &&
	    (!seen || (seen->seq_num == now.seq_num && seen->value == now.value &&
		       seen->type == now.type))) {
		bpf_map_delete_elem(&session_seen, &session);
		return true;
	}
	bpf_map_update_elem(&session_seen, &session, &now, BPF_ANY);
	return false;
}

SEC("iter/ksym")
int dump_ksym(struct bpf_iter__ksym *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct kallsym_iter *it = ctx->ksym;
	struct scratch_slot *s;
	struct ksym_record *r;
	char type;
	long n;

	BPFITER_FRAME(ctx->meta, it);
	if (!it)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	__builtin_memcpy(r->module, it->module_name, sizeof(r->module));
	r->module[sizeof(r->module) - 1] = '\0';
	if (r->module[0] && walk_ended(ctx->meta, it, r->module)) {
		bpf_seq_write(seq, (void *)&bpfiter_end, sizeof(bpfiter_end));
		return 0;
	}
	/* /proc/kallsyms skips the nameless debugging symbols too. */
	if (!it->name[0])
		return 0;
	/* show_value is what kallsyms_show_value() said for the reader's
	 * credentials when the iterator was created. */
	r->address = it->show_value ? it->value : 0;
	type = it->type;
	/* Module symbols: upper case when exported, lower case when not. */
	if (r->module[0]) {
		if (it->exported && type >= 'a' && type <= 'z')
			type -= 'a' - 'A';
		else if (!it->exported && type >= 'A' && type <= 'Z')
			type += 'a' - 'A';
	}
	r->type = type;
	n = bpf_probe_read_kernel_str(s->tail, KSYM_NAME_LEN, it->name);
	r->tail_len = n > 1 ? n - 1 : 0;
	BPFITER_EMIT(seq, s);
	return 0;
}
