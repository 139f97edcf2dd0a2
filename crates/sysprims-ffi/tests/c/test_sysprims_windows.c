/*
 * The C ABI on Windows (built with mingw, run under Wine in CI by scripts/wine/test-c): the
 * version handshake, reading the caller, errors that name the bad value, a job spawned into
 * a Job Object and ended whole, a cancelled wait, INT refused on Windows, listening ports.
 *
 * The child is this program again with the argument "child": it sleeps until it is ended.
 * Exits non-zero at the first failed check, after ending the child it started.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "sysprims.h"

static uint32_t child_pid;

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (child_pid != 0) {
        HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, child_pid);
        if (h != NULL) {
            TerminateProcess(h, 1);
            CloseHandle(h);
        }
    }
    exit(1);
}

#define CHECK(cond, ...) \
    do { \
        if (!(cond)) fail(__VA_ARGS__); \
    } while (0)

/* The unsigned number after "key": in a JSON document, or -1. */
static long long json_number(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    if (at == NULL) return -1;
    return strtoll(at + strlen(pattern), NULL, 10);
}

static void test_version_and_self(void) {
    CHECK(sysprims_abi_version() == SYSPRIMS_ABI_VERSION, "ABI %u, header %d",
          sysprims_abi_version(), SYSPRIMS_ABI_VERSION);
    char *json = NULL;
    DWORD me = GetCurrentProcessId();
    int32_t rc = sysprims_process_get(me, &json);
    CHECK(rc == SYSPRIMS_OK, "process_get(self): %d", rc);
    CHECK(json_number(json, "pid") == (long long)me, "process_get(self): %s", json);
    CHECK(strstr(json, "test_sysprims_windows") != NULL, "our name: %s", json);
    sysprims_free_string(json);

    json = NULL;
    rc = sysprims_process_list(NULL, &json);
    CHECK(rc == SYSPRIMS_OK, "process_list: %d", rc);
    char mine[32];
    snprintf(mine, sizeof mine, "\"pid\":%lu,", (unsigned long)me);
    CHECK(strstr(json, mine) != NULL, "the listing has us");
    sysprims_free_string(json);
}

static void test_errors_name_the_value(void) {
    char *json = NULL;
    CHECK(sysprims_process_get(0, &json) == SYSPRIMS_ERR_INVALID_ARGUMENT, "PID 0");
    CHECK(json == NULL, "no output on an error");
    CHECK(sysprims_last_error_code() == SYSPRIMS_ERR_INVALID_ARGUMENT, "last error code");
    char *msg = sysprims_last_error_message();
    CHECK(msg != NULL && strstr(msg, "0") != NULL, "the message names the PID: %s",
          msg ? msg : "(null)");
    sysprims_free_string(msg);
    CHECK(sysprims_process_list("{\"no_such_key\": 1}", &json) ==
              SYSPRIMS_ERR_INVALID_ARGUMENT,
          "an unknown key is refused");
    msg = sysprims_last_error_message();
    CHECK(msg != NULL && strstr(msg, "no_such_key") != NULL, "names the key: %s",
          msg ? msg : "(null)");
    sysprims_free_string(msg);
}

/* Spawn this program as "child" in a job of its own; its PID. */
static uint32_t spawn_child(void) {
    char exe[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, exe, sizeof exe);
    CHECK(n > 0 && n < sizeof exe, "GetModuleFileNameA");
    /* JSON-escape the path's backslashes. */
    char escaped[2 * MAX_PATH + 1];
    size_t j = 0;
    for (DWORD i = 0; i < n; i++) {
        if (exe[i] == '\\' || exe[i] == '"') escaped[j++] = '\\';
        escaped[j++] = exe[i];
    }
    escaped[j] = '\0';
    char config[3 * MAX_PATH];
    snprintf(config, sizeof config, "{\"argv\": [\"%s\", \"child\"], \"stdout\": \"null\"}",
             escaped);
    char *json = NULL;
    int32_t rc = sysprims_spawn_in_group(config, &json);
    CHECK(rc == SYSPRIMS_OK, "spawn_in_group: %d (%s)", rc, config);
    CHECK(strstr(json, "\"containment\":\"job_object\"") != NULL, "a Job Object: %s", json);
    CHECK(strstr(json, "\"tree_kill_reliability\":\"guaranteed\"") != NULL, "guaranteed: %s",
          json);
    CHECK(strstr(json, "\"pgid\":null") != NULL, "no process group: %s", json);
    long long pid = json_number(json, "pid");
    CHECK(pid > 0, "a PID: %s", json);
    sysprims_free_string(json);
    return (uint32_t)pid;
}

static void test_job_wait_cancel_and_terminate(void) {
    child_pid = spawn_child();
    char *json = NULL;

    /* A wait that times out, then one that a triggered token ends. */
    int32_t rc = sysprims_wait_pid(child_pid, 50, &json);
    CHECK(rc == SYSPRIMS_OK, "wait_pid: %d", rc);
    CHECK(strstr(json, "\"timed_out\":true") != NULL, "timed out: %s", json);
    sysprims_free_string(json);
    sysprims_cancel *cancel = sysprims_cancel_new();
    CHECK(cancel != NULL, "cancel_new");
    sysprims_cancel_trigger(cancel);
    json = NULL;
    rc = sysprims_wait_pid_cancellable(child_pid, -1, cancel, &json);
    CHECK(rc == SYSPRIMS_OK, "wait_pid_cancellable: %d", rc);
    CHECK(strstr(json, "\"cancelled\"") != NULL, "the cancel warning: %s", json);
    sysprims_free_string(json);
    sysprims_cancel_free(cancel);

    /* INT has no Windows equivalent for one process: refused, nothing sent. */
    CHECK(sysprims_signal_send(child_pid, 2) == SYSPRIMS_ERR_NOT_SUPPORTED, "INT");

    /* The job ends whole. */
    HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, child_pid);
    CHECK(h != NULL, "OpenProcess(child)");
    json = NULL;
    rc = sysprims_terminate_tree(child_pid, NULL, &json);
    CHECK(rc == SYSPRIMS_OK, "terminate_tree: %d", rc);
    CHECK(strstr(json, "\"exited\":true") != NULL, "exited: %s", json);
    CHECK(strstr(json, "\"tree_kill_reliability\":\"guaranteed\"") != NULL, "%s", json);
    sysprims_free_string(json);
    CHECK(WaitForSingleObject(h, 10000) == WAIT_OBJECT_0, "the child is gone");
    DWORD code = 0;
    CHECK(GetExitCodeProcess(h, &code) && code == 143, "exit code 128 + 15, got %lu",
          (unsigned long)code);
    CloseHandle(h);
    child_pid = 0;
}

static void test_ports(void) {
    char *json = NULL;
    int32_t rc = sysprims_ports(NULL, &json);
    CHECK(rc == SYSPRIMS_OK, "ports: %d", rc);
    CHECK(strstr(json, "\"bindings\":") != NULL, "a bindings list: %s", json);
    sysprims_free_string(json);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        Sleep(120000);
        return 0;
    }
    printf("sysprims %s\n", sysprims_version());
    test_version_and_self();
    test_errors_name_the_value();
    test_job_wait_cancel_and_terminate();
    test_ports();
    printf("ok\n");
    return 0;
}
