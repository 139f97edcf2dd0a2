// Shims between Go and the C ABI: see shim.c.
#ifndef SYSPRIMS_GO_SHIM_H
#define SYSPRIMS_GO_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include "sysprims.h"

typedef struct {
	int32_t rc;
	char *out;   // the JSON result, or NULL
	size_t len;  // strlen(out)
	char *err;   // the error message on failure, or NULL
} sp_ret;

typedef struct {
	sysprims_cancel *token;
	int32_t rc;
	char *err;
} sp_cancel_ret;

sp_ret sp_process_get(uint32_t pid);
sp_ret sp_process_list(const char *opts);
sp_ret sp_descendants(uint32_t pid, int32_t levels);
sp_ret sp_identity_verify(const char *id);
sp_ret sp_signal_send(uint32_t pid, int32_t sig);
sp_ret sp_signal_group(uint32_t pgid, int32_t sig);
sp_ret sp_signal_batch(const char *pids, int32_t sig);
sp_ret sp_signal_guarded(const char *id, int32_t sig);
sp_ret sp_spawn_in_group(const char *cfg);
sp_ret sp_wait_pid(uint32_t pid, int64_t ms);
sp_ret sp_terminate_tree(uint32_t pid, const char *cfg);
sp_ret sp_kill_descendants(uint32_t pid, int32_t sig, const char *opts);
sp_ret sp_fds(uint32_t pid, const char *filter);
sp_ret sp_ports(const char *filter);
sp_ret sp_wait_pid_cancellable(uint32_t pid, int64_t ms, const sysprims_cancel *c);
sp_ret sp_terminate_tree_cancellable(uint32_t pid, const char *cfg, const sysprims_cancel *c);
sp_ret sp_timeout_run(const char *req);
sp_ret sp_timeout_run_cancellable(const char *req, const sysprims_cancel *c);
sp_cancel_ret sp_cancel_new(void);

#endif
