// Package sioclient is a small Socket.IO v5 client (Engine.IO v4 over websocket only) for the
// hub's Go tests and the load generator. It speaks the wire protocol directly, so it shares no
// code with the server library it tests. The test of record remains the npm socket.io-client.
package sioclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options configure Dial.
type Options struct {
	Auth   map[string]any // sent with the namespace CONNECT
	Header http.Header    // handshake headers (Cookie, Origin)
	// OnEvent, when set, receives every server event on the reading goroutine instead of the
	// queue that Next reads. It must not block.
	OnEvent func(name string, args []any)
	Dialer  *websocket.Dialer
}

// ConnectError is the server's refusal of the namespace CONNECT (connect_error).
type ConnectError struct {
	Message string
	Data    map[string]any
}

func (e *ConnectError) Error() string { return "connect_error: " + e.Message }

// Code returns Data["code"].
func (e *ConnectError) Code() string { s, _ := e.Data["code"].(string); return s }

// Event is one server event.
type Event struct {
	Name string
	Args []any
}

// ErrClosed reports a use of a closed client.
var ErrClosed = errors.New("sioclient: connection closed")

// Client is one connected socket.
type Client struct {
	ws      *websocket.Conn
	opts    Options
	SID     string // the socket id from CONNECT
	wmu     sync.Mutex
	mu      sync.Mutex
	nextID  uint64
	acks    map[uint64]chan []any
	queue   []Event
	notify  chan struct{}
	done    chan struct{}
	err     error
	closeMu sync.Once
}

// Dial connects to base (http://host:port) and completes the namespace CONNECT.
func Dial(ctx context.Context, base string, opts Options) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	d := opts.Dialer
	if d == nil {
		d = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	}
	ws, res, err := d.DialContext(ctx, u.String(), opts.Header)
	if err != nil {
		if res != nil {
			return nil, fmt.Errorf("sioclient: websocket handshake: %s: %w", res.Status, err)
		}
		return nil, fmt.Errorf("sioclient: websocket handshake: %w", err)
	}
	c := &Client{ws: ws, opts: opts, acks: map[uint64]chan []any{}, notify: make(chan struct{}, 1), done: make(chan struct{})}
	if err := c.handshake(ctx); err != nil {
		ws.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

// handshake reads the Engine.IO OPEN, sends the namespace CONNECT and waits for its answer.
func (c *Client) handshake(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.ws.SetReadDeadline(dl)
		defer c.ws.SetReadDeadline(time.Time{})
	}
	_, msg, err := c.ws.ReadMessage()
	if err != nil {
		return fmt.Errorf("sioclient: reading OPEN: %w", err)
	}
	if len(msg) == 0 || msg[0] != '0' {
		return fmt.Errorf("sioclient: expected OPEN, got %q", msg)
	}
	connect := []byte("40")
	if c.opts.Auth != nil {
		b, err := json.Marshal(c.opts.Auth)
		if err != nil {
			return err
		}
		connect = append(connect, b...)
	}
	if err := c.write(websocket.TextMessage, connect); err != nil {
		return err
	}
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("sioclient: waiting for CONNECT: %w", err)
		}
		switch {
		case string(msg) == "2":
			if err := c.write(websocket.TextMessage, []byte("3")); err != nil {
				return err
			}
		case bytes.HasPrefix(msg, []byte("40")):
			var ok struct {
				SID string `json:"sid"`
			}
			if err := json.Unmarshal(msg[2:], &ok); err != nil {
				return fmt.Errorf("sioclient: CONNECT: %w", err)
			}
			c.SID = ok.SID
			return nil
		case bytes.HasPrefix(msg, []byte("44")):
			ce := &ConnectError{}
			var body struct {
				Message string         `json:"message"`
				Data    map[string]any `json:"data"`
			}
			if err := json.Unmarshal(msg[2:], &body); err != nil {
				return fmt.Errorf("sioclient: CONNECT_ERROR: %w", err)
			}
			ce.Message, ce.Data = body.Message, body.Data
			return ce
		default:
			return fmt.Errorf("sioclient: unexpected packet before CONNECT: %q", msg)
		}
	}
}

func (c *Client) write(kind int, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(kind, p)
}

// Emit sends an event without acknowledgement.
func (c *Client) Emit(event string, args ...any) error {
	return c.send(event, args, nil)
}

// EmitWithAck sends an event and waits for its acknowledgement's arguments.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	ch := make(chan []any, 1)
	if err := c.send(event, args, ch); err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		return a, nil
	case <-c.done:
		return nil, c.closeErr()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Client) send(event string, args []any, ack chan []any) error {
	data := append([]any{event}, args...)
	var bins [][]byte
	data = deconstruct(data, &bins).([]any)
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("4")
	if len(bins) > 0 {
		b.WriteString("5" + strconv.Itoa(len(bins)) + "-")
	} else {
		b.WriteString("2")
	}
	if ack != nil {
		c.mu.Lock()
		id := c.nextID
		c.nextID++
		c.acks[id] = ack
		c.mu.Unlock()
		b.WriteString(strconv.FormatUint(id, 10))
	}
	b.Write(body)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(b.String())); err != nil {
		return err
	}
	for _, bin := range bins {
		if err := c.ws.WriteMessage(websocket.BinaryMessage, bin); err != nil {
			return err
		}
	}
	return nil
}

