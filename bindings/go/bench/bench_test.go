package bench

import (
	"os"
	"testing"

	"github.com/shirou/gopsutil/v4/process"
	"sysprims.dev/sysprims"
)

func BenchmarkProcessGet(b *testing.B) {
	pid := uint32(os.Getpid())
	for b.Loop() {
		if _, err := sysprims.ProcessGet(pid); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGopsutil(b *testing.B) {
	pid := int32(os.Getpid())
	for b.Loop() {
		p, err := process.NewProcess(pid)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.CreateTime(); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Exe(); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Cmdline(); err != nil {
			b.Fatal(err)
		}
	}
}
