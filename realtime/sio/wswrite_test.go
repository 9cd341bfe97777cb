package sio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quietHandler is a session handler that does nothing: these tests drive the session's writes.
type quietHandler struct{}

func (quietHandler) opened(*session)                   {}
func (quietHandler) onMessage(*session, []byte, bool)  {}
func (quietHandler) onClose(s *session, reason string) {}

// slowReaderSession is a websocket session whose client does not read until told, through a
// 4 KiB receive buffer and an 8 KiB send buffer, so that the server's writes fill the socket.
func slowReaderSession(t *testing.T) (*session, *websocket.Conn) {
	t.Helper()
	e := newEngine(engineConfig{maxPayload: 1 << 20})
	upgraded := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := e.upgrader.Upgrade(w, r, nil)
		if err == nil {
			upgraded <- ws
		}
	}))
	t.Cleanup(hs.Close)
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	client, _, err := d.DialContext(ctxT(t), "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	ws := <-upgraded
	require.NoError(t, ws.NetConn().(*net.TCPConn).SetWriteBuffer(8192))
	s := &session{id: "s", eng: e, handler: quietHandler{}}
	s.attachLocked(ws)
	require.NotNil(t, s.raw, "a TCP websocket is written without waiting")
	t.Cleanup(func() { s.close("test over", false) })
	return s, client
}

func sharedFrame(payload string) *frame {
	f := textFrame(pktMessage, []byte(payload))
	f.shared = true
	return f
}

// A broadcast frame the socket takes only part of is finished by the writer before anything
// after it, and every frame, written by the sender or by the writer, arrives whole and in order.
func TestFramesWrittenAtOnceStayWholeAndInOrder(t *testing.T) {
	s, client := slowReaderSession(t)
	big := func(i int) string { return fmt.Sprintf(`2["n",%d,"%s"]`, i, strings.Repeat("x", 64<<10>>min(i, 6))) }

	// The first frame is larger than the socket takes while the client does not read.
	first := sharedFrame(big(0))
	s.mu.Lock()
	left := s.writeNowLocked([]*frame{first})
	partial := len(s.partial)
	s.kickLocked()
	s.mu.Unlock()
	require.Empty(t, left, "the frame was begun at once")
	require.Greater(t, partial, 0, "part of it waits for the writer")
	require.Less(t, partial, len(first.wireBytes()), "part of it was written")

	// More frames while the writer waits for room: broadcast frames and the session's own.
	const n = 30
	for i := 1; i < n; i++ {
		f := sharedFrame(big(i))
		if i%7 == 0 {
			f = textFrame(pktMessage, []byte(fmt.Sprintf(`2["n",%d,"own"]`, i)))
		}
		require.True(t, s.send(f))
	}
	// The client reads; with its buffer as small as it was, the test would take minutes.
	require.NoError(t, client.NetConn().(*net.TCPConn).SetReadBuffer(1<<20))
	for i := range n {
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, msg, err := client.ReadMessage()
		require.NoError(t, err, "frame %d", i)
		require.Equal(t, websocket.TextMessage, typ)
		require.True(t, strings.HasPrefix(string(msg), fmt.Sprintf(`42["n",%d,`, i)), "frame %d: %.30q", i, msg)
		if i%7 != 0 || i == 0 {
			require.Equal(t, "4"+big(i), string(msg), "frame %d whole", i)
		}
	}

	// Once the client has read everything, a broadcast frame goes out at once, with no writer.
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.writing && len(s.queue) == 0 && s.partial == nil
	}, 5*time.Second, 10*time.Millisecond)
	s.mu.Lock()
	left = s.writeNowLocked([]*frame{sharedFrame(`2["n","last"]`)})
	s.mu.Unlock()
	assert.Empty(t, left)
	_, msg, err := client.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, `42["n","last"]`, string(msg))
}

// The client's ping is answered in turn with the server's frames, and its close is echoed.
func TestClientPingAndCloseAnswered(t *testing.T) {
	base := engineEcho(t)
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"websocket", nil)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	_, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, byte('0'), msg[0], "OPEN")

	pong := make(chan string, 1)
	ws.SetPongHandler(func(data string) error { pong <- data; return nil })
	require.NoError(t, ws.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)))
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("4after the ping")))
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err = ws.ReadMessage() // pongs are handled while reading
	require.NoError(t, err)
	assert.Equal(t, "4after the ping", string(msg))
	select {
	case got := <-pong:
		assert.Equal(t, "are you there", got)
	default:
		t.Fatal("no pong before the echo")
	}

	require.NoError(t, ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	require.True(t, errors.As(err, &ce), "a close frame came back: %v", err)
	assert.Equal(t, websocket.CloseNormalClosure, ce.Code)
}

// A client that sends pings and reads nothing has one pong queued, answering its latest ping.
func TestPingFloodQueuesOnePong(t *testing.T) {
	s, client := slowReaderSession(t)
	go s.readWebsocket(s.ws)
	// The socket fills: the writer waits for room with the rest of this frame.
	require.True(t, s.send(sharedFrame(`2["n","`+strings.Repeat("x", 256<<10)+`"]`)))
	for i := range 100 {
		require.NoError(t, client.WriteControl(websocket.PingMessage, []byte(fmt.Sprint("p", i)), time.Now().Add(time.Second)))
	}
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		var pongs []string
		for _, f := range s.queue {
			if f.control == websocket.PongMessage {
				pongs = append(pongs, string(f.data))
			}
		}
		return len(pongs) == 1 && pongs[0] == "p99"
	}, 5*time.Second, 10*time.Millisecond, "one pong, for the latest ping")
}
