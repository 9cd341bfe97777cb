package sio

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Engine.IO transport against an echo server, on the cases where the library the hub used
// before failed the official engine.io-protocol suite (make conformance runs the whole suite).

func engineEcho(t *testing.T) string {
	t.Helper()
	hs := httptest.NewServer(NewEngineEcho(Options{
		PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond,
		MaxPayload: 1 << 20, CORSOrigins: []string{"*"},
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/engine.io/?EIO=4&transport="
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func pollPost(t *testing.T, url, body string) (int, string) {
	t.Helper()
	res, err := http.Post(url, "text/plain", strings.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func openPolling(t *testing.T, base string) string {
	t.Helper()
	code, body := get(t, base+"polling")
	require.Equal(t, http.StatusOK, code)
	require.True(t, strings.HasPrefix(body, "0"), body)
	var open struct {
		SID      string   `json:"sid"`
		Upgrades []string `json:"upgrades"`
	}
	require.NoError(t, json.Unmarshal([]byte(body[1:]), &open))
	assert.Equal(t, []string{"websocket"}, open.Upgrades)
	return base + "polling&sid=" + open.SID
}

func TestPollingEcho(t *testing.T) {
	url := openPolling(t, engineEcho(t))
	code, body := pollPost(t, url, "4hello\x1ebAQIDBA==")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)
	_, body = get(t, url)
	assert.Equal(t, "4hello\x1ebAQIDBA==", body, "text and binary come back in one payload")
}

// Defect of the library: an invalid packet over long-polling left the session open.
func TestPollingInvalidPacketClosesTheSession(t *testing.T) {
	url := openPolling(t, engineEcho(t))
	code, _ := pollPost(t, url, "abc")
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = get(t, url)
	assert.Equal(t, http.StatusBadRequest, code)
}

// Defect of the library: the pending poll was never answered when a duplicate poll closed the
// session (the close packet was queued after the queue was shut).
func TestDuplicatePollAnswersThePendingOne(t *testing.T) {
	url := openPolling(t, engineEcho(t))
	first := make(chan string, 1)
	go func() {
		_, body := get(t, url)
		first <- body
	}()
	time.Sleep(50 * time.Millisecond)
	code, _ := get(t, url+"&t=dup")
	assert.Equal(t, http.StatusBadRequest, code)
	select {
	case body := <-first:
		assert.Equal(t, "1", body, "the pending poll gets the close packet")
	case <-time.After(2 * time.Second):
		t.Fatal("the pending poll hangs")
	}
	code, _ = get(t, url)
	assert.Equal(t, http.StatusBadRequest, code)
}

// probed opens a long-polling session on an echo server and a websocket that has probed it
// ("2probe" answered "3probe"); it returns the server's base URL, the session's polling URL and
// the websocket.
func probed(t *testing.T) (base, url string, ws *websocket.Conn) {
	t.Helper()
	base = engineEcho(t)
	url = openPolling(t, base)
	sid := url[strings.LastIndex(url, "=")+1:]
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"websocket&sid="+sid, nil)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("2probe")))
	_, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, "3probe", string(msg))
	return base, url, ws
}

// Defect of the library: a poll that arrived between "2probe" and "5" could hang.
func TestPollDuringUpgradeGetsNoop(t *testing.T) {
	base, url, ws := probed(t)
	code, body := get(t, url)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "6", body)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("5")))
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("4hello")))
	_, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "4hello", string(msg))
	code, _ = get(t, url)
	assert.Equal(t, http.StatusBadRequest, code, "polling is over once upgraded")
	sid := url[strings.LastIndex(url, "=")+1:]
	second, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"websocket&sid="+sid, nil)
	require.NoError(t, err, "a second websocket for the session is accepted, as by the reference server…")
	_ = second.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _, err = second.ReadMessage()
	assert.True(t, websocket.IsUnexpectedCloseError(err) || strings.Contains(fmt.Sprint(err), "close"), "…and closed at once: %v", err)
	second.Close()
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("4still")))
	_, msg, err = ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "4still", string(msg), "the upgraded websocket is untouched")
}

