package usecase

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
)

// The review workflow beyond the decision's three outcomes: comments on fields of the form, a
// moderator claiming a submission (under_review), archiving and restoring a published use case,
// and the history of every change of status.

// Actions of the history besides the moderators' decisions.
const (
	ActionCreate  = "create"
	ActionSubmit  = "submit"
	ActionClaim   = "claim"   // a moderator opens a submitted use case for review
	ActionRelease = "release" // and puts it back in the queue undecided
	ActionArchive = "archive"
	ActionRestore = "restore"
)

// FieldComment is a moderator's comment on one field of the form, named by its path as the
// step validation names it (results.quantitativeMetrics[1].baseline), or on a section or list
// (businessChallenge, solution.technologyComponents).
type FieldComment struct {
	Field   string `json:"field"`
	Comment string `json:"comment"`
}

// Bounds of a decision's comments.
const (
	MaxComments      = 5000 // characters of the general comments
	MaxFieldComments = 50   // comments on fields per decision
	MaxFieldComment  = 2000 // characters of one
	maxFieldPath     = 200  // bytes of a field's path
	MaxReason        = 1000 // characters of the reason to archive or restore
)

// Decision is a moderator's review of a submitted use case. Lang is the language of the
// messages that refuse it.
type Decision struct {
	Action        string         `json:"action"`
	Comments      string         `json:"comments"`
	FieldComments []FieldComment `json:"fieldComments"`
	Lang          string         `json:"-"`
}

func (m messages) pick(en, ar string) string {
	if m.ar {
		return ar
	}
	return en
}

func (m messages) status(s string) string {
	if !m.ar {
		return strings.ReplaceAll(s, "_", " ")
	}
	return map[string]string{StatusDraft: "مسودة", StatusSubmitted: "مُرسلة للمراجعة", StatusUnderReview: "قيد المراجعة",
		StatusChangesRequested: "مطلوب تعديلها", StatusPublished: "منشورة", StatusRejected: "مرفوضة", StatusArchived: "مؤرشفة"}[s]
}

// text checks a moderator's words: UTF-8 without NUL nor other control characters but line
// breaks and tabs, at most most characters; "" when fine.
func (m messages) text(s string, most int) string {
	if !utf8.ValidString(s) {
		return m.pick("must be UTF-8 text", "يجب أن يكون نصًا بترميز UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return m.pick("must not hold control characters", "يجب ألا يحتوي على محارف تحكم")
		}
	}
	if utf8.RuneCountInString(s) > most {
		return m.pick("must be at most "+strconv.Itoa(most)+" characters", "يجب ألا يزيد على "+strconv.Itoa(most)+" حرف")
	}
	return ""
}

