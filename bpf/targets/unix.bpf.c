// SPDX-License-Identifier: GPL-2.0
/* unix: one record per unix domain socket of the walker's network
 * namespace, from the unix iterator.
 *
 * The kernel's unix iterator (net/unix/af_unix.c, bpf_iter_unix_*) takes
 * one hash bucket's sockets as a batch and marks the bucket done
 * (st_bucket_done) once the batch holds all of them. When a read() ends,
 * the socket the kernel had already fetched next and the rest of its
 * batch are put back (seq_stop), and the next read() starts from the
 * bucket after that socket's, because unlike tcp's and udp's, the unix
 * seq_stop leaves st_bucket_done set: they are never shown. Every read()
 * boundary loses sockets that way, wherever it falls (mid-bucket, or on
 * the first socket of a fresh batch), whatever the program writes: larger
 * reads only move the boundaries (the kernel's buffer is 32 KiB), holding
 * a bucket's records back until its last socket loses the next bucket
 * instead, and a second walk meets the same boundaries. So the walk must
 * end in the read() that began it: records go to the ring (nothing drains
 * it during that read(), so it must hold the whole walk) and the stream
 * gets only the header and the trailer, a few bytes that never fill the
 * kernel's 32 KiB buffer nor the reader's. When the ring is full the
 * program returns 1, which ends the read() early; the reader sees that
 * the walk went on in a second read() (target.one_read), loads the
 * program with a ring twice as large and walks again. */
#include "sock.bpf.h"
#include "unix_record.h"

BPFITER_SCRATCH(unix_record)
BPFITER_TARGET("unix", unix_record);
/* ~18,000 unbound sockets (56 bytes each with the ring's header); the
 * reader doubles it when a walk needs more. */
BPFITER_RING(1 << 20);

#define SOCK_STREAM	1
#define SOCK_SEQPACKET	5
#define TCP_LISTEN	10
/* Queued messages of a seqpacket socket summed, at most; beyond that the
 * sum is a lower bound. */
#define QUEUE_WALK_MAX	256

/* unix_inq_len(): stream sockets keep a running count on kernels that
 * have inq_len; otherwise (and for seqpacket) the queued skbs are summed,
 * without the queue lock, a partly read one counted whole; a datagram
 * socket reports its next datagram. */
static __always_inline __u32 unix_rx_bytes(struct unix_sock *u)
{
	struct sock *sk = &u->sk;
	struct sk_buff *skb = sk->sk_receive_queue.next;
	__u32 qlen = sk->sk_receive_queue.qlen, sum = 0;

	if (!qlen)
		return 0;
	if (sk->sk_type == SOCK_STREAM && bpf_core_field_exists(u->inq_len))
		return BPF_CORE_READ(u, inq_len);
	if (sk->sk_type != SOCK_STREAM && sk->sk_type != SOCK_SEQPACKET)
		return skb ? skb->len : 0;
	for (int i = 0; i < QUEUE_WALK_MAX; i++) {
		if (i >= qlen || !skb)
			break;
		sum += skb->len;
		skb = skb->next;
	}
	return sum;
}

SEC("iter/unix")
int dump_unix(struct bpf_iter__unix *ctx)
{
	struct unix_sock *u = ctx->unix_sk;
	struct unix_address *addr;
	struct scratch_slot *s;
	struct unix_record *r;
	struct sock *sk, *peer;
	__u64 len;

	BPFITER_FRAME(ctx->meta, u);
	if (!u)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;
	sk = &u->sk;

	r->type = sk->sk_type;
	r->state = sk->__sk_common.skc_state;
	r->uid = ctx->uid;
	r->inode = sock_inode(sk);
	r->netns = sock_netns(&sk->__sk_common);
	r->cookie = bpf_get_socket_cookie(sk);
	peer = u->peer;
	if (peer)
		r->peer_inode = sock_inode(peer);
	/* As unix_diag reports them (ss -x). */
	if (r->state == TCP_LISTEN) {
		r->rx_queue = sk->sk_receive_queue.qlen;
		r->tx_queue = sk->sk_max_ack_backlog;
	} else {
		r->rx_queue = unix_rx_bytes(u);
		r->tx_queue = sock_wmem(sk);
	}

	addr = u->addr;
	if (addr) {
		/* 64-bit all along: clang must not bound one copy of the length
		 * and pass another to the helper. */
		len = (__u32)addr->len;
		len = len > sizeof(short) ? len - sizeof(short) : 0;	/* less sun_family */
		if (len > UNIX_RECORD_PATH_MAX)
			len = UNIX_RECORD_PATH_MAX;
		barrier_var(len);
		if (len && bpf_probe_read_kernel(s->tail, len, addr->name[0].sun_path) == 0)
			r->tail_len = len;
	}
	return BPFITER_RING_EMIT(s) ? 1 : 0;
}
