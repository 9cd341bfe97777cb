package sio

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
)

func TestGuardPacket(t *testing.T) {
	const m = "M"
	ack := func(prefix, reason string) string { return prefix + `["M","` + reason + `"]` }
	cases := []struct{ in, want string }{
		// Left as they are: ordinary packets, and malformed ones (the library refuses them).
		{`2["hub:echo",{"a":[1,2.5,-3,"x\"]]]]]1e400"]}]`, ""},
		{`21["hub:echo",1e300,1E-400,0.` + strings.Repeat("0", 400) + `1]`, ""}, // in range (underflow is 0)
		{`2["hub:echo",` + deep(63, "") + `]`, ""},
		{`2["x"]` + deep(100, "1e400"), ""}, // after the first value: ignored by the decoder too
		{`0`, ""}, {`1`, ""}, {`40`, ""}, {`2`, ""}, {`2/admin`, ""}, {`5x-["a"]`, ""},
		{`21["hub:echo",1e400`, ""},         // incomplete
		{`21["hub:echo",1e400,]`, ""},       // not JSON
		{`21["hub:echo" 1e400]`, ""},        // not JSON
		{`21{"a":1e400}`, ""},               // not an array
		{`21[]`, ""},                        // no event name
		{`21["disconnect",1e400]`, ""},      // reserved name
		{`21["disc\u006fnnect",1e400]`, ""}, // reserved name, escaped
		{`21[{"a":1},1e400]`, ""},           // name of the wrong type
		{`21[true,1e400]`, ""},              // name of the wrong type
		{`21["hub:echo",01]`, ""},           // not JSON
		{`21["hub:echo","\x01",1e400]`, ""}, // control character in a string
		// Rewritten: answered with the ack id, or ignored without one.
		{`21["hub:echo",{"n":1e400}]`, ack("21", reasonNumber)},
		{`2["hub:echo",{"n":1e400}]`, ack("2", reasonNumber)},
		{`2/,7["hub:echo",-1e400]`, ack("2/,7", reasonNumber)},
		{`2/chat,7["hub:echo",-1e400]`, ack("2/chat,7", reasonNumber)},
		{`2 ["hub:echo",1` + strings.Repeat("0", 309) + `]`, ack("2", reasonNumber)}, // JSON may begin with spaces
		{`2123["hub:echo",[[[1e400]]]]]`, ack("2123", reasonNumber)},                 // bytes after the value are ignored
		{`29[ "hub:echo" , 1` + strings.Repeat("0", 309) + ` ]`, ack("29", reasonNumber)},
		{`29[1e999]`, ack("29", reasonNumber)},
		{`29["hub:echo",` + deep(64, "") + `]`, ack("29", reasonDepth)},
		{`29["hub:echo",` + deep(50000, "") + `]`, ack("29", reasonDepth)},
		{`29["hub:echo",` + strings.Repeat(`{"k":`, 64) + "1" + strings.Repeat(`}`, 64) + `]`, ack("29", reasonDepth)},
		{`29["h\"ub",` + deep(70, `1e400`) + `]`, ack("29", reasonDepth)}, // the first reason
		{`2` + strings.Repeat("1", 19) + `["hub:echo",1e400]`, ack("2"+strings.Repeat("1", 19), reasonNumber)},
		{`218446744073709551616["hub:echo",{}]`, ack("2", reasonAckID)},
		{`218446744073709551615["hub:echo",{}]`, ack("2", reasonAckID)},
		{`2` + strings.Repeat("9", 40) + `["hub:echo",1e400]`, ack("2", reasonNumber)},
		{`2` + strings.Repeat("9", 40) + `["hub:echo"` + strings.Repeat("9", 40), ""},
		{`31[1e400]`, ack("2", reasonNumber)},
		{`31[]`, ""},
		{`318446744073709551616[]`, ack("2", reasonAckID)},
		{`51-3["hub:echo",{"_placeholder":true,"num":0},1e400]`, ack("51-3", reasonNumber)},
		{`51-["hub:echo",{"_placeholder":true,"num":0},1e400]`, ack("51-", reasonNumber)},
		{`52-/x,3["hub:echo",` + deep(80, "") + `]`, ack("52-/x,3", reasonDepth)},
		{`61-3[1e400]`, ack("51-", reasonNumber)},
		{`51-3["hub:echo",{"_placeholder":true,"num":0}]`, ""},
	}
	for _, c := range cases {
		got := guardPacket([]byte(c.in), m)
		if c.want == "" {
			assert.Nil(t, got, "%.120s", c.in)
		} else {
			assert.Equal(t, c.want, string(got), "%.120s", c.in)
		}
	}
}

// frameRE splits a Socket.IO event or ack packet as the library's decoder does, for oracle.
var frameRE = regexp.MustCompile(`(?s)^(?:([23])|([56])\d+-)(/[^,]*,)?(\d*)(.*)$`)

