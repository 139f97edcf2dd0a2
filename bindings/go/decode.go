package sysprims

/*
#include <stddef.h>
*/
import "C"

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// cBytes views C memory as a byte slice, without copying. The slice must not outlive the
// C string.
func cBytes(p *C.char, n C.size_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// decodeProcessInfo decodes one ProcessInfo document into p: a lean decoder for
// ProcessGet's hot path, several times faster than encoding/json's reflection for this one
// flat type, with one allocation for the struct and its scalar pointers. Unknown keys are
// skipped (a newer library may add fields). Anything it does not expect falls back to
// encoding/json, so it is never less correct.
func decodeProcessInfo(data []byte, p *ProcessInfo) error {
	if err := leanProcessInfo(data, p); err != nil {
		*p = ProcessInfo{}
		return p.UnmarshalJSON(data)
	}
	return nil
}

// infoBox holds a ProcessInfo and the values its pointers point at, so that one allocation
// serves them all.
type infoBox struct {
	info  ProcessInfo
	start uint64
	ticks uint64
	inode uint64
	boot  string
	user  string
	exe   string
}

var errLean = errors.New("lean decoder: unexpected input")

// newProcessInfo decodes data into a new ProcessInfo.
func newProcessInfo(data []byte) (*ProcessInfo, error) {
	box := new(infoBox)
	if err := leanProcessInfoBox(data, box); err != nil {
		p := new(ProcessInfo)
		if err := p.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		return p, nil
	}
	return &box.info, nil
}

func leanProcessInfo(data []byte, p *ProcessInfo) error {
	box := new(infoBox)
	if err := leanProcessInfoBox(data, box); err != nil {
		return err
	}
	*p = box.info
	return nil
}

func leanProcessInfoBox(data []byte, box *infoBox) error {
	// encoding/json replaces invalid UTF-8 with U+FFFD; the library never writes any, but
	// if it did, the fallback keeps the two decoders' results the same.
	if !utf8.Valid(data) {
		return errLean
	}
	s := scanner{b: data}
	p := &box.info
	if !s.consume('{') {
		return errLean
	}
	if s.consume('}') {
		return s.end()
	}
	for {
		key, ok := s.rawString()
		if !ok || !s.consume(':') {
			return errLean
		}
		var err error
		switch string(key) {
		case "pid":
			p.PID, err = s.u32()
		case "ppid":
			p.PPID, err = s.u32()
		case "pgid":
			p.PGID, err = s.u32()
		case "sid":
			p.SID, err = s.u32()
		case "uid":
			p.UID, err = s.u32()
		case "thread_count":
			p.ThreadCount, err = s.u32()
		case "memory_kb":
			p.MemoryKB, err = s.u64()
		case "elapsed_ms":
			p.ElapsedMS, err = s.u64()
		case "name":
			p.Name, err = s.str()
		case "state":
			var st string
			st, err = s.str()
			p.State = ProcessState(st)
		case "kernel_thread":
			p.KernelThread, err = s.boolean()
		case "exe_deleted":
			p.ExeDeleted, err = s.boolean()
		case "cpu_percent":
			p.CPUPercent, err = s.f64()
		case "user":
			if !s.null() {
				box.user, err = s.str()
				p.User = &box.user
			}
		case "exe_path":
			if !s.null() {
				box.exe, err = s.str()
				p.ExePath = &box.exe
			}
		case "start_time_unix_ms":
			if !s.null() {
				box.start, err = s.u64()
				p.StartTimeUnixMS = &box.start
			}
		case "start_time_boot_ticks":
			if !s.null() {
				box.ticks, err = s.u64()
				p.StartTimeBootTicks = &box.ticks
			}
		case "pidfs_inode":
			if !s.null() {
				box.inode, err = s.u64()
				p.PidfsInode = &box.inode
			}
		case "boot_id":
			if !s.null() {
				box.boot, err = s.str()
				p.BootID = &box.boot
			}
		case "cmdline":
			p.Cmdline, err = s.strings()
		case "cmdline_base64":
			p.CmdlineBase64, err = s.strings()
		case "env":
			p.Env, err = s.strMap()
		default:
			// encoding/json matches keys case-insensitively (with Unicode folding): leave
			// anything that could fold onto a known key to it.
			for _, c := range key {
				if c >= 'A' && c <= 'Z' || c >= 0x80 {
					return errLean
				}
			}
			err = s.skip(0)
		}
		if err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			p.StartTimeUnixMs = p.StartTimeUnixMS
			return s.end()
		}
		return errLean
	}
}

