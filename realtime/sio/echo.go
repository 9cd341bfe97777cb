package sio

import (
	"context"
	"net/http"
)

// NewEngineEcho serves Engine.IO alone, sending every message back as it came (text as text,
// binary as binary): the server the official engine.io-protocol test suite expects
// (test/conformance). It is the hub's own transport, with nothing on top.
func NewEngineEcho(o Options) http.Handler {
	return newEngine(engineConfig{
		pingInterval: o.PingInterval,
		pingTimeout:  o.PingTimeout,
		maxPayload:   o.MaxPayload,
		origins:      newOriginPolicy(o.CORSOrigins),
		open:         func(*session) sessionHandler { return echo{} },
	})
}

type echo struct{}

func (echo) onMessage(s *session, data []byte, binary bool) {
	b := append([]byte(nil), data...)
	if binary {
		s.send(binaryFrame(b))
		return
	}
	s.send(textFrame(pktMessage, b))
}

func (echo) opened(*session) {}

func (echo) onClose(*session, string) {}

// EchoHooks are the socket.io-protocol suite's reference server (its README): a connection is
// sent its auth payload as "auth"; on "/", "message" comes back as "message-back" and
// "message-with-ack" is acknowledged with its own arguments; other namespaces only greet. The
// conformance server (test/conformance/server) and this package's tests serve them.
func EchoHooks() Hooks {
	return Hooks{
		Authenticate: func(context.Context, Handshake) (any, error) { return nil, nil },
		Connect:      func(c *Conn) { _ = c.Emit("auth", c.Auth()) },
		Event: func(c *Conn, event string, args []any, ack Ack) {
			if c.Namespace() != "/" {
				return
			}
			switch event {
			case "message":
				_ = c.Emit("message-back", args...)
			case "message-with-ack":
				if ack != nil {
					ack(args...)
				}
			}
		},
		Disconnect: func(*Conn, string) {},
	}
}
