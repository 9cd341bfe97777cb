package mail_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/mail"
)

// TestNotificationDigest renders the digest in both languages: every type phrased, counts,
// the "more" line, and user text escaped in HTML.
func TestNotificationDigest(t *testing.T) {
	r, err := mail.NewRenderer("P2P Sandbox Hub")
	require.NoError(t, err)
	items := []map[string]string{
		{"Type": "message", "Actor": "Sara <b>A</b>", "Count": "3", "Preview": "See you at the plant"},
		{"Type": "message", "Actor": "Omar B", "Count": "1", "Preview": ""},
		{"Type": "mention", "Actor": "Omar B", "Count": "1", "Title": "Line 4 downtime"},
		{"Type": "reply", "Actor": "Huda C", "Count": "1"},
		{"Type": "best_answer", "Actor": "Ali D", "Count": "1", "Title": "PLC retrofit"},
		{"Type": "invitation_accepted", "Actor": "New Member", "Count": "1"},
		{"Type": "use_case_reviewed", "Count": "1", "Title": "Energy savings", "Preview": "approved"},
		{"Type": "something_later", "Actor": "Zed", "Count": "1", "Title": "A later type"},
	}
	tests := []struct {
		lang    string
		subject string
		want    []string
	}{
		{"en", "You have 9 unread notifications on P2P Sandbox Hub", []string{
			"Hello Sara,",
			"Sara <b>A</b> sent you 3 messages: “See you at the plant”",
			"Omar B sent you a message\n",
			"Omar B mentioned you in “Line 4 downtime”",
			"Huda C replied to your post",
			"Ali D chose your answer as the best in “PLC retrofit”",
			"New Member accepted your invitation and joined your organization",
			"Your use case “Energy savings” was reviewed: approved",
			"Zed: A later type",
			"… and 1 more.",
			"http://localhost:5173/notifications",
		}},
		{"ar", "لديك إشعارات غير مقروءة (9) في P2P Sandbox Hub", []string{
			"مرحباً Sara،",
			"أرسل إليك Sara <b>A</b> رسائل (3): «See you at the plant»",
			"أشار إليك Omar B في «Line 4 downtime»",
			"ردّ Huda C على منشورك",
			"قبل New Member دعوتك وانضم إلى مؤسستك",
			"تمت مراجعة حالة الاستخدام الخاصة بك «Energy savings»: approved",
			"وإشعارات أخرى (1)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			m, err := r.Render(mail.Request{Template: "notification_digest", Lang: tt.lang, To: "sara@example.com",
				Data:  map[string]string{"FirstName": "Sara", "Count": "9", "More": "1", "Link": "http://localhost:5173/notifications"},
				Items: items})
			require.NoError(t, err)
			assert.Equal(t, tt.subject, m.Subject)
			for _, w := range tt.want {
				assert.Contains(t, m.Text, w)
			}
			assert.Contains(t, m.HTML, "Sara &lt;b&gt;A&lt;/b&gt;", "user data is escaped in HTML")
			assert.NotContains(t, m.HTML, "<b>A</b>")
			assert.Contains(t, m.HTML, `href="http://localhost:5173/notifications"`)
		})
	}

	one, err := r.Render(mail.Request{Template: "notification_digest", Lang: "en", To: "a@b.example",
		Data:  map[string]string{"FirstName": "Sara", "Count": "1", "More": "0", "Link": "http://x.example/notifications"},
		Items: []map[string]string{{"Type": "reply", "Actor": "", "Count": "1", "Title": "Kaizen"}}})
	require.NoError(t, err)
	assert.Equal(t, "You have an unread notification on P2P Sandbox Hub", one.Subject)
	assert.Contains(t, one.Text, "Someone replied to “Kaizen”")
	assert.NotContains(t, one.Text, "more")
}
