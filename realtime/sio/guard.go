package sio

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// The guard against packets that are well formed but that the library's decoder refuses.
//
// The library decodes a Socket.IO packet with encoding/json into float64s and its ack id into a
// uint64 (parsers/socket/v3 parser: decoder.parsePacketID, decoder.parsePayload), and any
// decoding error closes the connection (servers/socket/v3 Client.ondata → Client.onerror →
// conn.Close; socket.io-client sees close code 1006 and reconnects). So a client was cut off by
// a number beyond float64 (1e400), by nesting deeper than encoding/json's 10,000 levels, or by
// an ack id of 20 digits or more, none of which the protocol forbids (the reference server, on
// Node, reads them as Infinity, a deep array, a float). The contract is an error ack and a
// socket that keeps working.
//
// guardPacket runs on each text packet before the library's decoder (gate.onData) and rewrites
// such a packet into an event named by the server's marker, whose argument is the reason; the
// event middleware answers it with an invalid_request ack when it carries an ack id and drops it
// otherwise. The packet keeps its type family, attachment count, namespace and ack id, so the
// library still consumes a binary event's attachments and answers on the same namespace, in
// order with the connection's other events. Packets that are not complete JSON, or whose event
// name the library refuses (a reserved name, not a string or number), are left to the library,
// which refuses them as the reference server does; so are violations of the binary framing
// (more than 10 attachments, a placeholder without its attachment, a binary event of 0
// attachments followed by a text packet).
//
// Ordinary packets cost one pass over their bytes (strings are skipped with IndexByte) and no
// allocation; only a packet that nests deeper than maxDepth, holds a number with an exponent or
// of more than 300 characters, or has a long ack id is checked further.

// maxDepth is how deeply a packet's JSON may nest, its outer array counted: arguments nesting
// deeper are refused with an error ack. encoding/json refuses more than 10,000 levels; the hub's
// payloads nest a few levels, and each level costs stack in every recursive walk of the
// arguments (the decoder, the binary reconstruction, fromWire, the adapter's msgpack encoding).
const maxDepth = 64

// maxAckIDDigits is the longest ack id the library's decoder takes: it refuses an id once it
// has read 20 digits (parsePacketID with MaxPacketIDLength 20), even one below 2^64.
const maxAckIDDigits = 19

// Reasons given in the error ack (reasonDepth names maxDepth).
const (
	reasonNumber = "the event holds a number out of range"
	reasonDepth  = "the event nests deeper than 64 levels"
	reasonAckID  = "the ack id is too large"
)

// reservedEvents are the event names the library's decoder refuses (parser.ReservedEvents).
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

func skipDigits(p []byte, i int) int {
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	return i
}

// suspicious reports whether the JSON text p may hold what the library's decoder refuses: a
// nesting deeper than maxDepth, or a number with an exponent or of more than 300 characters (a
// number without exponent overflows float64 only from 309 integer digits). For valid JSON it
// errs only towards suspicion; it allocates nothing.
func suspicious(p []byte) bool {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '"':
			start := i
			for {
				j := bytes.IndexByte(p[i+1:], '"')
				if j < 0 {
					return false // an unterminated string: not JSON, the decoder refuses it
				}
				i += j + 1
				k := i - 1
				for k > start && p[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 { // not escaped
					break
				}
			}
		case '[', '{':
			if depth++; depth > maxDepth {
				return true
			}
		case ']', '}':
			depth--
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			j := i + 1
			for j < len(p) {
				b := p[j]
				if b == 'e' || b == 'E' {
					return true
				}
				if (b < '0' || b > '9') && b != '.' && b != '-' && b != '+' {
					break
				}
				j++
			}
			if j-i > 300 {
				return true
			}
			i = j - 1
		}
	}
	return false
}

// inspect checks the payload of a packet that suspicious flagged, exactly: complete is whether
// encoding/json would decode it were it not for its limits (its first JSON value is an array,
// and for an event, its first element is a string the library takes as an event name or a
// number); reason is what the library would refuse in it, or "". Bytes after the first value
// are ignored, as the library's decoder ignores them. It allocates one byte per open level.
func inspect(p []byte, event bool) (complete bool, reason string) {
	c := checker{p: p}
	c.ws()
	if !c.byte('[') {
		return false, ""
	}
	c.stack = append(c.stack, '[')
	state := afterOpen
	if event {
		c.ws()
		switch {
		case c.i < len(p) && p[c.i] == '"':
			start := c.i
			if !c.str() {
				return false, ""
			}
			name := p[start+1 : c.i-1]
			if bytes.IndexByte(name, '\\') >= 0 {
				var s string
				if json.Unmarshal(p[start:c.i], &s) != nil {
					return false, ""
				}
				name = []byte(s)
			}
			if reservedEvents[string(name)] {
				return false, ""
			}
		case c.i < len(p) && (p[c.i] == '-' || (p[c.i] >= '0' && p[c.i] <= '9')):
			if !c.num() {
				return false, ""
			}
		default:
			return false, "" // no name, or one of another type
		}
		state = afterValue
	}
	if !c.run(state) {
		return false, ""
	}
	c.ws()
	if c.i != len(p) {
		return false, "" // bytes after the value: not JSON, as JSON.parse sees it
	}
	return true, c.reason
}

