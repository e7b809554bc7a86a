/* Device numbers. The kernel keeps a dev_t in 32 bits as major << 20 |
 * minor (MINORBITS); what records carry. Userland's dev_t (stat()'s
 * st_dev, what Lua sees) is glibc's makedev() encoding. */
#ifndef BPFITER_DEVNUM_H
#define BPFITER_DEVNUM_H

#include <stdint.h>
#include <sys/sysmacros.h>

static inline uint32_t kdev_major(uint32_t kdev)
{
	return kdev >> 20;
}

static inline uint32_t kdev_minor(uint32_t kdev)
{
	return kdev & 0xfffff;
}

/* Kernel encoding -> userland dev_t, equal to stat()'s st_dev. */
static inline uint64_t kdev_to_user(uint32_t kdev)
{
	return makedev(kdev_major(kdev), kdev_minor(kdev));
}

/* Userland dev_t -> kernel encoding (minors above 20 bits cannot be the
 * kernel's and are cut). */
static inline uint32_t kdev_from_user(uint64_t dev)
{
	return major(dev) << 20 | (minor(dev) & 0xfffff);
}

#endif
