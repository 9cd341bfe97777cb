package notify

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// DigestTemplate is the mail template of the digest (platform/mail/templates).
const DigestTemplate = "notification_digest"

// digestItems is how many notifications a digest lists; it counts the rest.
const digestItems = 20

// SendDigest mails the recipient one digest of what they left unread: the notifications they
// want by email that are unread, not mailed yet and at least EmailDelay old. window names the
// digest (Scheduler) so that a retried task does not mail twice.
//
// A recipient who is online when it runs gets nothing: they have had the live push and the
// badge. What they leave unread is mailed by the digest of their next notification's window,
// which takes everything still unread and unmailed, however old.
func (s *Service) SendDigest(ctx context.Context, recipientID, window string) error {
	if s.d.Presence == nil || s.d.Accounts == nil || s.d.Mailer == nil {
		return ErrNoDigestDeps
	}
	online, err := s.d.Presence.Online(ctx, recipientID)
	if err != nil {
		return fmt.Errorf("notify: presence of %s: %w", recipientID, err)
	}
	if online {
		return nil
	}
	acc, err := s.d.Accounts.Account(ctx, recipientID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify: account of %s: %w", recipientID, err)
	}
	if !acc.User.IsActive || acc.User.DeletedAt != nil {
		return nil
	}
	prefs, err := s.Preferences(ctx, recipientID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.d.Store.Digest(ctx, recipientID, now.Add(-s.d.Config.EmailDelay), now, func(due []Notification) ([]string, error) {
		var mail []Notification
		for _, n := range due {
			if prefs[n.Type].Email {
				mail = append(mail, n)
			}
		}
		if len(mail) == 0 {
			return nil, nil
		}
		data, items := s.digestContent(acc, mail)
		if err := s.d.Mailer.TemplateOnce(ctx, "notify:"+recipientID+":"+window, DigestTemplate,
			acc.User.LanguagePreference, acc.User.Email, data, items); err != nil {
			return nil, fmt.Errorf("notify: queuing the digest of %s: %w", recipientID, err)
		}
		mailed := make([]string, len(mail))
		for i, n := range mail {
			mailed[i] = n.ID
		}
		return mailed, nil
	})
}

// digestContent is the template's data: the newest notifications first, each with its type
// (the template phrases it in the recipient's language), actor, count, title and preview.
func (s *Service) digestContent(acc identity.Account, mail []Notification) (map[string]string, []map[string]string) {
	newest := slices.Clone(mail)
	slices.Reverse(newest)
	shown := newest[:min(len(newest), digestItems)]
	items := make([]map[string]string, len(shown))
	for i, n := range shown {
		actor := ""
		if n.Actor != nil {
			actor = strings.TrimSpace(n.Actor.FirstName + " " + n.Actor.LastName)
		}
		items[i] = map[string]string{
			"Type":    n.Type,
			"Actor":   actor,
			"Count":   strconv.Itoa(n.Count),
			"Title":   text(n.Data["title"]),
			"Preview": text(n.Data["preview"]),
		}
	}
	data := map[string]string{
		"FirstName": acc.User.FirstName,
		"Count":     strconv.Itoa(len(mail)),
		"More":      strconv.Itoa(len(mail) - len(shown)),
		"Link":      strings.TrimSuffix(s.d.Config.WebsiteURL, "/") + "/notifications",
	}
	return data, items
}

func text(v any) string {
	if str, ok := v.(string); ok {
		return str
	}
	return ""
}
