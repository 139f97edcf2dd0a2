package sysprims

/*
#include <stddef.h>
*/
import "C"

import "unsafe"

// cBytes views C memory as a byte slice, without copying. The slice must not outlive the
// C string.
func cBytes(p *C.char, n C.size_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// decodeProcessInfo decodes one ProcessInfo document into p.
func decodeProcessInfo(data []byte, p *ProcessInfo) error {
	return p.UnmarshalJSON(data)
}
