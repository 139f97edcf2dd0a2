//go:build sysprims_shared && !windows

package sysprims

// With the build tag sysprims_shared the package links the shared library
// (target/release/libsysprims_ffi.so) instead, found at run time through an rpath to the
// same directory (or LD_LIBRARY_PATH when the program is moved).
//
// Use it when the program also links another Rust static library (through another cgo
// package): each Rust staticlib carries its own copy of the Rust standard library and runtime
// symbols (rust_eh_personality, __rust_alloc, ...), and linking two of them into one binary
// fails with duplicate symbols. A shared library keeps its copy to itself.

/*
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lsysprims_ffi -Wl,-rpath,${SRCDIR}/../../target/release
*/
import "C"

// linkMode says how the library is linked, for the tests.
const linkMode = "shared"
