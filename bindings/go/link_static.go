//go:build !sysprims_shared && !windows && !darwin

package sysprims

// By default the package links the static library that `cargo build --release -p
// sysprims-ffi` leaves in the repository's target directory, so a program built with it needs
// nothing at run time. The system libraries are what the Rust standard library itself needs
// (rustc --print native-static-libs).

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libsysprims_ffi.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
*/
import "C"

// linkMode says how the library is linked, for the tests.
const linkMode = "static"
