package sysprims

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// decodeBoth decodes data with the lean decoder and with encoding/json.
func decodeBoth(t testing.TB, data []byte) (lean, std ProcessInfo, leanErr, stdErr error) {
	leanErr = leanProcessInfo(data, &lean)
	stdErr = std.UnmarshalJSON(data)
	return
}

// The lean decoder agrees with encoding/json on every process of this machine, as the
// library writes them.
func TestLeanDecoderMatchesEncodingJSON(t *testing.T) {
	var docs [][]byte
	testHookJSON = func(op string, data []byte) {
		if op == "ProcessGet" {
			docs = append(docs, append([]byte(nil), data...))
		}
	}
	defer func() { testHookJSON = nil }()
	all, err := ProcessList(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all.Processes {
		ProcessGet(p.PID) // a process may be gone by now: then there is no document
	}
	if len(docs) < 3 {
		t.Fatalf("only %d documents", len(docs))
	}
	for _, data := range docs {
		lean, std, leanErr, stdErr := decodeBoth(t, data)
		if leanErr != nil || stdErr != nil {
			t.Fatalf("%s: lean %v, encoding/json %v", data, leanErr, stdErr)
		}
		if !reflect.DeepEqual(lean, std) {
			t.Fatalf("%s:\nlean %+v\nstd  %+v", data, lean, std)
		}
	}
}

func TestLeanDecoderEdgeCases(t *testing.T) {
	cases := []string{
		`{}`,
		` { "pid" : 1 , "name" : "a\"b\\c\/d\b\f\n\r\t\u0001\u00e9\ud83d\ude00" } `,
		`{"pid":4294967295,"memory_kb":18446744073709551615,"cpu_percent":1.5e2,"user":null,"exe_path":null,"start_time_unix_ms":null}`,
		`{"cmdline":[],"cmdline_base64":["Y2Fm6Q=="],"env":{"A":"1","B":""},"future_field":{"x":[1,{"y":null}],"z":"w"}}`,
		`{"cmdline":["caf\ufffd","\u00e9t\u00e9"],"kernel_thread":true,"exe_deleted":false,"state":"zombie"}`,
		`{"pid":1,"pid":2}`,
		`{"cpu_percent":-0.0,"elapsed_ms":0}`,
	}
	for _, c := range cases {
		lean, std, leanErr, stdErr := decodeBoth(t, []byte(c))
		if leanErr != nil || stdErr != nil {
			t.Errorf("%s: lean %v, encoding/json %v", c, leanErr, stdErr)
			continue
		}
		if !reflect.DeepEqual(lean, std) {
			t.Errorf("%s:\nlean %+v\nstd  %+v", c, lean, std)
		}
	}
	// Input it does not expect (lone surrogates, keys in other cases, which encoding/json
	// matches case-insensitively) is left to encoding/json (decodeProcessInfo falls back), so
	// rejecting is fine; accepting something encoding/json rejects is not.
	bad := []string{
		``, `[]`, `{`, `{"pid":}`, `{"pid":-1}`, `{"pid":4294967296}`, `{"pid":1.5}`, `{"name":"a}`,
		`{"name":"\x"}`, `{"name":"\ud800"}`, `{"name":"\ud800\u0041"}`, `{"name":"\udc00x"}`, `{"Name":"x"}`, "{\"name\":\"a\x01\"}", `{"pid":1}x`, `{"cmdline":[1]}`, `{"pid":1,}`,
	}
	for _, c := range bad {
		var lean ProcessInfo
		leanErr := leanProcessInfo([]byte(c), &lean)
		var std ProcessInfo
		stdErr := std.UnmarshalJSON([]byte(c))
		if leanErr == nil && stdErr != nil {
			t.Errorf("%q: lean decoder accepted what encoding/json rejects (%v)", c, stdErr)
		}
		if leanErr == nil && !reflect.DeepEqual(lean, std) {
			t.Errorf("%q: results differ", c)
		}
	}
}

// FuzzLeanDecoder: whatever the lean decoder accepts, encoding/json accepts with the same
// result (run with go test -fuzz FuzzLeanDecoder).
func FuzzLeanDecoder(f *testing.F) {
	f.Add([]byte(`{"pid":29304,"ppid":1,"name":"x","user":"root","state":"running","cpu_percent":0,"start_time_unix_ms":1795703467750,"exe_path":"/x","cmdline":["a","b"]}`))
	f.Add([]byte(`{"name":"\u00e9\ud83d\ude00","env":{"A":"B"},"other":[true,false,null,{"k":1e5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var lean ProcessInfo
		if leanProcessInfo(data, &lean) != nil {
			return
		}
		var std ProcessInfo
		if err := std.UnmarshalJSON(data); err != nil {
			t.Fatalf("lean accepted %q, encoding/json: %v", data, err)
		}
		if !reflect.DeepEqual(lean, std) {
			t.Fatalf("%q:\nlean %+v\nstd  %+v", data, lean, std)
		}
	})
}

func TestErrorsIsAndAs(t *testing.T) {
	codes := []ErrorCode{CodeInvalidArgument, CodeSpawnFailed, CodeTimeout, CodePermissionDenied, CodeNotFound, CodeNotSupported, CodeSystem, CodeInternal}
	sentinels := []error{ErrInvalidArgument, ErrSpawnFailed, ErrTimeout, ErrPermissionDenied, ErrNotFound, ErrNotSupported, ErrSystem, ErrInternal}
	for i, code := range codes {
		err := fmt.Errorf("stopping job: %w", &Error{Code: code, Message: "m", Op: "Op"})
		for j, s := range sentinels {
			if errors.Is(err, s) != (i == j) {
				t.Errorf("errors.Is(%v, %v) = %v", code, s, !(i == j))
			}
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != code || e.Message != "m" {
			t.Errorf("errors.As for %v: %+v", code, e)
		}
		if code.String() == "" || code.Sentinel() != sentinels[i] {
			t.Errorf("code %d: name %q sentinel %v", int32(code), code.String(), code.Sentinel())
		}
	}
	if (&Error{Code: 7}).Is(ErrInternal) || ErrorCode(7).Sentinel() != nil {
		t.Error("an unknown code matches a sentinel")
	}
	e := &Error{Code: CodeNotFound, Op: "ProcessGet", Message: "process 5 not found"}
	if e.Error() != "sysprims: ProcessGet: process 5 not found" {
		t.Errorf("message %q", e.Error())
	}
	// The codes are the library's.
	for name, code := range map[string]ErrorCode{"invalid_argument": 1, "spawn_failed": 2, "timeout": 3, "permission_denied": 4, "not_found": 5, "not_supported": 6, "system": 8} {
		if codeFromName(name) != code {
			t.Errorf("%s is %d", name, codeFromName(name))
		}
	}
	data, _ := json.Marshal(&ErrorReport{Code: "not_found", Message: "x"})
	var r ErrorReport
	json.Unmarshal(data, &r)
	if !errors.Is(r.Err(), ErrNotFound) {
		t.Error("ErrorReport.Err does not match its sentinel")
	}
}
