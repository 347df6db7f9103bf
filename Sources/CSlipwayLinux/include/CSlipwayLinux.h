#ifndef C_SLIPWAY_LINUX_H
#define C_SLIPWAY_LINUX_H

// The Linux system interfaces the gateway's own event loop uses that the Glibc module leaves out.
#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static const uint32_t CSlipwayEpollIn = EPOLLIN;
static const uint32_t CSlipwayEpollOut = EPOLLOUT;
static const uint32_t CSlipwayEpollErr = EPOLLERR;
static const uint32_t CSlipwayEpollHup = EPOLLHUP;
static const uint32_t CSlipwayEpollRdHup = EPOLLRDHUP;
static const uint32_t CSlipwayEpollExclusive = EPOLLEXCLUSIVE;
static const int CSlipwayEpollCloexec = EPOLL_CLOEXEC;
static const int CSlipwayEventfdFlags = EFD_NONBLOCK | EFD_CLOEXEC;

/// Accepts a connection as a non-blocking, close-on-exec socket.
static inline int CSlipwayAccept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/// Names the calling thread (as `ps` and `perf` show it; at most 15 bytes are kept).
static inline void CSlipwayNameThread(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}
#endif

#endif