// Next returns the next queued event named name (any name when empty). Events of other names
// stay queued. It fails when ctx ends, or when the connection has closed and nothing matching is
// left.
func (c *Client) Next(ctx context.Context, name string) (Event, error) {
	for {
		if e, ok := c.take(name); ok {
			return e, nil
		}
		select {
		case <-c.notify:
		case <-c.done:
			if e, ok := c.take(name); ok {
				return e, nil
			}
			return Event{}, c.closeErr()
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

func (c *Client) take(name string) (Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.queue {
		if name == "" || e.Name == name {
			c.queue = append(c.queue[:i:i], c.queue[i+1:]...)
			return e, true
		}
	}
	return Event{}, false
}

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended.
func (c *Client) Err() error { return c.closeErr() }

func (c *Client) closeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return ErrClosed
}

// Close sends a namespace DISCONNECT and closes the websocket.
func (c *Client) Close() error {
	_ = c.write(websocket.TextMessage, []byte("41"))
	return c.Abort()
}

// Abort closes the websocket without a goodbye, like a lost network.
func (c *Client) Abort() error {
	err := c.ws.Close()
	<-c.done
	return err
}

func (c *Client) finish(err error) {
	c.closeMu.Do(func() {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(c.done)
	})
}

// read is the connection's one reader: it answers pings, collects binary attachments and routes
// acks and events.
func (c *Client) read() {
	var pending *packet
	for {
		kind, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.finish(fmt.Errorf("sioclient: %w", err))
			return
		}
		if kind == websocket.BinaryMessage {
			if pending == nil {
				continue
			}
			pending.bins = append(pending.bins, msg)
			if len(pending.bins) == pending.attachments {
				c.deliver(pending)
				pending = nil
			}
			continue
		}
		if len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case '2':
			_ = c.write(websocket.TextMessage, []byte("3"))
		case '1':
			c.ws.Close()
		case '4':
			p, err := parsePacket(msg[1:])
			if err != nil {
				continue
			}
			if p.attachments > 0 {
				pending = p
				continue
			}
			c.deliver(p)
		}
	}
}

type packet struct {
	typ         byte
	id          *uint64
	attachments int
	data        []any
	bins        [][]byte
}

func parsePacket(b []byte) (*packet, error) {
	if len(b) == 0 {
		return nil, errors.New("empty packet")
	}
	p := &packet{typ: b[0]}
	b = b[1:]
	if p.typ == '5' || p.typ == '6' {
		i := bytes.IndexByte(b, '-')
		if i < 0 {
			return nil, errors.New("bad binary packet")
		}
		n, err := strconv.Atoi(string(b[:i]))
		if err != nil {
			return nil, err
		}
		p.attachments = n
		b = b[i+1:]
	}
	if len(b) > 0 && b[0] == '/' {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return nil, errors.New("bad namespace")
		}
		b = b[i+1:]
	}
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j > 0 {
		id, err := strconv.ParseUint(string(b[:j]), 10, 64)
		if err != nil {
			return nil, err
		}
		p.id = &id
		b = b[j:]
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &p.data); err != nil {
			// A DISCONNECT or CONNECT packet carries an object, not an array.
			p.data = nil
		}
	}
	return p, nil
}

func (c *Client) deliver(p *packet) {
	data, _ := reconstruct(p.data, p.bins).([]any)
	switch p.typ {
	case '2', '5':
		if len(data) == 0 {
			return
		}
		name, _ := data[0].(string)
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(name, data[1:])
			return
		}
		c.mu.Lock()
		c.queue = append(c.queue, Event{Name: name, Args: data[1:]})
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
	case '3', '6':
		if p.id == nil {
			return
		}
		c.mu.Lock()
		ch := c.acks[*p.id]
		delete(c.acks, *p.id)
		c.mu.Unlock()
		if ch != nil {
			ch <- data
		}
	case '1':
		c.ws.Close()
	}
}

func deconstruct(v any, bins *[][]byte) any {
	switch x := v.(type) {
	case []byte:
		*bins = append(*bins, x)
		return map[string]any{"_placeholder": true, "num": len(*bins) - 1}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deconstruct(e, bins)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deconstruct(e, bins)
		}
		return out
	default:
		return v
	}
}

func reconstruct(v any, bins [][]byte) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = reconstructValue(e, bins)
		}
		return x
	default:
		return v
	}
}

func reconstructValue(v any, bins [][]byte) any {
	switch x := v.(type) {
	case map[string]any:
		if ph, _ := x["_placeholder"].(bool); ph {
			if n, ok := x["num"].(float64); ok && int(n) < len(bins) && n >= 0 {
				return bins[int(n)]
			}
		}
		for k, e := range x {
			x[k] = reconstructValue(e, bins)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = reconstructValue(e, bins)
		}
		return x
	default:
		return v
	}
}
