#ifdef __linux__
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "CSlipwayLinux.h"

int CSlipwayAccept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void CSlipwayNameThread(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}
#endif
