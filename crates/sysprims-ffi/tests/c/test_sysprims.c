/*
 * The C ABI against real processes: every exported function, and the bad inputs (PID 0,
 * PIDs above INT32_MAX, NULL pointers, invalid UTF-8, malformed JSON, unknown keys), which
 * must return SYSPRIMS_ERR_INVALID_ARGUMENT, set the last error, leave *out_json NULL and
 * send no signal.
 *
 * Built and run by tests/c_program.rs (static and shared linking). Exits non-zero with a
 * message at the first failed check, after ending every process it started.
 *
 * "No signal sent" is observed by a sentinel: a child in this program's own process group
 * that blocks SIGWINCH and reports whether one arrived. The bad calls ask for SIGWINCH,
 * which every process ignores by default, so even a broken library that turned PID 0 into
 * kill(0, ...) or 4294967295 into kill(-1, ...) would harm nothing and be caught.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sysprims.h"

#define BAD_SIGNAL SIGWINCH
#define MAX_JOBS 32

static uint32_t jobs[MAX_JOBS]; /* PIDs of jobs started and not yet reaped */
static int njobs;
static pid_t sentinel;
static int sentinel_report = -1;
static int checks;

/* ---- cleanup and failure ------------------------------------------------------------- */

static void forget_job(uint32_t pid) {
    for (int i = 0; i < njobs; i++)
        if (jobs[i] == pid) jobs[i] = 0;
}

/* End every job still running (whole, through terminate_tree: its cgroup or its tree) and
 * reap it; end the sentinel. Called on success and on failure. */
static void cleanup(void) {
    for (int i = 0; i < njobs; i++) {
        if (jobs[i] == 0) continue;
        char *out = NULL;
        sysprims_terminate_tree(jobs[i], "{\"signal\":\"KILL\",\"grace_timeout_ms\":2000}", &out);
        sysprims_free_string(out);
        /* Our child: reap it, whatever terminate_tree said. */
        int status;
        if (waitpid((pid_t)jobs[i], &status, 0) < 0 && errno != ECHILD)
            perror("waitpid");
        jobs[i] = 0;
    }
    if (sentinel > 0) {
        kill(sentinel, SIGKILL);
        waitpid(sentinel, NULL, 0);
        sentinel = 0;
    }
}

static void fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    fprintf(stderr, "FAIL %s:%d: %s\n  ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    char *msg = sysprims_last_error_message();
    fprintf(stderr, "\n  last error: %d %s\n", sysprims_last_error_code(), msg ? msg : "(none)");
    sysprims_free_string(msg);
    cleanup();
    exit(1);
}

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(cond)) fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                        \
    } while (0)

/* ---- tiny JSON helpers (the library's output is compact serde_json) -------------------- */

static bool has(const char *json, const char *needle) {
    return json != NULL && strstr(json, needle) != NULL;
}

/* The unsigned number after the first "key": in json. */
static uint64_t number_of(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    CHECK(at != NULL, "no \"%s\" in %s", key, json);
    at += strlen(pattern);
    CHECK(*at >= '0' && *at <= '9', "\"%s\" is not a number in %s", key, json);
    return strtoull(at, NULL, 10);
}

/* A copy of the object value after the first "key": in json (strings with braces inside
 * are skipped correctly). Free with free(). */
static char *object_of(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":{", key);
    const char *start = strstr(json, pattern);
    CHECK(start != NULL, "no object \"%s\" in %s", key, json);
    start += strlen(pattern) - 1;
    int depth = 0;
    bool in_string = false;
    for (const char *p = start; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '{') {
            depth++;
        } else if (*p == '}' && --depth == 0) {
            return strndup(start, (size_t)(p - start + 1));
        }
    }
    fail(__FILE__, __LINE__, "object_of", "unterminated object \"%s\" in %s", key, json);
    return NULL;
}

/* ---- the sentinel ------------------------------------------------------------------- */

/* Fork the sentinel: it blocks SIGWINCH and SIGUSR2, waits for SIGUSR2, then writes 'W' if a
 * SIGWINCH arrived (is pending) and exits. Its report pipe is sentinel_report. */
static void start_sentinel(void) {
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, BAD_SIGNAL);
    sigaddset(&set, SIGUSR2);
    sigset_t old;
    CHECK(pthread_sigmask(SIG_BLOCK, &set, &old) == 0, "sigmask");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        sigset_t only_usr2;
        sigemptyset(&only_usr2);
        sigaddset(&only_usr2, SIGUSR2);
        int sig = 0;
        sigwait(&only_usr2, &sig);
        sigset_t pending;
        sigpending(&pending);
        char report = sigismember(&pending, BAD_SIGNAL) ? 'W' : '-';
        if (write(fds[1], &report, 1) != 1) _exit(2);
        _exit(0);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(fds[1]);
    sentinel = pid;
    sentinel_report = fds[0];
}

