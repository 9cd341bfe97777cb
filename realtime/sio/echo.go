package sio

import (
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

func (echo) onClose(*session, string) {}
