package sio

import (
	"encoding/binary"
	"net"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// A broadcast's frame is the same bytes for every websocket of the room: a server's frames are
// not masked and the hub does not compress. So the frame is built once, header and all
// (wireBytes), and written to each socket as it is.
//
// Where it costs is the hand-off, not the bytes. Queueing the frame and starting a writer
// goroutine per socket put a goroutine start, two scheduler passes and a write-deadline timer
// around every write system call of a broadcast. A socket with nothing queued and no writer
// running is instead written at once by the sender (the broadcaster, or the handler that acks or
// emits), without waiting (writeNowLocked): the kernel takes the whole frame into the socket's
// send buffer, or part of it, or none. What it does not take goes to the socket's writer as
// before, which finishes a partly written frame first (session.partial), so the stream stays
// whole and in order. A socket whose client reads nothing is written by the writer alone, with
// its deadline, as before.

// controlWait bounds the echo of a client's close frame, written by the reader.
const controlWait = time.Second

// wireBytes is f as one websocket frame, built on first use and then shared.
func (f *frame) wireBytes() []byte {
	f.once.Do(func() {
		op, n := byte(websocket.TextMessage), len(f.data)+1
		if f.binary {
			op, n = websocket.BinaryMessage, len(f.data)
		}
		b := make([]byte, 0, n+10)
		b = append(b, 0x80|op) // FIN: a whole message in one frame
		switch {
		case n < 126:
			b = append(b, byte(n))
		case n <= 0xffff:
			b = append(b, 126)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b = append(b, 127)
			b = binary.BigEndian.AppendUint64(b, uint64(n))
		}
		if !f.binary {
			b = append(b, f.typ)
		}
		f.wire = append(b, f.data...)
	})
	return f.wire
}

// rawConn is the websocket's connection as the kernel's socket, for writes that do not wait;
// nil where the connection is not a plain socket (then every frame goes through the writer).
func rawConn(ws *websocket.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch c := ws.NetConn().(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default: // TLS or a wrapped connection: its bytes are not the frame's
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// tryWrite writes as much of b as the socket's send buffer takes now, without waiting. A full
// buffer is n 0 and no error.
func tryWrite(rc syscall.RawConn, b []byte) (n int, err error) {
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true // done, or the buffer is full: either way, do not wait
			}
		}
	})
	if n < 0 {
		n = 0
	}
	if err != nil {
		return n, err
	}
	if werr == syscall.EAGAIN { // EWOULDBLOCK on Linux too
		return n, nil
	}
	return n, werr
}

// writeNowLocked writes frames to the socket at once, in order, as far as its send buffer takes
// them, and returns the frames left for the writer; a frame the kernel took part of is left in
// s.partial. A control frame and the close packet (after which the writer closes the
// connection) are left to the writer. s.mu is held; nothing else is queued and no writer runs.
func (s *session) writeNowLocked(frames []*frame) []*frame {
	for i, f := range frames {
		if f.control != 0 || f.typ == pktClose {
			return frames[i:]
		}
		b := f.wireBytes()
		n, err := tryWrite(s.raw, b)
		if err != nil || n == 0 {
			return frames[i:] // the writer meets the error, or waits for room
		}
		if n < len(b) {
			s.partial = b[n:]
			return frames[i+1:]
		}
	}
	return nil
}

// canWriteNowLocked reports whether a frame sent now may be written by the sender: a websocket
// that is a plain socket, nothing queued or half written, no writer running. s.mu is held.
func (s *session) canWriteNowLocked() bool {
	return s.raw != nil && s.ws != nil && !s.writing && !s.corked && s.partial == nil && len(s.queue) == 0
}

// attachLocked makes ws the session's websocket. The reader's answers to the client's ping and
// close frames are written with the writer's knowledge: never into the middle of a frame that
// is half written. s.mu is held (or the session is not yet shared).
func (s *session) attachLocked(ws *websocket.Conn) {
	s.ws, s.raw = ws, rawConn(ws)
	ws.SetPingHandler(func(data string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return nil
		}
		// A pong still queued answers this ping too (RFC 6455 5.5.3 allows answering only
		// the latest), so a client that floods pings and reads nothing queues one pong.
		for _, f := range s.queue {
			if f.control == websocket.PongMessage {
				f.data = []byte(data)
				return nil
			}
		}
		s.queue = append(s.queue, &frame{control: websocket.PongMessage, data: []byte(data)})
		s.kickLocked()
		return nil
	})
	ws.SetCloseHandler(func(code int, _ string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.partial == nil && !s.closed {
			// As gorilla's own handler: echo the close. A whole frame is written in one
			// locked write, so this cannot land inside one.
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(controlWait))
		}
		return nil
	})
}
