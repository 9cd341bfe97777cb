package mail

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strings"
)

// Parsed is a received message, decoded: what the dev outbox shows and tests assert on.
type Parsed struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Subject string   `json:"subject"`
	Date    string   `json:"date"`
	Text    string   `json:"text"`
	HTML    string   `json:"-"`
	Links   []string `json:"links"`
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// Parse decodes an RFC 5322 message with a text and an optional HTML part.
func Parse(raw []byte) (Parsed, error) {
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Parsed{}, fmt.Errorf("mail: parsing message: %w", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	p := Parsed{From: m.Header.Get("From"), To: m.Header.Get("To"), Subject: subject, Date: m.Header.Get("Date")}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return Parsed{}, fmt.Errorf("mail: content type: %w", err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body, err := decodeBody(m.Header.Get("Content-Transfer-Encoding"), m.Body)
		if err != nil {
			return Parsed{}, err
		}
		p.Text = body
	} else {
		// multipart.Reader decodes quoted-printable parts itself.
		r := multipart.NewReader(m.Body, params["boundary"])
		for {
			part, err := r.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return Parsed{}, fmt.Errorf("mail: reading part: %w", err)
			}
			b, err := io.ReadAll(part)
			if err != nil {
				return Parsed{}, fmt.Errorf("mail: reading part: %w", err)
			}
			switch ct := part.Header.Get("Content-Type"); {
			case strings.HasPrefix(ct, "text/plain"):
				p.Text = string(b)
			case strings.HasPrefix(ct, "text/html"):
				p.HTML = string(b)
			}
		}
	}
	p.Links = linkPattern.FindAllString(p.Text, -1)
	return p, nil
}

func decodeBody(encoding string, r io.Reader) (string, error) {
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("mail: reading body: %w", err)
	}
	return string(b), nil
}