// oracle judges a packet with encoding/json's Token reader, which has no nesting limit: "malformed"
// (the library refuses it, and so would the reference server), "clean", or the reason the guard
// must rewrite it for.
func oracle(p string) string {
	m := frameRE.FindStringSubmatch(p)
	if m == nil {
		return "malformed"
	}
	event := m[1] == "2" || m[2] == "5"
	id, payload := m[4], m[5]
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return "malformed"
	}
	reason := ""
	depth := 1
	for n := 0; depth > 0; n++ {
		tok, err := dec.Token()
		if err != nil {
			return "malformed"
		}
		if n == 0 && event {
			switch v := tok.(type) {
			case string:
				if reservedEvents[v] {
					return "malformed"
				}
			case json.Number:
			default:
				return "malformed"
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '[' || v == '{' {
				if depth++; depth > maxDepth && reason == "" {
					reason = reasonDepth
				}
			} else {
				depth--
			}
		case json.Number:
			if _, err := strconv.ParseFloat(string(v), 64); err != nil && reason == "" {
				reason = reasonNumber
			}
		}
	}
	if reason == "" && len(id) > maxAckIDDigits {
		reason = reasonAckID
	}
	if reason == "" {
		return "clean"
	}
	return reason
}

// libraryDecodes reports whether the library's decoder takes p (a binary packet waits for its
// attachments: taken).
func libraryDecodes(p []byte) bool {
	return parser.NewDecoder().Add(string(p)) == nil
}

func guardSeeds() []string {
	return []string{
		`2["hub:echo",{"a":[1,2.5,-3,"x\"]]]]]1e400"]}]`,
		`21["hub:echo",{"n":1e400}]`,
		`2/,7["hub:echo",-1e400]`,
		`29["hub:echo",` + deep(70, "") + `]`,
		`29["hub:echo",` + strings.Repeat(`{"k":`, 70) + "1" + strings.Repeat(`}`, 70) + `]`,
		`218446744073709551616["hub:echo",{}]`,
		`31[1e400]`,
		`51-3["hub:echo",{"_placeholder":true,"num":0},1e400]`,
		`21["hub:echo" , "\u00e9\\",true,false,null,{"a":{}},[],[[]],-0.5e-3,1E+2]`,
		`21[1e400,"\ud800"]`,
		`20["x",1` + strings.Repeat("0", 310) + `]`,
		`2["disconnect",1e400]`,
	}
}

// The guard rewrites exactly the packets the oracle says, its rewrites are packets the library
// decodes, and what it leaves and the oracle calls clean the library decodes too.
func FuzzGuardPacket(f *testing.F) {
	for _, s := range guardSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		want := oracle(p)
		got := guardPacket([]byte(p), "M")
		switch want {
		case "malformed", "clean":
			require.Nil(t, got, "%q: %s", p, want)
		default:
			require.NotNil(t, got, "%q: %s", p, want)
			require.True(t, strings.HasSuffix(string(got), `["M","`+want+`"]`), "%q → %q", p, got)
			require.True(t, libraryDecodes(got), "%q → %q", p, got)
		}
		if want == "clean" && len(p) < 400 && !strings.Contains(p, "-/") && !(p[0] == '5' || p[0] == '6') {
			require.True(t, libraryDecodes([]byte(p)), "%q: the oracle calls it clean", p)
		}
		if want != "clean" && want != "malformed" && want != reasonDepth {
			require.False(t, libraryDecodes([]byte(p)), "%q: %s", p, want)
		}
	})
}

func BenchmarkGuard(b *testing.B) {
	frames := map[string]string{
		"message:send 200 B": `21234["message:send",{"conversationId":"0f8fad5b-d9cb-469f-a165-70867728950e",` +
			`"content":"Hello there, see you at 5pm? \"quoted\" and \\ escaped","clientId":"c-8f2b1a"}]`,
		"typing:start": `2["typing:start",{"room":"conversation:0f8fad5b-d9cb-469f-a165-70867728950e"}]`,
		"message:send 10 KB": `21234["message:send",{"conversationId":"0f8fad5b-d9cb-469f-a165-70867728950e",` +
			`"content":"` + strings.Repeat(`lorem ipsum dolor sit amet, \"x\" `, 300) + `","clientId":"c-8f2b1a"}]`,
		"numbers 1 KB": `21234["hub:echo",[` + strings.Repeat(`12345.678,-42,0,`, 64) + `1]]`,
	}
	for name, f := range frames {
		p := []byte(f)
		b.Run("guard/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if guardPacket(p, "M") != nil {
					b.Fatal("rewritten")
				}
			}
		})
		b.Run("library decode/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if !libraryDecodes(p) {
					b.Fatal("refused")
				}
			}
		})
	}
	for name, f := range map[string]string{
		"1e400":           `21["hub:echo",{"n":1e400}]`,
		"1 MB of nesting": `21["hub:echo",` + deep(1<<19, "") + `]`,
	} {
		p := []byte(f)
		b.Run("guard rewrite/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if guardPacket(p, "M") == nil {
					b.Fatal("left")
				}
			}
		})
	}
}
