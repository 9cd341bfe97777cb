// Package mailtest runs a real SMTP server inside a test and hands over what it receives.
package mailtest

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/p2psandbox/hub/platform/mail"
)

// Server is an SMTP sink on a loopback port.
type Server struct {
	Host string
	Port int

	mu       sync.Mutex
	messages []mail.Parsed
	// arrived is closed, and replaced, whenever a message arrives: every waiter wakes up, however
	// many there are.
	arrived chan struct{}
}

// Start listens on a free loopback port; the server stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	s := &Server{arrived: make(chan struct{})}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	go srv.Serve(ln) //nolint:errcheck // returns when Close is called
	t.Cleanup(func() { srv.Close() })
	return s
}

// Wait returns the first message to addr whose subject contains subject, waiting up to timeout
// for it to arrive.
func (s *Server) Wait(t testing.TB, to, subject string, timeout time.Duration) mail.Parsed {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		arrived := s.arrived
		s.mu.Unlock()
		if m, ok := s.find(to, subject); ok {
			return m
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("mailtest: no mail to %s with subject %q within %s; received: %v", to, subject, timeout, s.subjects())
		}
	}
}

// Messages returns everything received so far.
func (s *Server) Messages() []mail.Parsed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail.Parsed(nil), s.messages...)
}

// Count returns how many messages went to addr.
func (s *Server) Count(to string) int {
	n := 0
	for _, m := range s.Messages() {
		if strings.Contains(m.To, to) {
			n++
		}
	}
	return n
}

func (s *Server) find(to, subject string) (mail.Parsed, bool) {
	for _, m := range s.Messages() {
		if strings.Contains(m.To, to) && strings.Contains(m.Subject, subject) {
			return m, true
		}
	}
	return mail.Parsed{}, false
}

func (s *Server) subjects() []string {
	var out []string
	for _, m := range s.Messages() {
		out = append(out, m.To+": "+m.Subject)
	}
	return out
}

type session struct{ s *Server }

func (*session) Reset()                               {}
func (*session) Logout() error                        { return nil }
func (*session) Mail(string, *smtp.MailOptions) error { return nil }
func (*session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (*session) AuthMechanisms() []string             { return nil }
func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.Parse(raw)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, m)
	close(ss.s.arrived)
	ss.s.arrived = make(chan struct{})
	ss.s.mu.Unlock()
	return nil
}
