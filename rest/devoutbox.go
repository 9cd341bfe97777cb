package rest

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/platform/mail"
)

// devOutbox lists the newest mails of the development outbox, decoded, with their links, so a
// developer can click "verify" without a mail server. It is mounted only outside production.
func devOutbox(dir string, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
		if err != nil {
			Fail(c, err)
			return
		}
		slices.Sort(files) // names start with the UTC time
		slices.Reverse(files)
		to := strings.ToLower(c.Query("to"))
		items := []gin.H{}
		for _, f := range files {
			if len(items) == 50 {
				break
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				continue // removed meanwhile
			}
			m, err := mail.Parse(raw)
			if err != nil || (to != "" && !strings.Contains(strings.ToLower(m.To), to)) {
				continue
			}
			items = append(items, gin.H{"file": filepath.Base(f), "to": m.To, "subject": m.Subject,
				"date": m.Date, "links": m.Links, "text": m.Text})
		}
		c.JSON(http.StatusOK, gin.H{"items": items})
	}
}
