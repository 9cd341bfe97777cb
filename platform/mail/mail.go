// Package mail renders the product's mail from embedded English and Arabic templates and delivers
// it over SMTP, keeping a copy in a local outbox in development so links can be clicked.
package mail

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Request asks for one templated mail. It is what the mail task carries, so it is plain data.
type Request struct {
	Template string            `json:"template"` // file name without language and extension
	Lang     string            `json:"lang"`     // en | ar; anything else falls back to en
	To       string            `json:"to"`
	Data     map[string]string `json:"data"`
	// Items are the rows of a mail that lists things (the notification digest), as .Items.
	Items []map[string]string `json:"items,omitempty"`
}

// Message is a rendered mail.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

//go:embed templates/*.tmpl
var templateFS embed.FS

// Renderer turns requests into messages.
type Renderer struct {
	text *template.Template
	html *htmltemplate.Template
	// Product is shown in every mail (the app name).
	Product string
}

// NewRenderer parses the embedded templates. Each file templates/<name>.<lang>.tmpl defines
// "subject", "text" and "html".
func NewRenderer(product string) (*Renderer, error) {
	r := &Renderer{Product: product, text: template.New("mail"), html: htmltemplate.New("mail")}
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, fmt.Errorf("mail: reading templates: %w", err)
	}
	for _, e := range entries {
		b, err := templateFS.ReadFile("templates/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		prefix := strings.TrimSuffix(e.Name(), ".tmpl") + "/"
		src := strings.NewReplacer(`{{define "`, `{{define "`+prefix).Replace(string(b))
		if _, err := r.text.Parse(src); err != nil {
			return nil, fmt.Errorf("mail: parsing %s: %w", e.Name(), err)
		}
		if _, err := r.html.Parse(src); err != nil {
			return nil, fmt.Errorf("mail: parsing %s as html: %w", e.Name(), err)
		}
	}
	return r, nil
}

// Render produces the message for req.
func (r *Renderer) Render(req Request) (Message, error) {
	lang := req.Lang
	if lang != "ar" {
		lang = "en"
	}
	name := req.Template + "." + lang + "/"
	if r.text.Lookup(name+"subject") == nil {
		return Message{}, fmt.Errorf("mail: no template %q in %s", req.Template, lang)
	}
	data := map[string]any{"Product": r.Product, "Lang": lang}
	for k, v := range req.Data {
		data[k] = v
	}
	if req.Items != nil {
		data["Items"] = req.Items
	}
	var subject, text, html bytes.Buffer
	if err := r.text.ExecuteTemplate(&subject, name+"subject", data); err != nil {
		return Message{}, fmt.Errorf("mail: rendering subject: %w", err)
	}
	if err := r.text.ExecuteTemplate(&text, name+"text", data); err != nil {
		return Message{}, fmt.Errorf("mail: rendering text: %w", err)
	}
	if err := r.html.ExecuteTemplate(&html, name+"html", data); err != nil {
		return Message{}, fmt.Errorf("mail: rendering html: %w", err)
	}
	return Message{
		To:      req.To,
		Subject: strings.TrimSpace(subject.String()),
		Text:    strings.TrimSpace(text.String()) + "\n",
		HTML:    html.String(),
	}, nil
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTPConfig addresses an SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int
	User     string
	Password string
	From     string
}

// SMTP sends through an SMTP server, with STARTTLS when the server offers it.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP returns a sender for cfg.
func NewSMTP(cfg SMTPConfig) *SMTP { return &SMTP{cfg: cfg} }

// Send delivers m.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(s.cfg.From, m)
	if err != nil {
		return err
	}
	opts := []gomail.Option{
		// WithPort first: it then takes precedence over the policy's default port.
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(15 * time.Second),
		gomail.WithTLSPortPolicy(gomail.TLSOpportunistic),
	}
	if s.cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: sending to %s: %w", m.To, err)
	}
	return nil
}

// Outbox writes every message as an .eml file into a directory (development only).
type Outbox struct {
	Dir  string
	From string
}

// Send writes m to the outbox.
func (o Outbox) Send(_ context.Context, m Message) error {
	msg, err := build(o.From, m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	name := fmt.Sprintf("%s-%s.eml", time.Now().UTC().Format("20060102T150405.000000000"), sanitize(m.To))
	f, err := os.CreateTemp(o.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	if _, err := msg.WriteTo(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("mail: outbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	// Rename last so that a reader never sees half a file.
	return os.Rename(f.Name(), filepath.Join(o.Dir, name))
}

// Multi sends to every sender in turn and fails if any fails.
type Multi []Sender

// Send delivers m through each sender.
func (ms Multi) Send(ctx context.Context, m Message) error {
	for _, s := range ms {
		if err := s.Send(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func build(from string, m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8))
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == '@' {
			return r
		}
		return '_'
	}, s)
}
