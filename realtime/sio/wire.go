package sio

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Normalize turns a payload into the plain values that both the JSON packet encoder and the
// adapter's msgpack encoding read the same way: maps, slices, strings, numbers, booleans, nil and
// []byte. Structs go through encoding/json so that their json tags name the fields everywhere (the
// msgpack encoder would otherwise use Go field names on the way through Redis).
func Normalize(v any) any { return normalize(v, false) }

// forSocket prepares a payload that goes straight to a socket of this node (an ack): as
// Normalize, except that a struct is encoded to JSON once and handed to the packet encoder as
// it is, not rebuilt as maps first.
func forSocket(v any) any { return normalize(v, true) }

func normalize(v any, raw bool) any {
	switch x := v.(type) {
	case nil, bool, string, float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, []byte:
		return x
	case json.RawMessage:
		if raw {
			return x
		}
		var out any
		if err := json.Unmarshal(x, &out); err != nil {
			return nil
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e, raw)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e, raw)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case types.BufferInterface:
		return append([]byte(nil), x.Bytes()...)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		if raw {
			return json.RawMessage(b)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return nil
		}
		return out
	}
}

// fromWire replaces the library's buffers in a decoded client argument by []byte, in place.
// Relayed as they are, buffers reach other nodes as {} (the msgpack encoder sees a struct with no
// exported fields).
func fromWire(v any) any {
	switch x := v.(type) {
	case types.BufferInterface:
		return append([]byte(nil), x.Bytes()...)
	case map[string]any:
		for k, e := range x {
			x[k] = fromWire(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromWire(e)
		}
		return x
	default:
		return v
	}
}

// releasingWriter forgets net/http's ResponseWriter once the connection is hijacked for the
// websocket. The library keeps the writer for the whole life of the connection, and with it the
// server connection's read and write buffers (about 8 KiB per idle socket).
type releasingWriter struct {
	w        http.ResponseWriter
	gate     chan struct{} // when set, reads of the hijacked connection wait for it to close
	hijacked bool
	header   http.Header
}

func (r *releasingWriter) Header() http.Header {
	if r.hijacked {
		if r.header == nil {
			r.header = http.Header{}
		}
		return r.header
	}
	return r.w.Header()
}

func (r *releasingWriter) Write(p []byte) (int, error) {
	if r.hijacked {
		return 0, http.ErrHijacked
	}
	return r.w.Write(p)
}

func (r *releasingWriter) WriteHeader(code int) {
	if !r.hijacked {
		r.w.WriteHeader(code)
	}
}

func (r *releasingWriter) Flush() {
	if f, ok := r.w.(http.Flusher); ok && !r.hijacked {
		f.Flush()
	}
}

func (r *releasingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.w.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	conn, rw, err := h.Hijack()
	if err != nil {
		return conn, rw, err
	}
	r.hijacked = true
	r.w = nil
	if r.gate != nil {
		conn = &gatedConn{Conn: conn, gate: r.gate}
	}
	return conn, rw, nil
}

// gatedConn delays reads until gate is closed.
type gatedConn struct {
	net.Conn
	gate <-chan struct{}
}

func (g *gatedConn) Read(p []byte) (int, error) {
	<-g.gate
	return g.Conn.Read(p)
}
