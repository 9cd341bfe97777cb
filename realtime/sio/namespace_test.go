package sio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The official socket.io-protocol suite's namespace tests, without the suite's client race (its
// client drops a frame that arrives in the same read as the one before, so on this server they
// rarely get to check anything; docs/realtime.md, "Conformance"). Same server configuration as
// the suite's: test/conformance/server.

func conformanceServer(t *testing.T) string {
	t.Helper()
	srv, err := New(context.Background(), Options{
		PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond,
		ConnectTimeout: time.Second, MaxPayload: 1e6, CORSOrigins: []string{"*"},
		Namespaces: []string{"/custom"},
	}, EchoHooks())
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return strings.Replace(hs.URL, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
}

// readFrame reads the next text frame, answering and skipping pings.
func readFrame(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, msg, err := ws.ReadMessage()
		require.NoError(t, err)
		if string(msg) != "2" {
			return string(msg)
		}
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("3")))
	}
}

func TestNamespaceConnect(t *testing.T) {
	url := conformanceServer(t)
	cases := []struct{ send, prefix, auth string }{
		{"40", "40", `42["auth",{}]`},
		{`40{"token":"123"}`, "40", `42["auth",{"token":"123"}]`},
		{"40/custom,", "40/custom,", `42/custom,["auth",{}]`},
		{`40/custom,{"token":"abc"}`, "40/custom,", `42/custom,["auth",{"token":"abc"}]`},
		{"40/random", "", `44/random,{"message":"Invalid namespace"}`},
	}
	for _, c := range cases {
		ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(readFrame(t, ws), "0{"), "the Engine.IO open packet")
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(c.send)))
		if c.prefix != "" {
			got := readFrame(t, ws)
			assert.True(t, strings.HasPrefix(got, c.prefix+`{"sid":"`), "%s → %s", c.send, got)
		}
		assert.Equal(t, c.auth, readFrame(t, ws), c.send)
		ws.Close()
	}
}

func TestNamespaceDisconnect(t *testing.T) {
	url := conformanceServer(t)
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(t, err)
	defer ws.Close()
	readFrame(t, ws)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("40")))
	readFrame(t, ws)
	readFrame(t, ws) // auth
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("40/custom")))
	assert.True(t, strings.HasPrefix(readFrame(t, ws), "40/custom,"))
	assert.Equal(t, `42/custom,["auth",{}]`, readFrame(t, ws))
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("41/custom")))
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`42["message","message to main namespace"]`)))
	assert.Equal(t, `42["message-back","message to main namespace"]`, readFrame(t, ws), "the main namespace lives on")
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`42/custom,["message","x"]`)))
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("41")))
	// Disconnected from both, the Engine.IO connection stays: the next frame is a ping.
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "2", string(msg))
}