/* Ask the sentinel whether a SIGWINCH reached it; it exits. */
static bool sentinel_saw_signal(void) {
    CHECK(kill(sentinel, SIGUSR2) == 0, "kill sentinel: %s", strerror(errno));
    char report = 0;
    CHECK(read(sentinel_report, &report, 1) == 1, "sentinel did not report");
    int status;
    CHECK(waitpid(sentinel, &status, 0) == sentinel, "reap sentinel");
    sentinel = 0;
    return report == 'W';
}

/* ---- assertions on calls ------------------------------------------------------------ */

/* The call returned rc, wrote out (or not); it must be InvalidArgument with the last error
 * set and no output. */
static void expect_invalid(const char *what, int32_t rc, char *out) {
    CHECK(rc == SYSPRIMS_ERR_INVALID_ARGUMENT, "%s: rc %d, not InvalidArgument", what, rc);
    CHECK(out == NULL, "%s: *out_json is %s, not NULL", what, out);
    CHECK(sysprims_last_error_code() == SYSPRIMS_ERR_INVALID_ARGUMENT, "%s: last error code",
          what);
    char *msg = sysprims_last_error_message();
    CHECK(msg != NULL && strlen(msg) > 0, "%s: no last error message", what);
    sysprims_free_string(msg);
    char *json = sysprims_last_error_json();
    CHECK(has(json, "\"code\":\"invalid_argument\""), "%s: last error JSON %s", what, json);
    sysprims_free_string(json);
}

/* A sentinel value for out_json, so a call that leaves it untouched is caught. */
#define POISON ((char *)(uintptr_t)0x1)

static void expect_ok(const char *what, int32_t rc, const char *out) {
    CHECK(rc == SYSPRIMS_OK, "%s: rc %d", what, rc);
    CHECK(out != NULL && out != POISON, "%s: no output", what);
    CHECK(sysprims_last_error_code() == 0, "%s: last error not cleared", what);
    char *msg = sysprims_last_error_message();
    CHECK(msg == NULL, "%s: last error message after success: %s", what, msg);
}

/* Run `call`, which writes the variable `out`, then check it succeeded. (The call must
 * finish before `out` is read: C leaves the order of function arguments unspecified.) */
#define EXPECT_OK(what, call)                                                             \
    do {                                                                                  \
        out = POISON;                                                                     \
        int32_t rc_ = (call);                                                             \
        expect_ok(what, rc_, out);                                                        \
    } while (0)

/* ---- jobs --------------------------------------------------------------------------- */

/* Start `script` under sh as a job (stdout to `stdout_fd` when >= 0) and return its PID. */
static uint32_t spawn_job(const char *script, int stdout_fd, char **result_json) {
    char config[2048];
    char stdout_part[128] = "";
    if (stdout_fd >= 0)
        snprintf(stdout_part, sizeof stdout_part,
                 ",\"stdout\":{\"file\":{\"path\":\"/proc/self/fd/%d\",\"append\":true}}",
                 stdout_fd);
    snprintf(config, sizeof config,
             "{\"argv\":[\"sh\",\"-c\",\"%s\"],\"kill_on_parent_death\":true%s}", script,
             stdout_part);
    char *out = POISON;
    int32_t rc = sysprims_spawn_in_group(config, &out);
    expect_ok("spawn_in_group", rc, out);
    uint32_t pid = (uint32_t)number_of(out, "pid");
    CHECK(njobs < MAX_JOBS, "too many jobs");
    jobs[njobs++] = pid;
    CHECK(number_of(out, "pgid") == pid, "the job leads its group: %s", out);
    CHECK(has(out, "\"schema_id\":\"https://sysprims.dev/schemas/spawn-in-group-result/v1.json\""),
          "%s", out);
    if (result_json) *result_json = out;
    else sysprims_free_string(out);
    return pid;
}

/* Wait for a job to end (no timeout), return the WaitPidResult. */
static char *wait_job(uint32_t pid) {
    char *out = POISON;
    EXPECT_OK("wait_pid", sysprims_wait_pid(pid, -1, &out));
    CHECK(has(out, "\"exited\":true"), "%s", out);
    forget_job(pid);
    return out;
}

static void read_line(int fd, const char *expect) {
    char buf[64];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = read(fd, buf + n, 1);
        CHECK(r == 1, "job closed its stdout before writing \"%s\"", expect);
        if (buf[n] == '\n') break;
        n++;
    }
    buf[n] = 0;
    CHECK(strcmp(buf, expect) == 0, "read \"%s\", expected \"%s\"", buf, expect);
}

/* ---- the tests ---------------------------------------------------------------------- */

static void test_version_and_memory(void) {
    CHECK(sysprims_abi_version() == SYSPRIMS_ABI_VERSION, "ABI %u vs header %u",
          sysprims_abi_version(), SYSPRIMS_ABI_VERSION);
    const char *v = sysprims_version();
    CHECK(v != NULL && strchr(v, '.') != NULL, "version %s", v ? v : "(null)");
    CHECK(sysprims_version() == v, "the version string is static");
    sysprims_free_string(NULL);
    sysprims_cancel_free(NULL);
}

