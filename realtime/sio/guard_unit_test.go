package sio

import (
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeOutcome is what the server does with a text packet: "invalid" closes the connection,
// "ok" hands it on, anything else is the reason of the error ack (or of the silent drop when the
// ack id is unusable too, shown as "reason/no ack").
func decodeOutcome(p string) string {
	pk, err := decodePacket([]byte(p))
	switch {
	case err != nil:
		return "invalid"
	case pk.unusable != "" && (pk.badID || pk.id == noAck):
		return pk.unusable + "/no ack"
	case pk.unusable != "":
		return pk.unusable
	}
	return "ok"
}

func TestDecodePacket(t *testing.T) {
	cases := []struct{ in, want string }{
		{`2["hub:echo",{"a":[1,2.5,-3,"x\"]]]]]1e400"]}]`, "ok"},
		{`21["hub:echo",1e300,1E-400,0.` + strings.Repeat("0", 400) + `1]`, "ok"}, // in range (underflow is 0)
		{`2["hub:echo",` + deep(63, "") + `]`, "ok"},
		{`0`, "ok"}, {`0{"token":"x"}`, "ok"}, {`0/custom,`, "ok"}, {`1`, "ok"}, {`1/custom,`, "ok"},
		{`31[]`, "ok"}, {`51-3["hub:echo",{"_placeholder":true,"num":0}]`, "ok"},
		{`21["hub:echo"]`, "ok"}, {`2[7,"numbers name events too"]`, "ok"},
		// Malformed: the connection closes, as on the reference server.
		{`2["x"]` + deep(100, "1e400"), "invalid"}, // bytes after the value
		{`2[""]0`, "invalid"}, {`21["hub:echo",[[[1e400]]]]]`, "invalid"}, {`21["hub:echo",1e400] `, reasonNumber},
		{`40`, "invalid"}, {`2`, "invalid"}, {`2/admin`, "invalid"}, {`5x-["a"]`, "invalid"},
		{`0"token"`, "invalid"}, {`7`, "invalid"}, {`abc`, "invalid"}, {`1{}`, "invalid"},
		{`511-["a"]`, "invalid"}, // more than 10 attachments
		{`3[1]`, "ok"},           // an ack without its id: decoded, and ignored as every ack is
		{`21["hub:echo",1e400`, "invalid"},
		{`21["hub:echo",1e400,]`, "invalid"},
		{`21["hub:echo" 1e400]`, "invalid"},
		{`21{"a":1e400}`, "invalid"}, {`42{}`[1:], "invalid"},
		{`21[]`, "invalid"},
		{`21["disconnect",1e400]`, "invalid"},
		{`21["disc\u006fnnect",1e400]`, "invalid"},
		{`21["disconnect"]`, "invalid"},
		{`21[{"a":1},1e400]`, "invalid"},
		{`21[true,1e400]`, "invalid"},
		{`21["hub:echo",01]`, "invalid"},
		{"21[\"hub:echo\",\"\x01\",1e400]", "invalid"},
		{`2abc["message-with-ack",1]`, "invalid"},
		// Well formed, but not for encoding/json: an error ack, or a silent drop without an id.
		{`21["hub:echo",{"n":1e400}]`, reasonNumber},
		{`2["hub:echo",{"n":1e400}]`, reasonNumber + "/no ack"},
		{`2/,7["hub:echo",-1e400]`, reasonNumber},
		{`2/chat,7["hub:echo",-1e400]`, reasonNumber},
		{`2 ["hub:echo",1` + strings.Repeat("0", 309) + `]`, reasonNumber + "/no ack"},
		{`29[ "hub:echo" , 1` + strings.Repeat("0", 309) + ` ]`, reasonNumber},
		{`29[1e999]`, reasonNumber},
		{`29["hub:echo",` + deep(64, "") + `]`, reasonDepth},
		{`29["hub:echo",` + deep(50000, "") + `]`, reasonDepth},
		{`29["hub:echo",` + strings.Repeat(`{"k":`, 64) + "1" + strings.Repeat(`}`, 64) + `]`, reasonDepth},
		{`29["h\"ub",` + deep(70, `1e400`) + `]`, reasonDepth}, // the first reason
		{`2` + strings.Repeat("1", 19) + `["hub:echo",1e400]`, reasonNumber},
		{`218446744073709551616["hub:echo",{}]`, reasonAckID + "/no ack"},
		{`2` + strings.Repeat("9", 40) + `["hub:echo",1e400]`, reasonNumber + "/no ack"},
		{`2` + strings.Repeat("9", 40) + `["hub:echo"` + strings.Repeat("9", 40), "invalid"},
		{`31[1e400]`, reasonNumber},
		{`51-3["hub:echo",{"_placeholder":true,"num":0},1e400]`, reasonNumber},
		{`52-/x,3["hub:echo",` + deep(80, "") + `]`, reasonDepth},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, decodeOutcome(c.in), "%.120s", c.in)
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
	if _, err := dec.Token(); err != io.EOF {
		return "malformed" // bytes after the array: JSON.parse refuses the packet
	}
	if reason == "" && len(id) > maxAckIDDigits {
		reason = reasonAckID
	}
	if reason == "" {
		return "clean"
	}
	return reason
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
		`2[""]0`,
		`3[]`,
	}
}

// The decoder refuses what the oracle calls malformed, hands on what it calls clean (and its
// arguments decode), and answers the reason the oracle finds for the rest.
func FuzzGuardPacket(f *testing.F) {
	for _, s := range guardSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		want := oracle(p)
		pk, err := decodePacket([]byte(p))
		switch want {
		case "malformed":
			if err == nil && pk.unusable == "" {
				// The oracle knows events and acks only: other packet types are judged apart.
				require.NotContains(t, "2356", p[:1], "%q: the oracle calls it malformed", p)
			}
		case "clean":
			require.NoError(t, err, "%q", p)
			require.Empty(t, pk.unusable, "%q", p)
			if pk.attachments == 0 {
				_, _, err := eventArgs(pk.payload, pk.typ == sioEvent, nil)
				require.NoError(t, err, "%q", p)
			}
		default:
			require.NoError(t, err, "%q", p)
			require.Equal(t, want, pk.unusable, "%q", p)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	frames := map[string]string{
		"message:send 200 B": `21234["message:send",{"conversationId":"0f8fad5b-d9cb-469f-a165-70867728950e",` +
			`"content":"Hello there, see you at 5pm? \"quoted\" and \\ escaped","clientId":"c-8f2b1a"}]`,
		"typing:start": `2["typing:start",{"room":"conversation:0f8fad5b-d9cb-469f-a165-70867728950e"}]`,
		"numbers 1 KB": `21234["hub:echo",[` + strings.Repeat(`12345.678,-42,0,`, 64) + `1]]`,
		"1e400":        `21["hub:echo",{"n":1e400}]`,
	}
	for name, f := range frames {
		p := []byte(f)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				pk, err := decodePacket(p)
				if err != nil {
					b.Fatal(err)
				}
				if pk.unusable == "" {
					if _, _, err := eventArgs(pk.payload, true, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