// FieldPaths are the paths a comment may name in c: every field of the form, every section,
// every list and each of its items.
func FieldPaths(c Content) map[string]bool {
	out := map[string]bool{}
	var visit func(v reflect.Value, path string)
	visit = func(v reflect.Value, path string) {
		if path != "" {
			out[path] = true
		}
		switch v.Kind() {
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
				if t.Field(i).Anonymous || name == "" || name == "-" {
					continue
				}
				p := name
				if path != "" {
					p = path + "." + name
				}
				visit(v.Field(i), p)
			}
		case reflect.Slice:
			for i := range v.Len() {
				visit(v.Index(i), path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	visit(reflect.ValueOf(c), "")
	return out
}

// checkFieldComments trims and checks comments on the fields of c; the errors name
// fieldComments[i].field or .comment.
func checkFieldComments(c Content, in []FieldComment, m messages) ([]FieldComment, []errs.FieldError) {
	var bad []errs.FieldError
	if len(in) > MaxFieldComments {
		return nil, []errs.FieldError{{Field: "fieldComments", Message: m.pick("must have at most "+strconv.Itoa(MaxFieldComments)+" items",
			"يجب ألا يزيد على "+strconv.Itoa(MaxFieldComments)+" عنصرًا")}}
	}
	paths := FieldPaths(c)
	seen := map[string]bool{}
	out := make([]FieldComment, 0, len(in))
	for i, fc := range in {
		at := "fieldComments[" + strconv.Itoa(i) + "]"
		field, comment := strings.TrimSpace(fc.Field), strings.TrimSpace(fc.Comment)
		switch {
		case field == "":
			bad = append(bad, errs.FieldError{Field: at + ".field", Message: m.required()})
		case len(field) > maxFieldPath || !utf8.ValidString(field) || !paths[field]:
			bad = append(bad, errs.FieldError{Field: at + ".field", Message: m.pick("must name a field of this use case's form",
				"يجب أن يكون اسم حقل من حقول نموذج حالة الاستخدام هذه")})
		case seen[field]:
			bad = append(bad, errs.FieldError{Field: at + ".field", Message: m.pick("is commented on twice; join the comments",
				"عليه تعليقان؛ اجمعهما في تعليق واحد")})
		}
		seen[field] = true
		if comment == "" {
			bad = append(bad, errs.FieldError{Field: at + ".comment", Message: m.required()})
		} else if why := m.text(comment, MaxFieldComment); why != "" {
			bad = append(bad, errs.FieldError{Field: at + ".comment", Message: why})
		}
		out = append(out, FieldComment{Field: field, Comment: comment})
	}
	return out, bad
}

// reviewable are the statuses a moderator decides from.
var reviewable = []string{StatusSubmitted, StatusUnderReview}

// Decide publishes a submitted (or claimed) use case, sends it back with comments (general, per
// field, or both), or rejects it with a reason; the submitter is told (Reviewed). Any moderator
// decides: a claim says who is on it, and does not lock the others out.
func (s *Service) Decide(ctx context.Context, p identity.Principal, id string, d Decision) (UseCase, error) {
	if err := p.Require(identity.PermUseCasesReview); err != nil {
		return UseCase{}, err
	}
	m := msg(d.Lang)
	comments := strings.TrimSpace(d.Comments)
	var to string
	switch d.Action {
	case ActionPublish:
		to = StatusPublished
	case ActionRequestChanges:
		to = StatusChangesRequested
	case ActionReject:
		to = StatusRejected
	default:
		return UseCase{}, errs.Fields(errs.FieldError{Field: "action", Message: m.pick("must be publish, request_changes or reject",
			"يجب أن يكون publish أو request_changes أو reject")})
	}
	if why := m.text(comments, MaxComments); why != "" {
		return UseCase{}, errs.Fields(errs.FieldError{Field: "comments", Message: why})
	}
	if len(d.FieldComments) > 0 && to != StatusChangesRequested {
		return UseCase{}, errs.Fields(errs.FieldError{Field: "fieldComments", Message: m.pick("only with request_changes",
			"مع request_changes فقط")})
	}
	if comments == "" && to != StatusPublished && len(d.FieldComments) == 0 {
		return UseCase{}, errs.Fields(errs.FieldError{Field: "comments", Message: m.pick("is required: tell the author what to change, or why",
			"مطلوب: أخبر الكاتب بما يجب تعديله، أو بالسبب")})
	}
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return UseCase{}, err
	}
	if u.Status != StatusSubmitted && u.Status != StatusUnderReview {
		return UseCase{}, errs.E(errs.Conflict, "%s", m.pick("only a submitted use case is reviewed; this one is "+m.status(u.Status),
			"لا تُراجع إلا حالة استخدام مُرسلة؛ وهذه "+m.status(u.Status)))
	}
	fieldComments, bad := checkFieldComments(u.Content, d.FieldComments, m)
	if len(bad) > 0 {
		return UseCase{}, errs.Fields(bad...)
	}
	at := s.now().UTC()
	ev := Reviewed{UseCaseID: id, Title: u.Title, AuthorID: u.AuthorID, ReviewerID: p.UserID, Action: d.Action, Status: to,
		Comments: comments, FieldComments: len(fieldComments)}
	err = s.store.Transition(ctx, id, Transition{From: reviewable, To: to, At: at, Action: d.Action, ActorID: p.UserID,
		Comments: comments, Publish: to == StatusPublished,
		Review: &Review{Action: d.Action, Comments: comments, FieldComments: fieldComments, ReviewedAt: at}, Event: ev})
	if err != nil {
		return UseCase{}, err
	}
	s.events.Publish(ctx, ev)
	return s.Get(ctx, p, id)
}

// Claim opens a submitted use case for review by the moderator p: under_review, with p as its
// reviewer, so the others in the queue see someone is on it. It is an explicit POST, as
// Discourse's "claim" of a reviewable, rather than a side effect of reading the decision page:
// a GET must stay safe (prefetches, link previews and a glance at the queue would claim), and a
// moderator may read a submission without taking it. Claiming one's own claim again is a no-op;
// another moderator's is errs.Conflict (release it first).
func (s *Service) Claim(ctx context.Context, p identity.Principal, id, lang string) (UseCase, error) {
	if err := p.Require(identity.PermUseCasesReview); err != nil {
		return UseCase{}, err
	}
	m := msg(lang)
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return UseCase{}, err
	}
	switch {
	case u.Status == StatusUnderReview && u.ReviewerID == p.UserID:
		return u, nil
	case u.Status == StatusUnderReview:
		return UseCase{}, errs.E(errs.Conflict, "%s", m.pick("another moderator is reviewing this use case",
			"يراجع مشرف آخر حالة الاستخدام هذه"))
	case u.Status != StatusSubmitted:
		return UseCase{}, errs.E(errs.Conflict, "%s", m.pick("only a submitted use case is claimed; this one is "+m.status(u.Status),
			"لا يُستلم للمراجعة إلا ما أُرسل؛ وهذه "+m.status(u.Status)))
	}
	ev := Claimed{UseCaseID: id, Title: u.Title, ReviewerID: p.UserID, Status: StatusUnderReview}
	// From submitted only: of two moderators claiming at once, one wins, the other is told.
	if err := s.store.Transition(ctx, id, Transition{From: []string{StatusSubmitted}, To: StatusUnderReview, At: s.now().UTC(),
		Action: ActionClaim, ActorID: p.UserID}); err != nil {
		return UseCase{}, err
	}
	s.events.Publish(ctx, ev)
	return s.Get(ctx, p, id)
}

// Release puts a claimed use case back in the queue undecided (any moderator: the one who
// claimed it may be away).
func (s *Service) Release(ctx context.Context, p identity.Principal, id, lang string) (UseCase, error) {
	if err := p.Require(identity.PermUseCasesReview); err != nil {
		return UseCase{}, err
	}
	m := msg(lang)
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return UseCase{}, err
	}
	if u.Status != StatusUnderReview {
		return UseCase{}, errs.E(errs.Conflict, "%s", m.pick("only a use case under review is released; this one is "+m.status(u.Status),
			"لا يُعاد إلى قائمة الانتظار إلا ما هو قيد المراجعة؛ وهذه "+m.status(u.Status)))
	}
	ev := Claimed{UseCaseID: id, Title: u.Title, ReviewerID: p.UserID, Status: StatusSubmitted}
	if err := s.store.Transition(ctx, id, Transition{From: []string{StatusUnderReview}, To: StatusSubmitted, At: s.now().UTC(),
		Action: ActionRelease, ActorID: p.UserID}); err != nil {
		return UseCase{}, err
	}
	s.events.Publish(ctx, ev)
	return s.Get(ctx, p, id)
}