static void test_process_queries(void) {
    uint32_t me = (uint32_t)getpid();
    char pattern[64];
    char *out = POISON;

    EXPECT_OK("process_get", sysprims_process_get(me, &out));
    CHECK(number_of(out, "pid") == me, "%s", out);
    CHECK(has(out, "\"start_time_unix_ms\":"), "%s", out);
    CHECK(has(out, "\"exe_path\":\"/"), "%s", out);
    sysprims_free_string(out);

    snprintf(pattern, sizeof pattern, "{\"filter\":{\"pids\":[%u]}}", me);
    out = POISON;
    EXPECT_OK("process_list", sysprims_process_list(pattern, &out));
    CHECK(has(out, "process-snapshot"), "%s", out);
    snprintf(pattern, sizeof pattern, "\"pid\":%u,", me);
    CHECK(has(out, pattern), "%s", out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("process_list(NULL)", sysprims_process_list(NULL, &out));
    CHECK(has(out, "\"pid\":1,"), "PID 1 is in the full listing");
    sysprims_free_string(out);

    /* Not found: a PID no process has (above pid_max, within INT32_MAX). */
    out = POISON;
    int32_t rc = sysprims_process_get(2147483647u, &out);
    CHECK(rc == SYSPRIMS_ERR_NOT_FOUND, "rc %d", rc);
    CHECK(out == NULL, "out_json is NULL on error");
    CHECK(sysprims_last_error_code() == SYSPRIMS_ERR_NOT_FOUND, "last error");
    char *json = sysprims_last_error_json();
    CHECK(has(json, "\"code\":\"not_found\"") && has(json, "2147483647"), "%s", json);
    sysprims_free_string(json);
    /* A success clears it. */
    out = POISON;
    EXPECT_OK("process_get", sysprims_process_get(me, &out));
    sysprims_free_string(out);
    CHECK(sysprims_last_error_json() == NULL, "last error JSON after success");
}

static void test_job_lifecycle(void) {
    uint32_t me = (uint32_t)getpid();
    char buf[4096];
    char *result = NULL;
    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe");
    uint32_t pid = spawn_job("sleep 1000 & echo up; wait", fds[1], &result);
    close(fds[1]);
    read_line(fds[0], "up");
    char *identity = object_of(result, "identity");
    sysprims_free_string(result);

    /* descendants of this program include the job and its sleep. */
    char *out = POISON;
    EXPECT_OK("descendants", sysprims_descendants(me, -1, &out));
    snprintf(buf, sizeof buf, "\"pid\":%u,", pid);
    CHECK(has(out, buf), "the job is our descendant: %s", out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("descendants(1 level)", sysprims_descendants(pid, 1, &out));
    CHECK(has(out, "process-tree"), "%s", out);
    sysprims_free_string(out);
    out = POISON;
    int32_t rc = sysprims_descendants(pid, 0, &out); /* 0 levels: nothing to ask for */
    expect_invalid("descendants(0 levels)", rc, out);

    /* identity */
    out = POISON;
    EXPECT_OK("identity_verify", sysprims_identity_verify(identity, &out));
    CHECK(strcmp(out, "{\"status\":\"same\"}") == 0, "%s", out);
    sysprims_free_string(out);
    snprintf(buf, sizeof buf, "{\"pid\":%u,\"start_time_unix_ms\":1}", pid);
    out = POISON;
    EXPECT_OK("identity_verify(reused)", sysprims_identity_verify(buf, &out));
    CHECK(has(out, "\"status\":\"reused\""), "%s", out);
    sysprims_free_string(out);

    /* signals: probes, batch, guarded */
    CHECK(sysprims_signal_send(pid, 0) == SYSPRIMS_OK, "probe");
    CHECK(sysprims_last_error_code() == 0, "cleared");
    CHECK(sysprims_signal_group(pid, 0) == SYSPRIMS_OK, "group probe");
    snprintf(buf, sizeof buf, "[%u]", pid);
    out = POISON;
    EXPECT_OK("signal_batch", sysprims_signal_batch(buf, 0, &out));
    CHECK(has(out, "\"outcome\":\"signalled\""), "%s", out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("signal_guarded", sysprims_signal_guarded(identity, 0, &out));
    CHECK(has(out, "\"status\":\"signalled\""), "%s", out);
    sysprims_free_string(out);
    /* The caller's own group is protected. */
    CHECK(sysprims_signal_group((uint32_t)getpgrp(), SIGTERM) == SYSPRIMS_ERR_INVALID_ARGUMENT,
          "own group refused");
    CHECK(sysprims_signal_send(1, SIGTERM) == SYSPRIMS_ERR_INVALID_ARGUMENT, "PID 1 refused");

    /* wait with a zero timeout: still running */
    out = POISON;
    EXPECT_OK("wait_pid(0 ms)", sysprims_wait_pid(pid, 0, &out));
    CHECK(has(out, "\"exited\":false") && has(out, "\"timed_out\":true"), "%s", out);
    sysprims_free_string(out);

    /* kill_descendants: a preview, then TERM to the sleep; the job's wait then returns */
    out = POISON;
    EXPECT_OK("kill_descendants(dry run)", sysprims_kill_descendants(pid, SIGTERM, "{\"dry_run\":true}", &out));
    CHECK(has(out, "\"preview\":true") && has(out, "would_signal"), "%s", out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("kill_descendants", sysprims_kill_descendants(pid, SIGTERM, NULL, &out));
    CHECK(has(out, "\"outcome\":\"signalled\""), "%s", out);
    sysprims_free_string(out);
    /* end of file: the sleep (which held stdout) is gone, then sh exits 143 or 0 */
    char c;
    CHECK(read(fds[0], &c, 1) == 0, "stdout still open");
    close(fds[0]);
    out = wait_job(pid);
    CHECK(has(out, "\"exit_code\":"), "%s", out);
    sysprims_free_string(out);

    /* once reaped, the identity is gone */
    out = POISON;
    EXPECT_OK("identity_verify(gone)", sysprims_identity_verify(identity, &out));
    CHECK(strcmp(out, "{\"status\":\"gone\"}") == 0, "%s", out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("signal_guarded(gone)", sysprims_signal_guarded(identity, SIGTERM, &out));
    CHECK(has(out, "\"status\":\"gone\""), "%s", out);
    sysprims_free_string(out);
    free(identity);

    /* terminate_tree with the defaults (NULL config) and with a config */
    pid = spawn_job("sleep 1000 & sleep 1000 & wait", -1, NULL);
    out = POISON;
    EXPECT_OK("terminate_tree(NULL)", sysprims_terminate_tree(pid, NULL, &out));
    CHECK(has(out, "\"exited\":true") && has(out, "\"escalated\":false"), "%s", out);
    CHECK(has(out, "terminate-tree-result"), "%s", out);
    sysprims_free_string(out);
    sysprims_free_string(wait_job(pid));

    CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe");
    pid = spawn_job("trap '' TERM; echo up; while :; do sleep 1000; done", fds[1], NULL);
    close(fds[1]);
    read_line(fds[0], "up"); /* the trap is set */
    close(fds[0]);
    out = POISON;
    EXPECT_OK("terminate_tree", sysprims_terminate_tree(pid, "{\"grace_timeout_ms\":50,\"kill_timeout_ms\":5000}",
                                      &out));
    CHECK(has(out, "\"escalated\":true"), "%s", out);
    sysprims_free_string(out);
    out = wait_job(pid);
    CHECK(has(out, "\"signal\":9"), "killed by SIGKILL: %s", out);
    sysprims_free_string(out);

    /* signal_send for real: TERM to a job, then its status */
    pid = spawn_job("exec sleep 1000", -1, NULL);
    CHECK(sysprims_signal_send(pid, SIGTERM) == SYSPRIMS_OK, "signal_send");
    out = wait_job(pid);
    CHECK(has(out, "\"signal\":15"), "%s", out);
    sysprims_free_string(out);
    pid = spawn_job("exec sleep 1000", -1, NULL);
    CHECK(sysprims_signal_group(pid, SIGKILL) == SYSPRIMS_OK, "signal_group");
    out = wait_job(pid);
    CHECK(has(out, "\"signal\":9"), "%s", out);
    sysprims_free_string(out);
}

static void test_fds_and_ports(void) {
    uint32_t me = (uint32_t)getpid();
    char buf[256];
    int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(sock >= 0, "socket");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(sock, (struct sockaddr *)&addr, sizeof addr) == 0, "bind");
    CHECK(listen(sock, 1) == 0, "listen");
    socklen_t len = sizeof addr;
    CHECK(getsockname(sock, (struct sockaddr *)&addr, &len) == 0, "getsockname");
    unsigned port = ntohs(addr.sin_port);

    char *out = POISON;
    EXPECT_OK("fds", sysprims_fds(me, "{\"kinds\":[\"socket\"]}", &out));
    CHECK(has(out, "fd-snapshot"), "%s", out);
    snprintf(buf, sizeof buf, "\"fd\":%d,", sock);
    CHECK(has(out, buf), "our socket fd %d: %s", sock, out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("fds(NULL)", sysprims_fds(me, NULL, &out));
    sysprims_free_string(out);

    snprintf(buf, sizeof buf, "{\"port\":%u,\"protocol\":\"tcp\"}", port);
    out = POISON;
    EXPECT_OK("ports", sysprims_ports(buf, &out));
    snprintf(buf, sizeof buf, "\"local_port\":%u,", port);
    CHECK(has(out, buf), "%s", out);
    snprintf(buf, sizeof buf, "\"pid\":%u,", me);
    CHECK(has(out, buf), "we hold it: %s", out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("ports(NULL)", sysprims_ports(NULL, &out));
    sysprims_free_string(out);
    close(sock);
}

struct waiter {
    uint32_t pid;
    const sysprims_cancel *cancel;
    int32_t rc;
    char *out;
    int32_t last_error;
};

static void *wait_in_thread(void *arg) {
    struct waiter *w = arg;
    w->rc = sysprims_wait_pid_cancellable(w->pid, -1, w->cancel, &w->out);
    w->last_error = sysprims_last_error_code();
    return NULL;
}

static void test_cancellation(void) {
    /* A job that ignores TERM. A wait on another thread, cancelled from this one, returns
     * not exited. */
    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe");
    uint32_t pid = spawn_job("trap '' TERM; echo up; while :; do sleep 1000; done", fds[1], NULL);
    close(fds[1]);
    read_line(fds[0], "up");
    close(fds[0]);
    sysprims_cancel *cancel = sysprims_cancel_new();
    CHECK(cancel != NULL, "cancel_new");
    struct waiter w = {.pid = pid, .cancel = cancel, .out = POISON};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, wait_in_thread, &w) == 0, "pthread_create");
    sysprims_cancel_trigger(cancel);
    sysprims_cancel_trigger(cancel); /* idempotent */
    CHECK(pthread_join(thread, NULL) == 0, "pthread_join");
    expect_ok("wait_pid_cancellable", w.rc, w.out);
    CHECK(w.last_error == 0, "waiter's last error");
    CHECK(has(w.out, "\"exited\":false") && has(w.out, "\"timed_out\":true") &&
              has(w.out, "\"cancelled\""),
          "%s", w.out);
    sysprims_free_string(w.out);
    /* untouched: still running */
    CHECK(sysprims_signal_send(pid, 0) == SYSPRIMS_OK, "the job still runs");
    char *out = POISON;
    EXPECT_OK("wait_pid(0 ms)", sysprims_wait_pid(pid, 0, &out));
    CHECK(has(out, "\"exited\":false"), "%s", out);
    sysprims_free_string(out);

    /* terminate_tree_cancellable with the token already triggered and a grace period of an
     * hour: it escalates to SIGKILL at once. */
    out = POISON;
    EXPECT_OK("terminate_tree_cancellable", sysprims_terminate_tree_cancellable(pid, "{\"grace_timeout_ms\":3600000}", cancel,
                                                  &out));
    CHECK(has(out, "\"escalated\":true") && has(out, "\"cancelled\""), "%s", out);
    sysprims_free_string(out);
    out = wait_job(pid);
    CHECK(has(out, "\"signal\":9"), "%s", out);
    sysprims_free_string(out);
    sysprims_cancel_free(cancel);

    /* An untriggered token changes nothing. */
    cancel = sysprims_cancel_new();
    CHECK(cancel != NULL, "cancel_new");
    pid = spawn_job("exit 4", -1, NULL);
    out = POISON;
    EXPECT_OK("wait_pid_cancellable(untriggered)", sysprims_wait_pid_cancellable(pid, -1, cancel, &out));
    CHECK(has(out, "\"exited\":true") && has(out, "\"exit_code\":4") && !has(out, "cancelled"),
          "%s", out);
    sysprims_free_string(out);
    forget_job(pid);
    sysprims_cancel_free(cancel);
}

/* Every bad input: InvalidArgument, last error set, *out_json NULL, no signal sent. */
/* ---- timeout ------------------------------------------------------------------------ */

struct timeout_runner {
    const char *request;
    const sysprims_cancel *cancel;
    int32_t rc;
    char *out;
};

static void *run_timeout_cancellable(void *arg) {
    struct timeout_runner *r = arg;
    r->rc = sysprims_timeout_run_cancellable(r->request, r->cancel, &r->out);
    return NULL;
}

static void test_timeout(void) {
    char *out;
    /* Completes: the command's status, and the status GNU timeout would exit with. */
    EXPECT_OK("timeout_run(exit 3)",
              sysprims_timeout_run(
                  "{\"argv\":[\"sh\",\"-c\",\"exit 3\"],\"timeout_ms\":60000}", &out));
    CHECK(has(out, "\"outcome\":\"completed\"") && number_of(out, "exit_code") == 3 &&
              number_of(out, "exit_status") == 3,
          "%s", out);
    CHECK(has(out, "timeout-report/v1.json"), "%s", out);
    sysprims_free_string(out);

    /* Times out: the job gets TERM, exit status 124. */
    EXPECT_OK("timeout_run(sleep)",
              sysprims_timeout_run("{\"argv\":[\"sleep\",\"1000\"],\"timeout_ms\":50}", &out));
    CHECK(has(out, "\"outcome\":\"timed_out\"") && number_of(out, "exit_status") == 124 &&
              number_of(out, "signal") == SIGTERM && has(out, "\"escalated\":false") &&
              has(out, "\"survivors\":[]"),
          "%s", out);
    sysprims_free_string(out);

    /* Not found: SpawnFailed, and the message names the program. */
    out = POISON;
    int32_t rc = sysprims_timeout_run(
        "{\"argv\":[\"sysprims-test-no-such-command\"],\"timeout_ms\":1000}", &out);
    CHECK(rc == SYSPRIMS_ERR_SPAWN_FAILED && out == NULL, "rc %d", rc);
    char *msg = sysprims_last_error_message();
    CHECK(has(msg, "sysprims-test-no-such-command"), "%s", msg);
    sysprims_free_string(msg);

    /* Cancelled from another thread while a TERM-ignoring job runs with no deadline: the
     * job is killed at once, whole. */
    sysprims_cancel *cancel = sysprims_cancel_new();
    CHECK(cancel != NULL, "cancel_new");
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    char request[256];
    snprintf(request, sizeof request,
             "{\"argv\":[\"sh\",\"-c\",\"trap '' TERM; echo up >&%d; exec sleep 1000\"],"
             "\"timeout_ms\":0}",
             fds[1]);
    struct timeout_runner r = {.request = request, .cancel = cancel, .out = POISON};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_timeout_cancellable, &r) == 0, "pthread_create");
    read_line(fds[0], "up");
    close(fds[1]); /* the job has its copy */
    sysprims_cancel_trigger(cancel);
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    expect_ok("timeout_run_cancellable", r.rc, r.out);
    CHECK(has(r.out, "\"outcome\":\"timed_out\"") && has(r.out, "\"escalated\":true") &&
              number_of(r.out, "signal") == SIGKILL && has(r.out, "\"cancelled\""),
          "%s", r.out);
    sysprims_free_string(r.out);
    /* Every holder of the pipe is gone: end of file. */
    char c;
    CHECK(read(fds[0], &c, 1) == 0, "a process of the cancelled job lives on");
    close(fds[0]);
    sysprims_cancel_free(cancel);
}

static void test_bad_inputs(uint32_t live) {
    const uint32_t bad_pids[] = {0, 2147483648u, 4294967295u};
    const char *bad_utf8 = "{\"argv\":[\"\xff\xfe\"]}";
    const char *malformed = "{\"argv\":";
    const char *unknown = "{\"bogus\":1}";
    const char *strings[] = {bad_utf8, malformed, unknown};
    char identity[128];
    snprintf(identity, sizeof identity, "{\"pid\":%u,\"start_time_unix_ms\":1}", live);
    sysprims_cancel *cancel = sysprims_cancel_new();
    CHECK(cancel != NULL, "cancel_new");
    char *out;

#define BAD(call)                                                                         \
    do {                                                                                  \
        out = POISON;                                                                     \
        int32_t rc_ = (call);                                                             \
        expect_invalid(#call, rc_, out);                                                  \
    } while (0)

    for (size_t i = 0; i < sizeof bad_pids / sizeof bad_pids[0]; i++) {
        uint32_t p = bad_pids[i];
        BAD(sysprims_process_get(p, &out));
        BAD(sysprims_descendants(p, -1, &out));
        out = NULL;
        expect_invalid("signal_send", sysprims_signal_send(p, BAD_SIGNAL), out);
        expect_invalid("signal_group", sysprims_signal_group(p, BAD_SIGNAL), out);
        BAD(sysprims_wait_pid(p, 0, &out));
        BAD(sysprims_wait_pid_cancellable(p, 0, cancel, &out));
        BAD(sysprims_terminate_tree(p, "{\"signal\":\"WINCH\",\"kill_signal\":\"WINCH\"}", &out));
        BAD(sysprims_terminate_tree_cancellable(
            p, "{\"signal\":\"WINCH\",\"kill_signal\":\"WINCH\"}", cancel, &out));
        BAD(sysprims_kill_descendants(p, BAD_SIGNAL, NULL, &out));
        BAD(sysprims_fds(p, NULL, &out));
        char json[96];
        snprintf(json, sizeof json, "[%u]", p);
        BAD(sysprims_signal_batch(json, BAD_SIGNAL, &out));
        snprintf(json, sizeof json, "[%u,%u]", live, p); /* one bad PID: nothing sent to any */
        BAD(sysprims_signal_batch(json, BAD_SIGNAL, &out));
        snprintf(json, sizeof json, "{\"pid\":%u,\"start_time_unix_ms\":1}", p);
        BAD(sysprims_signal_guarded(json, BAD_SIGNAL, &out));
        BAD(sysprims_identity_verify(json, &out));
        snprintf(json, sizeof json, "{\"pid\":%u}", p);
        BAD(sysprims_ports(json, &out));
    }
    /* Negative PIDs in JSON, and a PID that is not a number. */
    BAD(sysprims_signal_batch("[-1]", BAD_SIGNAL, &out));
    BAD(sysprims_signal_batch("[\"1\"]", BAD_SIGNAL, &out));
    BAD(sysprims_signal_guarded("{\"pid\":-1,\"start_time_unix_ms\":1}", BAD_SIGNAL, &out));

    /* Invalid signals. */
    out = NULL;
    expect_invalid("signal_send(-1)", sysprims_signal_send(live, -1), out);
    expect_invalid("signal_send(65)", sysprims_signal_send(live, 65), out);
    BAD(sysprims_kill_descendants(live, 32, NULL, &out));

    /* NULL out_json, for every function that has one. */
    const char *ok_config = "{\"argv\":[\"true\"]}";
    expect_invalid("process_get", sysprims_process_get(live, NULL), NULL);
    expect_invalid("process_list", sysprims_process_list(NULL, NULL), NULL);
    expect_invalid("descendants", sysprims_descendants(live, -1, NULL), NULL);
    expect_invalid("identity_verify", sysprims_identity_verify(identity, NULL), NULL);
    expect_invalid("signal_batch", sysprims_signal_batch("[1]", BAD_SIGNAL, NULL), NULL);
    expect_invalid("signal_guarded", sysprims_signal_guarded(identity, BAD_SIGNAL, NULL), NULL);
    expect_invalid("spawn_in_group", sysprims_spawn_in_group(ok_config, NULL), NULL);
    expect_invalid("wait_pid", sysprims_wait_pid(live, 0, NULL), NULL);
    expect_invalid("terminate_tree", sysprims_terminate_tree(live, NULL, NULL), NULL);
    expect_invalid("kill_descendants", sysprims_kill_descendants(live, BAD_SIGNAL, NULL, NULL),
                   NULL);
    expect_invalid("fds", sysprims_fds(live, NULL, NULL), NULL);
    expect_invalid("ports", sysprims_ports(NULL, NULL), NULL);
    expect_invalid("wait_pid_cancellable", sysprims_wait_pid_cancellable(live, 0, cancel, NULL),
                   NULL);
    expect_invalid("terminate_tree_cancellable",
                   sysprims_terminate_tree_cancellable(live, NULL, cancel, NULL), NULL);
    const char *ok_request = "{\"argv\":[\"true\"],\"timeout_ms\":1000}";
    expect_invalid("timeout_run", sysprims_timeout_run(ok_request, NULL), NULL);
    expect_invalid("timeout_run_cancellable",
                   sysprims_timeout_run_cancellable(ok_request, cancel, NULL), NULL);

    /* NULL for the required input pointers (optional configs take NULL as the defaults). */
    BAD(sysprims_identity_verify(NULL, &out));
    BAD(sysprims_signal_batch(NULL, BAD_SIGNAL, &out));
    BAD(sysprims_signal_guarded(NULL, BAD_SIGNAL, &out));
    BAD(sysprims_spawn_in_group(NULL, &out));
    BAD(sysprims_wait_pid_cancellable(live, 0, NULL, &out));
    BAD(sysprims_terminate_tree_cancellable(live, NULL, NULL, &out));
    BAD(sysprims_timeout_run(NULL, &out));
    BAD(sysprims_timeout_run_cancellable(NULL, cancel, &out));
    BAD(sysprims_timeout_run_cancellable(ok_request, NULL, &out));
    sysprims_cancel_trigger(NULL); /* does nothing but set the last error */
    CHECK(sysprims_last_error_code() == SYSPRIMS_ERR_INVALID_ARGUMENT, "cancel_trigger(NULL)");

    /* Invalid UTF-8, malformed JSON, unknown keys, wrong types: every JSON argument. */
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const char *s = strings[i];
        BAD(sysprims_process_list(s, &out));
        BAD(sysprims_identity_verify(s, &out));
        BAD(sysprims_signal_batch(s, BAD_SIGNAL, &out));
        BAD(sysprims_signal_guarded(s, BAD_SIGNAL, &out));
        BAD(sysprims_spawn_in_group(s, &out));
        BAD(sysprims_terminate_tree(live, s, &out));
        BAD(sysprims_terminate_tree_cancellable(live, s, cancel, &out));
        BAD(sysprims_kill_descendants(live, BAD_SIGNAL, s, &out));
        BAD(sysprims_fds(live, s, &out));
        BAD(sysprims_ports(s, &out));
        BAD(sysprims_timeout_run(s, &out));
        BAD(sysprims_timeout_run_cancellable(s, cancel, &out));
    }
    BAD(sysprims_timeout_run("{\"argv\":[],\"timeout_ms\":1}", &out));
    BAD(sysprims_timeout_run("{\"argv\":[\"true\"]}", &out)); /* timeout_ms is required */
    BAD(sysprims_timeout_run("{\"argv\":[\"true\"],\"timeout_ms\":1,\"config\":{\"x\":1}}", &out));
    BAD(sysprims_terminate_tree(live, "{\"grace_timeout_ms\":\"soon\"}", &out));
    BAD(sysprims_terminate_tree(live, "", &out));
    BAD(sysprims_terminate_tree(live, "[\"TERM\"]", &out)); /* not positional fields */
    BAD(sysprims_spawn_in_group("[[\"true\"]]", &out));
    BAD(sysprims_spawn_in_group("{\"argv\":[]}", &out));
    BAD(sysprims_identity_verify("{\"pid\":1}", &out)); /* nothing to compare */

    /* The message names the problem. */
    out = POISON;
    sysprims_process_list("{\"bogus\":1}", &out);
    char *msg = sysprims_last_error_message();
    CHECK(has(msg, "options_json") && has(msg, "bogus"), "%s", msg);
    sysprims_free_string(msg);
    sysprims_process_get(4294967295u, &out);
    msg = sysprims_last_error_message();
    CHECK(has(msg, "4294967295"), "%s", msg);
    sysprims_free_string(msg);
    sysprims_signal_batch("[\"\xff\"]", BAD_SIGNAL, &out);
    msg = sysprims_last_error_message();
    CHECK(has(msg, "UTF-8"), "%s", msg);
    sysprims_free_string(msg);

    sysprims_cancel_free(cancel);
#undef BAD
}

/* ---- thread IDs and the strong identity ------------------------------------------------ */

static int started_pipe[2]; /* the thread -> main: its ID is set */
static int stop_pipe[2];    /* main -> the thread: end now (closed) */
static volatile pid_t thread_tid;

static void *parked_thread(void *arg) {
    (void)arg;
    thread_tid = gettid();
    char c = 1;
    CHECK(write(started_pipe[1], &c, 1) == 1, "thread: write");
    /* Parked until the main thread closes stop_pipe's write end. */
    ssize_t r = read(stop_pipe[0], &c, 1);
    (void)r;
    return NULL;
}

/* A thread ID is not a process: refused, with the process named; before the fix
 * sysprims_signal_send(<tid>, SIGTERM) ended this program. */
static void expect_thread_refused(const char *what, int32_t rc, char *out, uint32_t tid) {
    CHECK(rc == SYSPRIMS_ERR_INVALID_ARGUMENT, "%s: rc %d, not InvalidArgument", what, rc);
    CHECK(out == NULL, "%s: *out_json is %s", what, out);
    char want[96];
    snprintf(want, sizeof want, "%u is a thread of process %d", tid, (int)getpid());
    char *msg = sysprims_last_error_message();
    CHECK(msg != NULL && strstr(msg, want) != NULL, "%s: message %s, want \"%s\"", what, msg,
          want);
    sysprims_free_string(msg);
}

/* The call first, then the check: C leaves the order of a call's arguments unspecified. */
#define EXPECT_THREAD_REFUSED(what, call, tid)                                            \
    do {                                                                                  \
        out = POISON;                                                                     \
        int32_t rc_ = (call);                                                             \
        expect_thread_refused(what, rc_, out, tid);                                       \
    } while (0)

static void test_thread_ids_and_identity(void) {
    CHECK(pipe(started_pipe) == 0 && pipe(stop_pipe) == 0, "pipe: %s", strerror(errno));
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, parked_thread, NULL) == 0, "pthread_create");
    char c;
    CHECK(read(started_pipe[0], &c, 1) == 1, "thread never started");
    uint32_t tid = (uint32_t)thread_tid;
    CHECK(tid != (uint32_t)getpid(), "the thread has the process's ID");

    char *out = NULL;
    int32_t rc = sysprims_signal_send(tid, SIGTERM);
    expect_thread_refused("signal_send", rc, NULL, tid);
    char pids[32];
    snprintf(pids, sizeof pids, "[%u]", tid);
    EXPECT_THREAD_REFUSED("signal_batch", sysprims_signal_batch(pids, SIGTERM, &out), tid);
    char identity[96];
    snprintf(identity, sizeof identity, "{\"pid\":%u,\"start_time_unix_ms\":1}", tid);
    EXPECT_THREAD_REFUSED("signal_guarded", sysprims_signal_guarded(identity, SIGTERM, &out),
                          tid);
    EXPECT_THREAD_REFUSED("process_get", sysprims_process_get(tid, &out), tid);
    EXPECT_THREAD_REFUSED("terminate_tree", sysprims_terminate_tree(tid, NULL, &out), tid);
    EXPECT_THREAD_REFUSED("wait_pid", sysprims_wait_pid(tid, 1000, &out), tid);

    close(stop_pipe[1]);
    pthread_join(thread, NULL);
    close(stop_pipe[0]);
    close(started_pipe[0]);
    close(started_pipe[1]);

    /* process_get carries the strong identity, as ProcessIdentity names its fields. */
    EXPECT_OK("process_get(self)", sysprims_process_get((uint32_t)getpid(), &out));
    CHECK(has(out, "\"start_time_boot_ticks\":") && has(out, "\"boot_id\":\"") &&
              has(out, "\"pidfs_inode\":"),
          "no strong identity in %s", out);
    sysprims_free_string(out);
}

int main(void) {
    /* Our own process group: a library that turned PID 0 into kill(0, ...) would reach this
     * program and the sentinel, not the test harness around it. */
    CHECK(setpgid(0, 0) == 0, "setpgid: %s", strerror(errno));
    start_sentinel();

    test_version_and_memory();
    test_process_queries();
    test_thread_ids_and_identity();

    /* Bad inputs, with a live job as the valid target where one is needed. */
    uint32_t live = spawn_job("exec sleep 1000", -1, NULL);
    test_bad_inputs(live);
    CHECK(!sentinel_saw_signal(), "a bad call sent a signal");
    char *out = POISON;
    EXPECT_OK("wait_pid(0 ms)", sysprims_wait_pid(live, 0, &out));
    CHECK(has(out, "\"exited\":false"), "the live job was not touched: %s", out);
    sysprims_free_string(out);
    out = POISON;
    EXPECT_OK("terminate_tree", sysprims_terminate_tree(live, NULL, &out));
    sysprims_free_string(out);
    sysprims_free_string(wait_job(live));

    test_job_lifecycle();
    test_fds_and_ports();
    test_cancellation();
    test_timeout();

    cleanup();
    printf("sysprims C ABI: %d checks passed\n", checks);
    return 0;
}
