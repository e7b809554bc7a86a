/* Socket iterators walk the network namespace of the thread that creates
 * the iterator fd (bpf_iter_init_seq_net takes current's netns then), so
 * a walk of another namespace only needs that one call made inside it. */
#ifndef BPFITER_NETNS_H
#define BPFITER_NETNS_H

/* Opens path (a netns file: /run/netns/NAME, /proc/PID/ns/net, or an fd
 * as /proc/self/fd/N); inode: the namespace it must be, or 0 for any.
 * Returns the fd, or -1 with errno (EINVAL: not a network namespace;
 * ESTALE: another one than inode, e.g. a /proc/PID whose pid was reused). */
int netns_open(const char *path, unsigned long inode);

/* bpf_iter_create(link_fd) with the calling thread in namespace ns_fd,
 * back in its own namespace afterwards, also when that failed. Returns the
 * iterator fd, or -1 with errno; -2 with errno when the thread could not
 * return to its namespace (the caller must not go on quietly). */
int netns_iter_create(int link_fd, int ns_fd);

#endif
