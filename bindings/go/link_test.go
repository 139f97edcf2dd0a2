//go:build linux

package sysprims

import (
	"os"
	"strings"
	"testing"
)

// The default build links the static library into the binary; the sysprims_shared build
// tag loads libsysprims_ffi.so at run time (go test -tags sysprims_shared runs this too).
func TestLinkMode(t *testing.T) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	loaded := strings.Contains(string(maps), "/libsysprims_ffi.so")
	switch linkMode {
	case "static":
		if loaded {
			t.Fatal("static build, but libsysprims_ffi.so is mapped")
		}
	case "shared":
		if !loaded {
			t.Fatal("shared build, but libsysprims_ffi.so is not mapped")
		}
	}
	if _, err := ProcessGet(uint32(os.Getpid())); err != nil {
		t.Fatal(err)
	}
}
