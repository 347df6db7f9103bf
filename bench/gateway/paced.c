// Constant-rate (open-loop) HTTP/1.1 load for bench/gateway/run.sh, in the spirit of wrk2 (which
// Debian does not package). Request k is due at start + k / RATE whatever the answers do; each
// latency is measured from the time the request was due, so a server that stalls is charged for
// the whole wait (no coordinated omission). Keep-alive connections, one request in flight on
// each; a due request waits for the next free connection. Each request is a POST of BODY with
// X-User-Id taken in turn from a pool of USERS ids.
//
//   paced HOST PORT PATH RATE SECONDS CONNECTIONS USERS WARMUP_SECONDS BODY
//
// Prints one JSON object: counts, the achieved rate, latency percentiles in microseconds (requests
// due during the warm-up are sent but not counted), the worst lateness of a send (max_send_lag_us),
// split into its two causes: this process woke up late (max_wakeup_lag_us: the machine's scheduling)
// or every connection was still waiting for an answer (max_waiting_for_connection: due requests
// queued because the server held all connections).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int busy;
    double due;      // when the request in flight was due (seconds, monotonic)
    int counted;     // whether its latency is recorded
    char buf[16384];
    size_t len;
} Conn;

static struct sockaddr_in address;
static char **requests;
static size_t *request_lengths;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int open_connection(int epoll_fd, int index) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { perror("socket"); exit(2); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); exit(2); }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)index};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    return fd;
}

static void send_all(int fd, const char *data, size_t length) {
    size_t sent = 0;
    while (sent < length) {
        ssize_t n = write(fd, data + sent, length - sent);
        if (n > 0) { sent += (size_t)n; continue; }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) { usleep(10); continue; }
        perror("write");
        exit(2);
    }
}

