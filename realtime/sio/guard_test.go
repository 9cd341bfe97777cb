package sio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/redistest"
)

// echoServer is a server on Redis whose "hub:echo" answers its first argument as the hub's does.
func echoServer(t *testing.T) string {
	t.Helper()
	rdb, prefix := redistest.New(t)
	o := options()
	o.Redis, o.Channel = rdb, prefix+"socket.io"
	srv, err := New(context.Background(), o, Hooks{
		Authenticate: func(context.Context, Handshake) (any, error) { return "p", nil },
		Connect:      func(*Conn) {},
		Event: func(c *Conn, event string, args []any, ack Ack) {
			if ack == nil {
				return
			}
			if event != "hub:echo" {
				ack(map[string]any{"ok": false, "error": map[string]any{"code": "invalid_request", "message": "unknown event"}})
				return
			}
			var data any
			if len(args) > 0 {
				data = args[0]
			}
			ack(map[string]any{"ok": true, "data": data})
		},
		Disconnect: func(*Conn, string) {},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return hs.URL
}

// wire is a raw Engine.IO v4 / Socket.IO v5 client over a websocket.
type wire struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWire(t *testing.T, url string) *wire {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.DialContext(ctxT(t), wsURL(url), nil)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	w := &wire{t: t, ws: ws}
	require.Equal(t, byte('0'), w.read()[0], "OPEN")
	w.send("40")
	require.True(t, strings.HasPrefix(w.read(), "40"), "CONNECT answered")
	return w
}

func (w *wire) send(frame string) {
	w.t.Helper()
	require.NoError(w.t, w.ws.WriteMessage(websocket.TextMessage, []byte(frame)))
}

func (w *wire) sendBinary(b []byte) {
	w.t.Helper()
	require.NoError(w.t, w.ws.WriteMessage(websocket.BinaryMessage, b))
}

// read returns the next text frame, answering the server's pings.
func (w *wire) read() string {
	w.t.Helper()
	_ = w.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		typ, msg, err := w.ws.ReadMessage()
		require.NoError(w.t, err, "the server closed the socket")
		if typ == websocket.TextMessage && string(msg) == "2" {
			w.send("3")
			continue
		}
		return string(msg)
	}
}

// ack reads the next frame, which must be the ack of id, and returns its first argument.
func (w *wire) ack(id string) map[string]any {
	w.t.Helper()
	msg := w.read()
	require.True(w.t, strings.HasPrefix(msg, "43"+id+"["), "the ack of %s, got %.200q", id, msg)
	var args []map[string]any
	require.NoError(w.t, json.Unmarshal([]byte(msg[len("43"+id):]), &args), msg)
	require.Len(w.t, args, 1)
	return args[0]
}

// stillWorks checks that the socket answers a following event.
func (w *wire) stillWorks(id string) {
	w.t.Helper()
	w.send(`42` + id + `["hub:echo",{"x":1}]`)
	assert.Equal(w.t, map[string]any{"ok": true, "data": map[string]any{"x": 1.0}}, w.ack(id))
}

// Defect: a well-formed event whose arguments the library's decoder refuses (a number out of
// float64 range, nesting deeper than encoding/json's limit, an ack id above 2^64) closed the
// socket (close code 1006) instead of being answered with an error ack.
func TestUnusableEventAnsweredNotClosed(t *testing.T) {
	url := echoServer(t)
	cases := map[string]struct{ frame, reason string }{
		"number out of range in an object": {`421["hub:echo",{"n":1e400}]`, reasonNumber},
		"number out of range":              {`421["hub:echo",1e400]`, reasonNumber},
		"negative number out of range":     {`421["hub:echo",[-2E+308]]`, reasonNumber},
		"integer of 400 digits":            {`421["hub:echo",1` + strings.Repeat("0", 400) + `]`, reasonNumber},
		"event name out of range":          {`421[1e999,{}]`, reasonNumber},
		"50,000 levels":                    {`421["hub:echo",` + deep(50000, "") + `]`, reasonDepth},
		"100 levels":                       {`421["hub:echo",` + deep(100, "1") + `]`, reasonDepth},
		"deep objects":                     {`421["hub:echo",` + strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200) + `]`, reasonDepth},
		"namespace and id":                 {`42/,1["hub:echo",{"n":1e400}]`, reasonNumber},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := dialWire(t, url)
			w.send(c.frame)
			invalid(t, w.ack("1"), c.reason)
			w.stillWorks("2")
		})
	}
}

