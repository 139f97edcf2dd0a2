//go:build !sysprims_shared && darwin

package sysprims

// On macOS the package links the static library built for the Mac's target, `cargo build
// --release -p sysprims-ffi --target aarch64-apple-darwin` (or x86_64-apple-darwin), with
// the system libraries rustc names for it (--print native-static-libs). macOS is compiled
// and linked on Linux here (CC a zig wrapper, GOOS=darwin CGO_ENABLED=1), not run.

/*
#cgo arm64 LDFLAGS: ${SRCDIR}/../../target/aarch64-apple-darwin/release/libsysprims_ffi.a -liconv -lSystem -lc -lm
#cgo amd64 LDFLAGS: ${SRCDIR}/../../target/x86_64-apple-darwin/release/libsysprims_ffi.a -liconv -lSystem -lc -lm
*/
import "C"

// linkMode says how the library is linked, for the tests.
const linkMode = "static"