// Queue lists what waits for the moderators, the longest waiting first: submitted and under
// review ones, or those of one status.
func (s *Service) Queue(ctx context.Context, p identity.Principal, status string, limit int, cursor string) (page.Page[Summary], error) {
	if err := p.Require(identity.PermUseCasesReview); err != nil {
		return page.Page[Summary]{}, err
	}
	q := Query{Statuses: reviewable, Sort: sortQueue}
	switch status {
	case "":
	case StatusSubmitted, StatusUnderReview:
		q.Statuses = []string{status}
	default:
		return page.Page[Summary]{}, errs.Fields(errs.FieldError{Field: "status", Message: "must be submitted or under_review"})
	}
	return s.list(ctx, p, q, limit, cursor)
}

// manages reports whether p may archive, restore and read the history of u: a platform
// moderator, or an administrator of u's organization.
func manages(p identity.Principal, u UseCase, perm identity.Permission) bool {
	return p.Can(identity.PermUseCasesReview) || (u.OrganizationID == p.OrganizationID && p.Can(perm))
}

// Archive takes a published use case out of the library, the map, related lists, the featured
// ones and the figures; its organization and the moderators still see it, and restore it. Its
// organization's administrators (org:update: they speak for the organization) and the
// moderators archive; anyone else who sees it is refused (403). The author is notified (Reviewed
// with the action archive), unless they did it.
func (s *Service) Archive(ctx context.Context, p identity.Principal, id, reason, lang string) (UseCase, error) {
	return s.shelve(ctx, p, id, reason, lang, StatusPublished, StatusArchived, ActionArchive)
}

