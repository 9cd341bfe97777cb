package mail_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/mail"
	"github.com/p2psandbox/hub/platform/mail/mailtest"
)

func TestRenderEveryTemplateInBothLanguages(t *testing.T) {
	r, err := mail.NewRenderer("P2P Sandbox Hub")
	require.NoError(t, err)
	tests := []struct {
		template, lang, wantSubject string
	}{
		{"verify_email", "en", "Confirm your email"},
		{"verify_email", "ar", "تأكيد بريدك الإلكتروني"},
		{"reset_password", "en", "Reset your"},
		{"reset_password", "ar", "إعادة تعيين كلمة المرور"},
		{"reset_password", "fr", "Reset your"}, // unknown languages fall back to English
		{"invitation", "en", "invited you to"},
		{"invitation", "ar", "دعاك"},
	}
	for _, tt := range tests {
		t.Run(tt.template+"/"+tt.lang, func(t *testing.T) {
			m, err := r.Render(mail.Request{Template: tt.template, Lang: tt.lang, To: "a@b.example",
				Data: map[string]string{"FirstName": "<b>Sara</b>", "Link": "http://localhost:5173/auth/x?token=abc&rid=y"}})
			require.NoError(t, err)
			assert.Contains(t, m.Subject, tt.wantSubject)
			assert.Contains(t, m.Text, "http://localhost:5173/auth/x?token=abc&rid=y")
			assert.Contains(t, m.HTML, `href="http://localhost:5173/auth/x?token=abc&amp;rid=y"`)
			assert.Contains(t, m.HTML, "&lt;b&gt;Sara&lt;/b&gt;", "user data is escaped in HTML")
			assert.NotContains(t, m.HTML, "<b>Sara</b>")
			if tt.lang == "ar" {
				assert.Contains(t, m.HTML, `dir="rtl"`)
			}
		})
	}
	_, err = r.Render(mail.Request{Template: "nope", Lang: "en"})
	assert.ErrorContains(t, err, `no template "nope"`)
}

func TestSMTPAndOutbox(t *testing.T) {
	srv := mailtest.Start(t)
	dir := t.TempDir()
	r, err := mail.NewRenderer("P2P Sandbox Hub")
	require.NoError(t, err)
	m, err := r.Render(mail.Request{Template: "verify_email", Lang: "ar", To: "sara@example.com",
		Data: map[string]string{"FirstName": "سارة", "Link": "http://localhost:5173/auth/verify-email?token=" + strings.Repeat("x", 90)}})
	require.NoError(t, err)

	from := "P2P Sandbox Hub <no-reply@p2p.local>"
	sender := mail.Multi{
		mail.Outbox{Dir: dir, From: from},
		mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, From: from}),
	}
	require.NoError(t, sender.Send(context.Background(), m))

	got := srv.Wait(t, "sara@example.com", "تأكيد", 5*time.Second)
	assert.Contains(t, got.Text, "مرحباً سارة")
	require.Len(t, got.Links, 1, "long links survive quoted-printable line breaks")
	assert.Equal(t, "http://localhost:5173/auth/verify-email?token="+strings.Repeat("x", 90), got.Links[0])

	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	raw, err := os.ReadFile(files[0])
	require.NoError(t, err)
	parsed, err := mail.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, got.Links, parsed.Links)
	assert.Equal(t, got.Subject, parsed.Subject)
}

func TestSMTPUnreachable(t *testing.T) {
	s := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: 1, From: "x@y.example"})
	err := s.Send(context.Background(), mail.Message{To: "a@b.example", Subject: "s", Text: "t"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a@b.example")
}
