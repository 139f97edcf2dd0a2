// Shims between Go and the C ABI.
//
// The library keeps its last error per OS thread, and a goroutine may move to another thread
// between two cgo calls. So every call and the read of its error happen here, in one C call
// on one thread, and come back together by value (no Go pointer escapes for an out-param).
#include <stdlib.h>
#include <string.h>
#include "shim.h"

static sp_ret sp_finish(int32_t rc, char *out) {
	sp_ret r = {rc, out, 0, NULL};
	if (rc != 0) {
		r.err = sysprims_last_error_message();
		if (out != NULL) {
			sysprims_free_string(out);
			r.out = NULL;
		}
	} else if (out != NULL) {
		r.len = strlen(out);
	}
	return r;
}

#define SP_CALL(expr) do { char *out = NULL; int32_t rc = (expr); return sp_finish(rc, out); } while (0)

sp_ret sp_process_get(uint32_t pid) { SP_CALL(sysprims_process_get(pid, &out)); }
sp_ret sp_process_list(const char *opts) { SP_CALL(sysprims_process_list(opts, &out)); }
sp_ret sp_descendants(uint32_t pid, int32_t levels) { SP_CALL(sysprims_descendants(pid, levels, &out)); }
sp_ret sp_identity_verify(const char *id) { SP_CALL(sysprims_identity_verify(id, &out)); }
sp_ret sp_signal_send(uint32_t pid, int32_t sig) { return sp_finish(sysprims_signal_send(pid, sig), NULL); }
sp_ret sp_signal_group(uint32_t pgid, int32_t sig) { return sp_finish(sysprims_signal_group(pgid, sig), NULL); }
sp_ret sp_signal_batch(const char *pids, int32_t sig) { SP_CALL(sysprims_signal_batch(pids, sig, &out)); }
sp_ret sp_signal_guarded(const char *id, int32_t sig) { SP_CALL(sysprims_signal_guarded(id, sig, &out)); }
sp_ret sp_spawn_in_group(const char *cfg) { SP_CALL(sysprims_spawn_in_group(cfg, &out)); }
sp_ret sp_wait_pid(uint32_t pid, int64_t ms) { SP_CALL(sysprims_wait_pid(pid, ms, &out)); }
sp_ret sp_terminate_tree(uint32_t pid, const char *cfg) { SP_CALL(sysprims_terminate_tree(pid, cfg, &out)); }
sp_ret sp_kill_descendants(uint32_t pid, int32_t sig, const char *opts) { SP_CALL(sysprims_kill_descendants(pid, sig, opts, &out)); }
sp_ret sp_fds(uint32_t pid, const char *filter) { SP_CALL(sysprims_fds(pid, filter, &out)); }
sp_ret sp_ports(const char *filter) { SP_CALL(sysprims_ports(filter, &out)); }
sp_ret sp_wait_pid_cancellable(uint32_t pid, int64_t ms, const sysprims_cancel *c) { SP_CALL(sysprims_wait_pid_cancellable(pid, ms, c, &out)); }
sp_ret sp_terminate_tree_cancellable(uint32_t pid, const char *cfg, const sysprims_cancel *c) { SP_CALL(sysprims_terminate_tree_cancellable(pid, cfg, c, &out)); }
sp_ret sp_timeout_run(const char *req) { SP_CALL(sysprims_timeout_run(req, &out)); }
sp_ret sp_timeout_run_cancellable(const char *req, const sysprims_cancel *c) { SP_CALL(sysprims_timeout_run_cancellable(req, c, &out)); }



sp_cancel_ret sp_cancel_new(void) {
	sp_cancel_ret r = {sysprims_cancel_new(), 0, NULL};
	if (r.token == NULL) {
		r.rc = sysprims_last_error_code();
		if (r.rc == 0) r.rc = 8;
		r.err = sysprims_last_error_message();
	}
	return r;
}
