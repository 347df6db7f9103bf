#ifndef C_SLIPWAY_LINUX_H
#define C_SLIPWAY_LINUX_H

// The Linux system interfaces the gateway's own event loop uses that the Glibc module leaves out. The
// header defines no feature macros (they would change the system types other modules see); the calls
// that need GNU extensions are made in CSlipwayLinux.c.
#ifdef __linux__
#include <stdint.h>
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

/// Accepts a connection as a non-blocking, close-on-exec socket (`accept4`).
int CSlipwayAccept(int listener);

/// Names the calling thread (as `ps` and `perf` show it; at most 15 bytes are kept).
void CSlipwayNameThread(const char *name);

/// Runs the calling thread `steps` niceness steps below the process's main thread (at most at 19), for
/// background work that must not take a CPU from the threads that answer requests.
void CSlipwayRunThreadBelowProcess(int steps);
#endif

#endif