// checker is a JSON syntax checker without a nesting limit that accepts what encoding/json's
// scanner accepts (invalid UTF-8 in strings included) and notes what its decoder then refuses.
// It reads iteratively: the nesting costs no Go stack.
type checker struct {
	p      []byte
	i      int
	stack  []byte // '[' or '{' per open level
	reason string
}

// States of checker.run.
const (
	afterOpen  = iota // a container was opened: its closing, or its first element (or key), next
	wantValue         // a value next
	afterValue        // a comma or a closing next
)

// run reads from state until the outer array is closed.
func (c *checker) run(state int) bool {
	for {
		c.ws()
		if c.i >= len(c.p) {
			return false
		}
		b := c.p[c.i]
		switch state {
		case afterOpen:
			top := c.stack[len(c.stack)-1]
			switch {
			case b == closing(top):
				c.i++
				c.stack = c.stack[:len(c.stack)-1]
				if len(c.stack) == 0 {
					return true
				}
				state = afterValue
			case top == '{':
				if !c.key() {
					return false
				}
				state = wantValue
			default:
				state = wantValue
			}
		case wantValue:
			switch {
			case b == '[' || b == '{':
				c.i++
				c.stack = append(c.stack, b)
				if len(c.stack) > maxDepth && c.reason == "" {
					c.reason = reasonDepth
				}
				state = afterOpen
				continue
			case b == '"':
				if !c.str() {
					return false
				}
			case b == '-' || (b >= '0' && b <= '9'):
				if !c.num() {
					return false
				}
			case b == 't':
				if !c.lit("true") {
					return false
				}
			case b == 'f':
				if !c.lit("false") {
					return false
				}
			case b == 'n':
				if !c.lit("null") {
					return false
				}
			default:
				return false
			}
			state = afterValue
		case afterValue:
			top := c.stack[len(c.stack)-1]
			switch {
			case b == ',':
				c.i++
				if top == '{' && !c.key() {
					return false
				}
				state = wantValue
			case b == closing(top):
				c.i++
				c.stack = c.stack[:len(c.stack)-1]
				if len(c.stack) == 0 {
					return true
				}
			default:
				return false
			}
		}
	}
}

func closing(open byte) byte {
	if open == '[' {
		return ']'
	}
	return '}'
}

func (c *checker) ws() {
	for c.i < len(c.p) {
		switch c.p[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *checker) byte(b byte) bool {
	if c.i < len(c.p) && c.p[c.i] == b {
		c.i++
		return true
	}
	return false
}

// key reads an object key and its colon.
func (c *checker) key() bool {
	c.ws()
	if c.i >= len(c.p) || c.p[c.i] != '"' || !c.str() {
		return false
	}
	c.ws()
	return c.byte(':')
}

// str reads a string literal at c.i (on its opening quote).
func (c *checker) str() bool {
	c.i++
	for c.i < len(c.p) {
		b := c.p[c.i]
		switch {
		case b == '"':
			c.i++
			return true
		case b == '\\':
			c.i++
			if c.i >= len(c.p) {
				return false
			}
			switch c.p[c.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				c.i++
			case 'u':
				if c.i+5 > len(c.p) {
					return false
				}
				for _, h := range c.p[c.i+1 : c.i+5] {
					if !isHex(h) {
						return false
					}
				}
				c.i += 5
			default:
				return false
			}
		case b < 0x20:
			return false
		default:
			c.i++
		}
	}
	return false
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

// num reads a number at c.i and notes one that does not fit a float64.
func (c *checker) num() bool {
	start := c.i
	c.byte('-')
	switch {
	case c.byte('0'):
	case c.i < len(c.p) && c.p[c.i] >= '1' && c.p[c.i] <= '9':
		c.i = skipDigits(c.p, c.i)
	default:
		return false
	}
	if c.byte('.') {
		j := skipDigits(c.p, c.i)
		if j == c.i {
			return false
		}
		c.i = j
	}
	exp := false
	if c.byte('e') || c.byte('E') {
		exp = true
		if !c.byte('+') {
			c.byte('-')
		}
		j := skipDigits(c.p, c.i)
		if j == c.i {
			return false
		}
		c.i = j
	}
	if (exp || c.i-start > 300) && c.reason == "" {
		if _, err := strconv.ParseFloat(string(c.p[start:c.i]), 64); err != nil {
			c.reason = reasonNumber
		}
	}
	return true
}

func (c *checker) lit(s string) bool {
	if !bytes.HasPrefix(c.p[c.i:], []byte(s)) {
		return false
	}
	c.i += len(s)
	return true
}

// setSecurityHeaders sets the headers every REST response carries on a response of the
// Engine.IO endpoint: the polling responses, the websocket upgrade's 101 and the refusals.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-site")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
}
