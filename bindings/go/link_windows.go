package sysprims

// On Windows (cgo with mingw-w64's gcc) the package links the static library that `cargo
// build --release -p sysprims-ffi --target x86_64-pc-windows-gnu` leaves in the repository's
// target directory. The system libraries are what the Rust standard library needs there
// (rustc --print native-static-libs); the library's own Windows calls bind at load time
// through windows-sys (raw-dylib), with no import library.

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/x86_64-pc-windows-gnu/release/libsysprims_ffi.a -lkernel32 -lntdll -luserenv -lws2_32 -ldbghelp
*/
import "C"

// linkMode says how the library is linked, for the tests.
const linkMode = "static"