// Without an ack id, or with one that does not fit, an unusable event is ignored; so is an
// unusable ack (the hub asks clients for none).
func TestUnusableEventWithoutUsableAckIgnored(t *testing.T) {
	url := echoServer(t)
	cases := map[string]string{
		"no id, number out of range": `42["hub:echo",{"n":1e400}]`,
		"no id, 50,000 levels":       `42["hub:echo",` + deep(50000, "") + `]`,
		"id above 2^64":              `4218446744073709551616["hub:echo",{}]`,
		"id of 20 digits":            `4218446744073709551615["hub:echo",{}]`,
		"id of 40 digits, 1e400":     `42` + strings.Repeat("9", 40) + `["hub:echo",1e400]`,
		"ack out of range":           `431["x",1e400]`,
		"ack id above 2^64":          `4318446744073709551616[]`,
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			w := dialWire(t, url)
			w.send(frame)
			w.stillWorks("7")
		})
	}
}

// A client that writes a bad event right behind its CONNECT, before the namespace is joined, is
// answered once it is (the gate holds the event as it holds any other).
func TestUnusableEventPipelinedBehindConnect(t *testing.T) {
	url := echoServer(t)
	for range 10 {
		ws, _, err := websocket.DefaultDialer.DialContext(ctxT(t), wsURL(url), nil)
		require.NoError(t, err)
		w := &wire{t: t, ws: ws}
		w.send("40")
		w.send(`421["hub:echo",{"n":1e400}]`)
		w.send(`422["hub:echo",{"x":1}]`)
		require.Equal(t, byte('0'), w.read()[0], "OPEN")
		require.True(t, strings.HasPrefix(w.read(), "40"), "CONNECT answered")
		invalid(t, w.ack("1"), reasonNumber)
		assert.Equal(t, map[string]any{"ok": true, "data": map[string]any{"x": 1.0}}, w.ack("2"))
		ws.Close()
	}
}

// Binary events keep working, and a bad one still has its attachments consumed.
func TestUnusableBinaryEvent(t *testing.T) {
	w := dialWire(t, echoServer(t))
	w.send(`451-1["hub:echo",{"_placeholder":true,"num":0},1e400]`)
	w.sendBinary([]byte{1, 2, 3})
	invalid(t, w.ack("1"), reasonNumber)

	w.send(`451-["hub:echo",` + deep(80, `{"_placeholder":true,"num":0}`) + `]`)
	w.sendBinary([]byte{4})

	w.send(`451-2["hub:echo",{"b":{"_placeholder":true,"num":0}}]`)
	w.sendBinary([]byte{0, 1, 250})
	head := w.read()
	require.True(t, strings.HasPrefix(head, "461-2["), head)
	var args []map[string]any
	require.NoError(t, json.Unmarshal([]byte(head[len("461-2"):]), &args))
	assert.Equal(t, []map[string]any{{"ok": true, "data": map[string]any{"b": map[string]any{"_placeholder": true, "num": 0.0}}}}, args)
	_ = w.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, blob, err := w.ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, websocket.BinaryMessage, typ)
	assert.Equal(t, []byte{0, 1, 250}, blob)
	w.stillWorks("3")
}

// No client can name an event so that the hooks skip it: the marker is random, and anything
// that only looks like it reaches the Event hook.
func TestMarkerCannotBeSent(t *testing.T) {
	w := dialWire(t, echoServer(t))
	w.send(`421["sio:unusable:x","why"]`)
	got := w.ack("1")
	assert.Equal(t, map[string]any{"ok": false, "error": map[string]any{"code": "invalid_request", "message": "unknown event"}}, got)
}

