// SPDX-License-Identifier: GPL-2.0
/* tcp: one record per TCP socket of the walker's network namespace, IPv4
 * and IPv6, from the tcp iterator: listening and established sockets,
 * time-wait socks and request socks (connections in their handshake). */
#include "sock.bpf.h"

BPFITER_SCRATCH(inet_record)
BPFITER_TARGET("tcp", inet_record);

#define TCP_SYN_RECV		3
#define TCP_TIME_WAIT		6
#define TCP_LISTEN		10
#define TCP_NEW_SYN_RECV	12

/* What tcp_get_info() and sk_get_meminfo() report for ss -ti and ss -m. */
static __always_inline void tcp_info_fill(struct inet_record *r, struct tcp_sock *tp,
					  struct sock *sk)
{
	__u32 rate = tp->rate_delivered, intv = tp->rate_interval_us;

	r->rtt_us = tp->srtt_us >> 3;
	r->rttvar_us = tp->mdev_us >> 2;
	r->cwnd = tp->snd_cwnd;
	r->ssthresh = tp->snd_ssthresh;
	r->retrans = tp->retrans_out;
	r->total_retrans = tp->total_retrans;
	if (rate && intv)
		r->delivery_rate = (__u64)rate * tp->mss_cache * 1000000 / intv;
	r->bytes_acked = tp->bytes_acked;
	r->bytes_received = tp->bytes_received;

	r->rmem_alloc = sk->sk_backlog.rmem_alloc.counter;
	r->rcvbuf = sk->sk_rcvbuf;
	r->wmem_alloc = sock_wmem(sk);
	r->sndbuf = sk->sk_sndbuf;
	r->fwd_alloc = sk->sk_forward_alloc;
	r->wmem_queued = sk->sk_wmem_queued;
	r->optmem = sk->sk_omem_alloc.counter;
	r->backlog = sk->sk_backlog.len;
	r->drops = sk->sk_drops.counter;	/* TCP keeps no per-node drop counters */
}

SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_timewait_sock *tw;
	struct scratch_slot *s;
	struct inet_record *r;
	struct tcp_sock *tp;
	struct sock *sk;
	int rx;

	BPFITER_FRAME(ctx->meta, skc);
	if (!skc)
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	r = &s->rec;

	inet_fill(r, skc);
	r->uid = ctx->uid;
	r->cookie = bpf_get_socket_cookie(skc);
	r->state = skc->skc_state;

	/* Only full sockets have queues and a file; the smaller sock types
	 * show 0 there, as /proc/net/tcp and ss do. */
	if (r->state == TCP_TIME_WAIT) {
		tw = bpf_skc_to_tcp_timewait_sock(skc);
		if (tw)
			r->state = tw->tw_sk.tw_substate;
	} else if (r->state == TCP_NEW_SYN_RECV) {
		r->state = TCP_SYN_RECV;	/* what /proc and ss call it */
	} else {
		tp = bpf_skc_to_tcp_sock(skc);
		if (tp) {
			sk = &tp->inet_conn.icsk_inet.sk;
			r->inode = sock_inode(sk);
			if (r->state == TCP_LISTEN) {
				r->rx_queue = sk->sk_ack_backlog;
				r->tx_queue = sk->sk_max_ack_backlog;
			} else {
				rx = (int)(tp->rcv_nxt - tp->copied_seq);
				r->rx_queue = rx > 0 ? rx : 0;
				r->tx_queue = tp->write_seq - tp->snd_una;
			}
			tcp_info_fill(r, tp, sk);
		}
	}
	BPFITER_EMIT(ctx->meta->seq, s);
	return 0;
}
