/*
 * mock_cluster.c - a throw-away Kafka cluster for flume-ts tests.
 *
 * Wraps librdkafka's mock cluster (rdkafka_mock.h, Debian: librdkafka-dev),
 * which speaks the Kafka wire protocol: produce, fetch, metadata, consumer
 * groups (join/sync/heartbeat/leave) and offset commit/fetch.
 *
 * Usage: mock_cluster [--brokers N] [--port P] [--topic name:partitions]...
 *                     [--ignore-stdin] [--verbose]
 *
 *   --brokers N   number of brokers (ids 1..N), all on 127.0.0.1. Default 1.
 *   --port P      bind broker 1 on port P, broker k on P+k-1 (see bind()).
 *                 Default: ephemeral ports chosen by the kernel.
 *   --topic T:N   create topic T with N partitions (repeatable); partition p
 *                 is led by broker p % brokers + 1. Other topics are
 *                 auto-created on first use (4 partitions, random leaders).
 *   --ignore-stdin  do not exit on stdin EOF (for running by hand with
 *                 stdin from /dev/null).
 *   --verbose     librdkafka debug logging of the mock to stderr.
 *
 * Prints "BOOTSTRAP host:port,host:port,..." on one line to stdout once the
 * cluster listens, then runs until SIGTERM/SIGINT/SIGHUP, EOF on stdin, or
 * the death of its parent process. Exit status 0 on a clean stop, 1 on a
 * usage error, 2 if the cluster could not be started.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 64

/*
 * Fixed ports.
 *
 * librdkafka's mock API (2.0.x as shipped by Debian 12) has no setting for
 * the listen port: each mock broker binds 127.0.0.1:0 and keeps whatever the
 * kernel picks. Tests that stop a cluster and start a new one "at the same
 * address" need a fixed port, so this program interposes bind(): the
 * executable's own bind() is found before libc's when librdkafka.so calls
 * it, and while `fixed_port_next` is non-zero every loopback bind to port 0
 * is rewritten to the next fixed port. The brokers are created in id order
 * inside rd_kafka_mock_cluster_new(), so broker k gets P+k-1. main() checks
 * the resulting bootstrap list, so if this trick ever stops working the
 * program fails loudly rather than silently using random ports.
 */
static int fixed_port_next; /* 0 = leave binds alone */

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
        static int (*real_bind)(int, const struct sockaddr *, socklen_t);
        if (!real_bind)
                real_bind = (int (*)(int, const struct sockaddr *,
                                     socklen_t))dlsym(RTLD_NEXT, "bind");

        if (fixed_port_next && addr && addr->sa_family == AF_INET &&
            len >= (socklen_t)sizeof(struct sockaddr_in)) {
                struct sockaddr_in sin;
                memcpy(&sin, addr, sizeof(sin));
                if (sin.sin_port == 0 &&
                    sin.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
                        int on = 1;
                        sin.sin_port = htons((uint16_t)fixed_port_next++);
                        /* A previous cluster on this port leaves TIME_WAIT
                         * sockets behind; without SO_REUSEADDR the restart
                         * would fail with EADDRINUSE for a minute. */
                        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
                                   sizeof(on));
                        if (real_bind(fd, (struct sockaddr *)&sin,
                                      sizeof(sin)) == 0)
                                return 0;
                        /* Exit here: librdkafka 2.0.2 would go on to abort()
                         * on an assertion in its failed-cluster cleanup. */
                        fprintf(stderr,
                                "mock_cluster: cannot listen on 127.0.0.1:%d: "
                                "%s\n",
                                ntohs(sin.sin_port), strerror(errno));
                        _exit(2);
                }
        }
        return real_bind(fd, addr, len);
}

static void usage(const char *argv0) {
        fprintf(stderr,
                "usage: %s [--brokers N] [--port P] [--topic name:partitions]"
                "... [--ignore-stdin] [--verbose]\n",
                argv0);
        exit(1);
}

static long parse_num(const char *s, long min, long max, const char *what) {
        char *end;
        long v;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max) {
                fprintf(stderr, "mock_cluster: bad %s '%s' (want %ld..%ld)\n",
                        what, s, min, max);
                exit(1);
        }
        return v;
}