// Returns the total length of a complete response at the start of buf, 0 if more bytes are needed,
// -1 if it cannot be parsed. Sets *status.
static long response_length(const char *buf, size_t len, int *status) {
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return 0;
    long header_length = (long)(end - buf) + 4;
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0) return -1;
    *status = atoi(buf + 9);
    long content_length = -1;
    for (const char *line = buf; line < end;) {
        const char *next = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
        if (!next) break;
        if ((size_t)(next - line) > 15 && strncasecmp(line, "content-length:", 15) == 0) content_length = atol(line + 15);
        if ((size_t)(next - line) > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) return -1;
        line = next + 2;
    }
    if (content_length < 0) return -1;
    return (size_t)(header_length + content_length) <= len ? header_length + content_length : 0;
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: %s HOST PORT PATH RATE SECONDS CONNECTIONS USERS WARMUP_SECONDS BODY\n", argv[0]);
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    const char *path = argv[3];
    double rate = atof(argv[4]);
    double seconds = atof(argv[5]);
    int connections = atoi(argv[6]);
    int users = atoi(argv[7]);
    double warmup = atof(argv[8]);
    const char *body = argv[9];
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &address.sin_addr);

    requests = calloc((size_t)users, sizeof *requests);
    request_lengths = calloc((size_t)users, sizeof *request_lengths);
    for (int i = 0; i < users; i++) {
        requests[i] = malloc(1024 + strlen(body));
        int n = sprintf(requests[i],
                        "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nX-User-Id: user-%d\r\n"
                        "Content-Length: %zu\r\n\r\n%s",
                        path, host, port, i + 1, strlen(body), body);
        request_lengths[i] = (size_t)n;
    }

    int epoll_fd = epoll_create1(0);
    Conn *conns = calloc((size_t)connections, sizeof *conns);
    int *idle = malloc(sizeof(int) * (size_t)connections);
    int idle_count = 0;
    for (int i = 0; i < connections; i++) {
        conns[i].fd = open_connection(epoll_fd, i);
        idle[idle_count++] = i;
    }

    long total = (long)llround(rate * (warmup + seconds));
    long warm = (long)llround(rate * warmup);
    double *latencies = malloc(sizeof(double) * (size_t)(total > warm ? total - warm : 1));
    long recorded = 0, completed = 0, next = 0, non_2xx = 0, errors = 0;
    double max_lag = 0, max_wakeup_lag = 0, last_done = 0;
    long max_waiting = 0;
    double start = now() + 0.01;
    double measured_start = start + warmup;
    double deadline = start + warmup + seconds + 10.0;
    struct epoll_event events[256];

    while (completed < total) {
        double t = now();
        if (t > deadline) break;
        // Send every request that is due, while a connection is free.
        while (next < total && idle_count > 0) {
            double due = start + (double)next / rate;
            if (due > t) break;
            int c = idle[--idle_count];
            Conn *conn = &conns[c];
            conn->busy = 1;
            conn->due = due;
            conn->counted = next >= warm;
            conn->len = 0;
            if (t - due > max_lag && next >= warm) max_lag = t - due;
            int user = (int)(next % users);
            send_all(conn->fd, requests[user], request_lengths[user]);
            next++;
        }
        // Requests that are due but wait for a free connection (the server holds all of them).
        long due_now = (long)((now() - start) * rate) + 1;
        if (due_now > total) due_now = total;
        if (due_now - next > max_waiting && next >= warm) max_waiting = due_now - next;
        // Sleep until the next request is due (if a connection is free for it) or an answer arrives.
        struct timespec timeout;
        struct timespec *wait = NULL;
        double wake = 0;
        if (next < total && idle_count > 0) {
            wake = start + (double)next / rate;
            double until = wake - now();
            if (until < 0) until = 0;
            timeout.tv_sec = (time_t)until;
            timeout.tv_nsec = (long)((until - (double)timeout.tv_sec) * 1e9);
            wait = &timeout;
        } else {
            timeout.tv_sec = 1;
            timeout.tv_nsec = 0;
            wait = &timeout;
        }
        int ready = epoll_pwait2(epoll_fd, events, 256, wait, NULL);
        if (ready < 0 && errno != EINTR) { perror("epoll_pwait2"); return 2; }
        // How late this process woke up for a due request: the machine's scheduling, not the server.
        if (wake > 0 && next >= warm && now() - wake > max_wakeup_lag) max_wakeup_lag = now() - wake;
        for (int e = 0; e < ready; e++) {
            int c = (int)events[e].data.u32;
            Conn *conn = &conns[c];
            for (;;) {
                ssize_t n = read(conn->fd, conn->buf + conn->len, sizeof conn->buf - conn->len);
                if (n > 0) {
                    conn->len += (size_t)n;
                    int status = 0;
                    long length = response_length(conn->buf, conn->len, &status);
                    if (length == 0 && conn->len < sizeof conn->buf) continue;
                    if (length > 0 && conn->busy) {
                        double done = now();
                        if (conn->counted) {
                            latencies[recorded++] = (done - conn->due) * 1e6;
                            last_done = done;
                        }
                        if (status < 200 || status > 299) non_2xx++;
                        completed++;
                        conn->busy = 0;
                        memmove(conn->buf, conn->buf + length, conn->len - (size_t)length);
                        conn->len -= (size_t)length;
                        idle[idle_count++] = c;
                        continue;
                    }
                    // Unparseable, unsolicited or oversized: count it and start over on a new connection.
                    n = 0;
                }
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    errors++;
                    if (conn->busy) completed++;
                    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
                    close(conn->fd);
                    conn->fd = open_connection(epoll_fd, c);
                    conn->len = 0;
                    conn->busy = 0;
                    idle[idle_count++] = c;
                }
                break;
            }
        }
    }
    long unanswered = total - completed;
    // Answers per second over the measured part: from its first due time to its last answer (a server
    // that cannot keep up stretches the denominator past SECONDS).
    double span = last_done > measured_start ? last_done - measured_start : seconds;
    if (span < seconds) span = seconds;
    qsort(latencies, (size_t)recorded, sizeof(double), cmp_double);
#define PCT(p) (recorded ? latencies[(long)fmin((double)recorded - 1, ceil((p) / 100.0 * (double)recorded) - 1)] : 0.0)
    printf("{\"rate\": %.1f, \"seconds\": %.1f, \"connections\": %d, \"sent\": %ld, \"recorded\": %ld, \"achieved_rps\": %.1f, "
           "\"non_2xx\": %ld, \"errors\": %ld, \"unanswered\": %ld, \"max_send_lag_us\": %.1f, \"max_wakeup_lag_us\": %.1f, "
           "\"max_waiting_for_connection\": %ld, "
           "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f}\n",
           rate, seconds, connections, next, recorded, (double)recorded / span, non_2xx, errors, unanswered, max_lag * 1e6, max_wakeup_lag * 1e6, max_waiting,
           PCT(50), PCT(90), PCT(99), PCT(99.9), recorded ? latencies[recorded - 1] : 0.0);
    return 0;
}
