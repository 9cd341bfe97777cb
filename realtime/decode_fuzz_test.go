package realtime

import (
	"encoding/json"
	"testing"

	"github.com/p2psandbox/hub/domain/errs"
)

// FuzzDecode: whatever JSON a client sends as an event's payload, decoding it into the hub's
// payloads answers nil or an invalid_request / validation_failed error, never a panic or
// anything else (which would be an internal error ack). The seed corpus runs in every `go test`.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"room":"topic:open"}`, `{"room":"a\u0000b"}`, `{"room":"\u0007"}`, `{"room":12}`, `{"room":null}`,
		`{"userIds":["u1","u2"]}`, `{"userIds":"u1"}`, `{"userIds":[1e400]}`, `{"userIds":[["deep"]]}`,
		`{"token":"x"}`, `{"token":{"a":1}}`, `{"\u0000":1}`, `{"status":"away","extra":true}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, `"text"`, `null`, `1e308`,
		`{"room":"\ud800"}`, `{"room":"\u202e"}`, `{"room":"` + "\xff\xfe" + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var payload any
		if json.Unmarshal(raw, &payload) != nil {
			return // not an event the library would hand over
		}
		dsts := []func() any{
			func() any { return &roomPayload{} },
			func() any { return &userIDsPayload{} },
			func() any { return &refreshPayload{} },
			func() any { return &map[string]any{} },
		}
		for _, dst := range dsts {
			err := decode([]any{payload}, dst())
			if err == nil {
				continue
			}
			if c := errs.CodeOf(err); c != errs.Invalid && c != errs.Validation {
				t.Fatalf("decoding %q answered %s: %v", raw, c, err)
			}
		}
		_, _ = readUserIDs([]any{payload})
	})
}