int main(int argc, char **argv) {
        int brokers = 1, port = 0, ignore_stdin = 0, verbose = 0;
        char *topics[MAX_TOPICS];
        int parts[MAX_TOPICS];
        int ntopics = 0;
        char errstr[512];
        pid_t parent = getppid();
        sigset_t sigs;
        int sfd, i, rc = 0;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--brokers") && i + 1 < argc)
                        brokers = (int)parse_num(argv[++i], 1, 32, "--brokers");
                else if (!strcmp(a, "--port") && i + 1 < argc)
                        port = (int)parse_num(argv[++i], 1, 65535, "--port");
                else if (!strcmp(a, "--topic") && i + 1 < argc) {
                        char *spec  = argv[++i];
                        char *colon = strrchr(spec, ':');
                        if (!colon || colon == spec || ntopics == MAX_TOPICS)
                                usage(argv[0]);
                        *colon          = '\0';
                        topics[ntopics] = spec;
                        parts[ntopics++] =
                            (int)parse_num(colon + 1, 1, 10000, "partitions");
                } else if (!strcmp(a, "--ignore-stdin"))
                        ignore_stdin = 1;
                else if (!strcmp(a, "--verbose"))
                        verbose = 1;
                else
                        usage(argv[0]);
        }
        if (port && port + brokers - 1 > 65535) {
                fprintf(stderr, "mock_cluster: --port %d + %d brokers "
                                "exceeds 65535\n", port, brokers);
                return 1;
        }

        /* Die with the parent (a crashed test runner must not leave a
         * broker behind). The getppid() re-check closes the race where the
         * parent died before prctl() took effect. Strictly the signal comes
         * when the parent *thread* that forked us exits; Node spawns from
         * its main thread, and stdin EOF below covers the rest. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
                return 0;

        /* Block the stop signals before librdkafka starts its threads (they
         * inherit the mask), so they are only ever taken by the signalfd
         * below and the cluster is always torn down in one place. */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGHUP);
        sigprocmask(SIG_BLOCK, &sigs, NULL);
        sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
        if (sfd == -1) {
                perror("mock_cluster: signalfd");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);

        /* The mock cluster needs an rd_kafka_t for its bookkeeping; an idle
         * producer with no bootstrap servers does nothing else. */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* Quiet the "no bootstrap.servers" notice; keep warnings/errors. */
        rd_kafka_conf_set(conf, "log_level", verbose ? "7" : "4", NULL, 0);
        if (verbose)
                rd_kafka_conf_set(conf, "debug", "mock,protocol", NULL, 0);
        rd_kafka_t *rk =
            rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", errstr);
                return 2;
        }

        fixed_port_next = port;
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
        fixed_port_next = 0;
        if (!mc) {
                fprintf(stderr, "mock_cluster: could not create cluster%s\n",
                        port ? " (is the port already in use?)" : "");
                rd_kafka_destroy(rk);
                return 2;
        }

        const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
        if (port) {
                char want[32];
                snprintf(want, sizeof(want), "127.0.0.1:%d", port);
                /* The list is "host:port,..." in broker-id order. */
                if (strncmp(bootstrap, want, strlen(want)) != 0 ||
                    (bootstrap[strlen(want)] != ',' &&
                     bootstrap[strlen(want)] != '\0')) {
                        fprintf(stderr,
                                "mock_cluster: wanted first broker on %s but "
                                "got %s (bind() interposition failed)\n",
                                want, bootstrap);
                        rc = 2;
                        goto out;
                }
        }

        for (i = 0; i < ntopics; i++) {
                /* Replication factor: as many replicas as brokers, max 3. */
                int rf                  = brokers < 3 ? brokers : 3;
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                    mc, topics[i], parts[i], rf);
                if (err) {
                        fprintf(stderr, "mock_cluster: topic %s: %s\n",
                                topics[i], rd_kafka_err2str(err));
                        rc = 2;
                        goto out;
                }
                /* The mock picks a random leader per partition; spread them
                 * round-robin instead so multi-broker tests really make
                 * clients talk to every broker, and do so reproducibly. */
                for (int p = 0; p < parts[i]; p++)
                        rd_kafka_mock_partition_set_leader(mc, topics[i], p,
                                                           p % brokers + 1);
        }

        printf("BOOTSTRAP %s\n", bootstrap);
        fflush(stdout);

        for (;;) {
                struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN},
                                        {.fd = ignore_stdin ? -1 : 0,
                                         .events = POLLIN}};
                if (poll(pfd, 2, -1) == -1) {
                        if (errno == EINTR)
                                continue;
                        perror("mock_cluster: poll");
                        break;
                }
                if (pfd[0].revents)
                        break; /* a stop signal (incl. parent death) */
                if (pfd[1].revents) {
                        char buf[256];
                        ssize_t r = read(0, buf, sizeof(buf));
                        if (r == 0 || (r == -1 && errno != EINTR &&
                                       errno != EAGAIN))
                                break; /* stdin closed: our owner is gone */
                        /* input is ignored */
                }
        }

out:
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return rc;
}
