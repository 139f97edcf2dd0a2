package sysprims

/*
#include "shim.h"
*/
import "C"

// The C ABI without this package's validation in front of it, for the tests that show the
// library itself refuses bad input (a caller of the C ABI from another language has no Go
// checks).

func rawSignalSend(pid uint32, sig int) error {
	return finish("raw", C.sp_signal_send(C.uint32_t(pid), C.int32_t(sig)), nil)
}

func rawSignalGroup(pgid uint32, sig int) error {
	return finish("raw", C.sp_signal_group(C.uint32_t(pgid), C.int32_t(sig)), nil)
}

func rawProcessGet(pid uint32) error {
	var info ProcessInfo
	return finish("raw", C.sp_process_get(C.uint32_t(pid)), &info)
}

func rawTerminateTree(pid uint32, configJSON string) error {
	var res TerminateTreeResult
	return finish("raw", C.sp_terminate_tree(C.uint32_t(pid), cstr([]byte(configJSON))), &res)
}

func rawSpawn(configJSON string) (*SpawnInGroupResult, error) {
	var res SpawnInGroupResult
	if err := finish("raw", C.sp_spawn_in_group(cstr([]byte(configJSON))), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func rawSignalBatch(pidsJSON string, sig int) error {
	var rep KillReport
	return finish("raw", C.sp_signal_batch(cstr([]byte(pidsJSON)), C.int32_t(sig)), &rep)
}

func rawWaitPID(pid uint32) error {
	var res WaitPIDResult
	return finish("raw", C.sp_wait_pid(C.uint32_t(pid), 0), &res)
}
