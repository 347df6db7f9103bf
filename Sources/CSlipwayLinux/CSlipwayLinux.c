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

int CSlipwayRunThreadBelowProcess(int steps) {
    // On Linux, PRIO_PROCESS names one thread: the process id is the main thread, a thread id that thread.
    id_t thread = (id_t)gettid();
    errno = 0;
    int process = getpriority(PRIO_PROCESS, (id_t)getpid());
    if (process == -1 && errno != 0) process = 0;
    int wanted = process + (steps > 0 ? steps : 0);
    if (wanted > 19) wanted = 19;
    setpriority(PRIO_PROCESS, thread, wanted);
    errno = 0;
    int now = getpriority(PRIO_PROCESS, thread);
    return (now == -1 && errno != 0) ? wanted : now;
}
#endif