// Restore publishes an archived use case again, in its place (its first publication date).
func (s *Service) Restore(ctx context.Context, p identity.Principal, id, reason, lang string) (UseCase, error) {
	return s.shelve(ctx, p, id, reason, lang, StatusArchived, StatusPublished, ActionRestore)
}

func (s *Service) shelve(ctx context.Context, p identity.Principal, id, reason, lang, from, to, action string) (UseCase, error) {
	m := msg(lang)
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return UseCase{}, err
	}
	if !manages(p, u, identity.PermOrgUpdate) {
		return UseCase{}, errs.E(errs.Forbidden, "%s", m.pick("only the organization's administrators and the moderators archive or restore a use case",
			"لا يؤرشف حالة الاستخدام أو يستعيدها إلا مسؤولو المنظمة والمشرفون"))
	}
	reason = strings.TrimSpace(reason)
	if why := m.text(reason, MaxReason); why != "" {
		return UseCase{}, errs.Fields(errs.FieldError{Field: "reason", Message: why})
	}
	if u.Status != from {
		return UseCase{}, errs.E(errs.Conflict, "%s", m.pick("only a "+m.status(from)+" use case is "+action+"d; this one is "+m.status(u.Status),
			"لا "+map[string]string{ActionArchive: "تؤرشف إلا حالة استخدام منشورة", ActionRestore: "تُستعاد إلا حالة استخدام مؤرشفة"}[action]+
				"؛ وهذه "+m.status(u.Status)))
	}
	// The author is told, as of a decision (use_case_reviewed, with the outcome and the reason).
	ev := Reviewed{UseCaseID: id, Title: u.Title, AuthorID: u.AuthorID, ReviewerID: p.UserID, Action: action, Status: to, Comments: reason}
	if err := s.store.Transition(ctx, id, Transition{From: []string{from}, To: to, At: s.now().UTC(), Action: action,
		ActorID: p.UserID, Comments: reason, Event: ev}); err != nil {
		return UseCase{}, err
	}
	s.events.Publish(ctx, ev)
	return s.Get(ctx, p, id)
}

// Entry is one change of status of a use case, as its history shows it.
type Entry struct {
	ID            int64          `json:"id"`
	From          *string        `json:"from"` // null: created
	To            string         `json:"to"`
	Action        string         `json:"action"`
	Actor         Person         `json:"actor"`
	Comments      string         `json:"comments"`
	FieldComments []FieldComment `json:"fieldComments"`
	At            time.Time      `json:"at"`
}

// MaxHistory bounds a history: a use case goes round the review a few times, not hundreds.
const MaxHistory = 500

// History lists every change of status of a use case, oldest first: for its author, its
// organization's administrators (audit:read) and the moderators. Other members of its
// organization are refused (403); anyone else gets 404, as for an unknown id.
func (s *Service) History(ctx context.Context, p identity.Principal, id, lang string) ([]Entry, error) {
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	switch {
	case u.AuthorID == p.UserID, manages(p, u, identity.PermAuditRead):
	case u.OrganizationID == p.OrganizationID:
		return nil, errs.E(errs.Forbidden, "%s", msg(lang).pick("only the author, the organization's administrators and the moderators read a use case's history",
			"لا يطّلع على سجل حالة الاستخدام إلا كاتبها ومسؤولو المنظمة والمشرفون"))
	default:
		return nil, notFound
	}
	return s.store.History(ctx, id, MaxHistory)
}