// A poll and the client's close sent together on two connections: whichever the server takes
// first, the poll is answered with a noop and the session is gone afterwards.
func TestCloseOvertakingItsPoll(t *testing.T) {
	url := openPolling(t, engineEcho(t))
	code, _ := pollPost(t, url, "1") // the close first
	require.Equal(t, http.StatusOK, code)
	code, body := get(t, url)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "6", body)
	code, _ = get(t, url)
	assert.Equal(t, http.StatusBadRequest, code, "once only")
}

// A poll that arrives after the probe but before the upgrade packet waits for it, and is then
// refused as a poll of an upgraded session.
func TestPollBetweenProbeAndUpgrade(t *testing.T) {
	_, url, ws := probed(t)
	polled := make(chan int, 1)
	go func() {
		code, _ := get(t, url)
		polled <- code
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("5")))
	assert.Equal(t, http.StatusBadRequest, <-polled)
}

// The poll pending when the probe comes is held like one that comes after it: ended with a
// noop if the upgrade packet does not follow (a real client waits for that poll to end before
// it sends "5"), refused if it does (the suites send "2probe", "5" and a poll at once, and the
// poll may be read first).
func TestPollPendingAtTheProbe(t *testing.T) {
	for _, upgrade := range []bool{false, true} {
		t.Run(fmt.Sprintf("upgrade=%v", upgrade), func(t *testing.T) {
			base := engineEcho(t)
			url := openPolling(t, base)
			type answer struct {
				code int
				body string
			}
			polled := make(chan answer, 1)
			go func() {
				code, body := get(t, url)
				polled <- answer{code, body}
			}()
			time.Sleep(20 * time.Millisecond)
			sid := url[strings.LastIndex(url, "=")+1:]
			ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"websocket&sid="+sid, nil)
			require.NoError(t, err)
			defer ws.Close()
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("2probe")))
			if upgrade {
				require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("5")))
				assert.Equal(t, answer{http.StatusBadRequest, `{"code":3,"message":"Bad request"}`}, <-polled)
				return
			}
			assert.Equal(t, answer{http.StatusOK, "6"}, <-polled)
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("5")))
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("4hello")))
			for {
				_, msg, err := ws.ReadMessage()
				require.NoError(t, err)
				if string(msg) != "3probe" {
					assert.Equal(t, "4hello", string(msg))
					break
				}
			}
		})
	}
}

func TestHeartbeat(t *testing.T) {
	base := engineEcho(t)
	t.Run("polling", func(t *testing.T) {
		url := openPolling(t, base)
		for range 3 {
			_, body := get(t, url)
			require.Equal(t, "2", body)
			code, _ := pollPost(t, url, "3")
			require.Equal(t, http.StatusOK, code)
		}
		time.Sleep(600 * time.Millisecond) // no pong: gone after pingInterval + pingTimeout
		code, _ := get(t, url)
		assert.Equal(t, http.StatusBadRequest, code)
	})
	t.Run("websocket", func(t *testing.T) {
		ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"websocket", nil)
		require.NoError(t, err)
		defer ws.Close()
		_, open, err := ws.ReadMessage()
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(open), `0{"sid":`), string(open))
		_, ping, err := ws.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, "2", string(ping))
		_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _, err = ws.ReadMessage()
		assert.Error(t, err, "closed after the unanswered ping")
	})
}

func TestEngineRefusesBadRequests(t *testing.T) {
	base := strings.TrimSuffix(engineEcho(t), "?EIO=4&transport=")
	for _, q := range []string{"?transport=polling", "?EIO=abc&transport=polling", "?EIO=4", "?EIO=4&transport=abc",
		"?EIO=4&transport=polling&sid=unknown"} {
		code, body := get(t, base+q)
		assert.Equal(t, http.StatusBadRequest, code, q)
		assert.Contains(t, body, `"code":`, q)
	}
	code, _ := pollPost(t, base+"?EIO=4&transport=polling", "")
	assert.Equal(t, http.StatusBadRequest, code, "a handshake is a GET")
}