// The HTTP long-polling transport goes through the same guard.
func TestUnusableEventOverPolling(t *testing.T) {
	url := echoServer(t) + "/socket.io/?EIO=4&transport=polling"
	sid := pollingHandshake(t, url)
	url += "&sid=" + sid
	post(t, url, "40")
	require.True(t, strings.HasPrefix(poll(t, url, 1)[0], "0{"), "CONNECT answered")
	post(t, url, `421["hub:echo",1e400]`+"\x1e"+`42["hub:echo",`+deep(1000, "")+`]`+"\x1e"+`422["hub:echo",{"x":1}]`)
	got := poll(t, url, 2)
	require.Len(t, got, 2)
	require.True(t, strings.HasPrefix(got[0], "31["), got[0])
	var args []map[string]any
	require.NoError(t, json.Unmarshal([]byte(got[0][2:]), &args))
	invalid(t, args[0], reasonNumber)
	assert.Equal(t, `32[{"data":{"x":1},"ok":true}]`, got[1])
}

// Engine.IO responses carry the headers every REST response carries.
func TestSecurityHeaders(t *testing.T) {
	base := echoServer(t)
	check := func(what string, h http.Header) {
		t.Helper()
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), what)
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"), what)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), what)
		assert.Equal(t, "same-site", h.Get("Cross-Origin-Resource-Policy"), what)
		assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", h.Get("Content-Security-Policy"), what)
	}
	url := base + "/socket.io/?EIO=4&transport=polling"
	res, err := http.Get(url)
	require.NoError(t, err)
	body := readAll(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	check("polling handshake", res.Header)
	var open struct{ Sid string }
	require.NoError(t, json.Unmarshal([]byte(body[1:]), &open))

	res, err = http.Post(url+"&sid="+open.Sid, "text/plain;charset=UTF-8", strings.NewReader("40"))
	require.NoError(t, err)
	readAll(t, res)
	check("polling POST", res.Header)

	res, err = http.Get(url + "&sid=" + open.Sid)
	require.NoError(t, err)
	readAll(t, res)
	check("polling GET", res.Header)

	req, _ := http.NewRequest(http.MethodOptions, url, nil)
	req.Header.Set("Origin", "http://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	readAll(t, res)
	check("CORS preflight", res.Header)

	res, err = http.Get(base + "/socket.io/?EIO=4&transport=polling&sid=nope")
	require.NoError(t, err)
	readAll(t, res)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	check("refusal", res.Header)

	ws, res, err := websocket.DefaultDialer.DialContext(ctxT(t), wsURL(base), nil)
	require.NoError(t, err)
	ws.Close()
	check("websocket upgrade", res.Header)

	_, res, err = websocket.DefaultDialer.DialContext(ctxT(t), wsURL(base), http.Header{"Origin": {"http://evil.example"}})
	require.Error(t, err)
	check("refused upgrade", res.Header)
}

func invalid(t *testing.T, got map[string]any, reason string) {
	t.Helper()
	assert.Equal(t, map[string]any{"ok": false, "error": map[string]any{"code": "invalid_request", "message": reason}}, got)
}

func deep(n int, inner string) string {
	return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func pollingHandshake(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	body := readAll(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var open struct{ Sid string }
	require.NoError(t, json.Unmarshal([]byte(body[1:]), &open), body)
	return open.Sid
}

func post(t *testing.T, url, payload string) {
	t.Helper()
	res, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader(payload))
	require.NoError(t, err)
	body := readAll(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
}

// poll long-polls until n Engine.IO message packets have come, and returns their Socket.IO
// packets.
func poll(t *testing.T, url string, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		res, err := http.Get(url)
		require.NoError(t, err)
		body := readAll(t, res)
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		for _, p := range strings.Split(body, "\x1e") {
			switch {
			case p == "2":
				post(t, url, "3")
			case strings.HasPrefix(p, "4"):
				got = append(got, p[1:])
			default:
				t.Fatalf("unexpected packet %q", p)
			}
		}
	}
	return got
}
