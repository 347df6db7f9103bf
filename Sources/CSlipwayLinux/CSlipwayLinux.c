#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "CSlipwayLinux.h"

int CSlipwayAccept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void CSlipwayNameThread(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}

void CSlipwayRunThreadBelowProcess(int steps) {
    // On Linux, PRIO_PROCESS names one thread: the process id is the main thread, a thread id that thread.
    errno = 0;
    int process = getpriority(PRIO_PROCESS, (id_t)getpid());
    if (process == -1 && errno != 0) process = 0;
    int wanted = process + (steps > 0 ? steps : 0);
    setpriority(PRIO_PROCESS, (id_t)gettid(), wanted > 19 ? 19 : wanted);
}
#endif
