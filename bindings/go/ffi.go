package sysprims

/*
#cgo CFLAGS: -I${SRCDIR}/../../crates/sysprims-ffi/include
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"unsafe"
)

// ABIVersion returns the version of the C ABI the package is linked against.
func ABIVersion() uint32 { return uint32(C.sysprims_abi_version()) }

// Version returns the library's version string.
func Version() string { return C.GoString(C.sysprims_version()) }

// cstr returns a NUL-terminated copy of b that C may read during one call. It is Go memory
// without Go pointers, which cgo allows C to read while the call lasts.
func cstr(b []byte) *C.char {
	b = append(b, 0)
	return (*C.char)(unsafe.Pointer(&b[0]))
}

// jsonArg encodes v for the library; a nil pointer becomes NULL (the library's defaults).
func jsonArg(op string, v any, isNil bool) (*C.char, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, invalid(op, "cannot encode the argument as JSON: %v", err)
	}
	return cstr(b), nil
}

// failure turns a failed call into an *Error, freeing the message.
func failure(op string, rc C.int32_t, msg *C.char) error {
	e := &Error{Code: ErrorCode(rc), Op: op}
	if msg != nil {
		e.Message = C.GoString(msg)
		C.sysprims_free_string(msg)
	} else {
		e.Message = e.Code.String()
	}
	return e
}

// testHookJSON, when set (by tests only), sees every JSON document the library returns.
var testHookJSON func(op string, data []byte)

// finish checks r and decodes its JSON into v (when v is not nil), freeing the C string.
func finish(op string, r C.sp_ret, v any) error {
	if r.rc != 0 {
		return failure(op, r.rc, r.err)
	}
	if r.out == nil {
		if v == nil {
			return nil
		}
		return &Error{Code: CodeInternal, Op: op, Message: "the library returned success without a result"}
	}
	defer C.sysprims_free_string(r.out)
	if v == nil {
		return nil
	}
	// json.Unmarshal copies every string it keeps, so the C memory can be freed after.
	data := unsafe.Slice((*byte)(unsafe.Pointer(r.out)), int(r.len))
	if testHookJSON != nil {
		testHookJSON(op, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &Error{Code: CodeInternal, Op: op, Message: "cannot decode the library's result: " + err.Error()}
	}
	return nil
}