// scanner reads the compact JSON serde_json writes. Every failure is errLean.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errLean
	}
	return nil
}

func (s *scanner) null() bool {
	s.ws()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

func (s *scanner) boolean() (bool, error) {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
		return true, nil
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
		return false, nil
	}
	return false, errLean
}

// number returns the bytes of a JSON number, or nil when there is none (RFC 8259 grammar:
// -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?).
func (s *scanner) number() []byte {
	s.ws()
	b, i := s.b, s.i
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return nil
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return nil
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil
		}
	}
	s.i = i
	return b[start:i]
}

func (s *scanner) u64() (uint64, error) {
	n := s.number()
	if len(n) == 0 || len(n) > 20 {
		return 0, errLean
	}
	var v uint64
	for _, c := range n {
		if c < '0' || c > '9' {
			return 0, errLean
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, errLean
		}
		v = v*10 + d
	}
	return v, nil
}

func (s *scanner) u32() (uint32, error) {
	v, err := s.u64()
	if err != nil || v > 1<<32-1 {
		return 0, errLean
	}
	return uint32(v), nil
}

func (s *scanner) f64() (float64, error) {
	n := s.number()
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, errLean
	}
	return v, nil
}

// rawString returns a string's bytes when it has no escapes (object keys), without
// allocating.
func (s *scanner) rawString() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

func (s *scanner) str() (string, error) {
	if !s.consume('"') {
		return "", errLean
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			s.i++
			return string(s.b[start : s.i-1]), nil
		}
		if c == '\\' {
			return s.escaped(start)
		}
		if c < 0x20 {
			return "", errLean
		}
		s.i++
	}
	return "", errLean
}

// escaped decodes the rest of a string that has escapes, from its start.
func (s *scanner) escaped(start int) (string, error) {
	buf := make([]byte, 0, s.i-start+16)
	buf = append(buf, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(buf), nil
		case c < 0x20:
			return "", errLean
		case c != '\\':
			buf = append(buf, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", errLean
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", errLean
			}
			if utf16.IsSurrogate(r) {
				// Only a well-formed pair is decoded here; encoding/json's treatment of
				// lone surrogates is left to it (the library writes no \u escapes above
				// U+001F anyway).
				if r >= 0xDC00 || s.i+1 >= len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
					return "", errLean
				}
				s.i += 2
				low, ok := s.hex4()
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return "", errLean
				}
				r = utf16.DecodeRune(r, low)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", errLean
		}
	}
	return "", errLean
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// strings decodes an array of strings (null is nil).
func (s *scanner) strings() ([]string, error) {
	if s.null() {
		return nil, nil
	}
	if !s.consume('[') {
		return nil, errLean
	}
	out := make([]string, 0, 8)
	if s.consume(']') {
		return out, nil
	}
	for {
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return out, nil
		}
		return nil, errLean
	}
}

// strMap decodes an object of strings (null is nil).
func (s *scanner) strMap() (map[string]string, error) {
	if s.null() {
		return nil, nil
	}
	if !s.consume('{') {
		return nil, errLean
	}
	out := make(map[string]string)
	if s.consume('}') {
		return out, nil
	}
	for {
		k, err := s.str()
		if err != nil || !s.consume(':') {
			return nil, errLean
		}
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		out[k] = v
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return out, nil
		}
		return nil, errLean
	}
}

// skip passes over any value (an unknown key's), up to a nesting depth.
func (s *scanner) skip(depth int) error {
	if depth > 64 {
		return errLean
	}
	s.ws()
	if s.i >= len(s.b) {
		return errLean
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, err := s.str()
		return err
	case c == 't' || c == 'f':
		_, err := s.boolean()
		return err
	case c == 'n':
		if s.null() {
			return nil
		}
		return errLean
	case c == '[' || c == '{':
		closing := byte(']')
		if c == '{' {
			closing = '}'
		}
		s.i++
		if s.consume(closing) {
			return nil
		}
		for {
			if c == '{' {
				if _, err := s.str(); err != nil || !s.consume(':') {
					return errLean
				}
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.consume(',') {
				continue
			}
			if s.consume(closing) {
				return nil
			}
			return errLean
		}
	default:
		if len(s.number()) == 0 {
			return errLean
		}
		return nil
	}
}
