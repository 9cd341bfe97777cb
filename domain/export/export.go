// Package export makes files for users in the background: a use case as a PDF that looks like
// its detail page, the library's list (with its filters) as Excel or CSV, and an organization's
// members as Excel for its admins. A request is checked and recorded at once (queued); a worker
// runs it (running, with a percent), stores the file and marks it ready, or failed with a reason
// in English and Arabic. Only the requester sees an export: anyone else gets 404.
package export

import (
	"context"
	"errors"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/domain/usecase"
)

// Kinds of export.
const (
	KindUseCasePDF   = "use-case-pdf"
	KindUseCasesXLSX = "use-cases-xlsx"
	KindUseCasesCSV  = "use-cases-csv"
	KindMembersXLSX  = "members-xlsx"
)

// Statuses of an export.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusReady   = "ready"
	StatusFailed  = "failed"
)

// Filters are the library's query (GET /use-cases) as an export's body carries them.
type Filters struct {
	Q              string   `json:"q"`
	Category       string   `json:"category"`
	Industry       string   `json:"industry"`
	OrganizationID string   `json:"organizationId"`
	Tech           string   `json:"tech"`
	City           string   `json:"city"`
	Sort           string   `json:"sort"`
	Saved          bool     `json:"saved"`
	Verified       bool     `json:"verified"`
	Featured       bool     `json:"featured"`
	RoiMin         *float64 `json:"roiMin"`
	RoiMax         *float64 `json:"roiMax"`
}

// Query is f as the use cases service reads it.
func (f Filters) Query() usecase.Query {
	return usecase.Query{Text: f.Q, Category: f.Category, Industry: f.Industry, OrganizationID: f.OrganizationID,
		Technology: f.Tech, City: f.City, Sort: f.Sort, Saved: f.Saved, Verified: f.Verified, Featured: f.Featured,
		RoiMin: f.RoiMin, RoiMax: f.RoiMax}
}

// Request is what a user asks for.
type Request struct {
	Kind      string   `json:"kind"`
	UseCaseID string   `json:"useCaseId,omitempty"`
	Filters   *Filters `json:"filters,omitempty"`
}

// Reason says why an export failed, in both languages.
type Reason struct {
	EN string `json:"en"`
	AR string `json:"ar"`
}

// Export is one export and its state.
type Export struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	Percent     int        `json:"percent"`
	Rows        int        `json:"rows"`
	FileName    string     `json:"fileName,omitempty"`
	ContentType string     `json:"contentType,omitempty"`
	Size        int64      `json:"size,omitempty"`
	Error       *Reason    `json:"error,omitempty"`
	DownloadURL string     `json:"downloadUrl,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	FinishedAt  *time.Time `json:"finishedAt"`

	UserID         string `json:"-"`
	OrganizationID string `json:"-"`
	Params         Params `json:"-"`
	FileKey        string `json:"-"`
}

// Params are what the job needs to run as the requester did: the request and who asked.
type Params struct {
	Request
	Roles []string `json:"roles"`
}

// Principal is the requester as the job acts for them.
func (e Export) Principal() identity.Principal {
	return identity.Principal{UserID: e.UserID, OrganizationID: e.OrganizationID, Roles: e.Params.Roles, EmailVerified: true}
}

// Store keeps exports.
type Store interface {
	Create(ctx context.Context, e Export) error
	// Get returns an export, errs.NotFound when there is none.
	Get(ctx context.Context, id string) (Export, error)
	// Progress marks an export running at percent.
	Progress(ctx context.Context, id string, percent int) error
	// Finish marks an export ready with its file.
	Finish(ctx context.Context, e Export) error
	// Fail marks an export failed with why.
	Fail(ctx context.Context, id string, why Reason, at time.Time) error
}

// UseCases is what exports read of use cases, as the requester may see them.
type UseCases interface {
	Get(ctx context.Context, p identity.Principal, id string) (usecase.UseCase, error)
	Library(ctx context.Context, p identity.Principal, q usecase.Query, limit int, cursor string) (page.Page[usecase.Summary], error)
	CountDownload(ctx context.Context, id string) error
}

// Members lists an organization's members for its admins.
type Members interface {
	Members(ctx context.Context, p identity.Principal, q identity.MemberQuery, limit int, cursor string) (identity.MemberList, error)
}

// Queue runs an export in the background.
type Queue interface {
	Enqueue(ctx context.Context, id string) error
}

// Service checks, records and enqueues exports; Runner (run.go) makes them.
type Service struct {
	store    Store
	useCases UseCases
	queue    Queue
	now      func() time.Time
}

// NewService returns the service.
func NewService(store Store, useCases UseCases, queue Queue) *Service {
	return &Service{store: store, useCases: useCases, queue: queue, now: time.Now}
}

// maxFilterText bounds the free-text filters.
const maxFilterText = 200

// Create checks that p may have what r asks for, records it queued and enqueues it. A use case
// p may not read, or a draft of someone else, is errs.NotFound, as an unknown one.
func (s *Service) Create(ctx context.Context, p identity.Principal, r Request) (Export, error) {
	switch r.Kind {
	case KindUseCasePDF:
		if !ids.Valid(r.UseCaseID) {
			return Export{}, errs.Fields(errs.FieldError{Field: "useCaseId", Message: "must be a use case's id"})
		}
		u, err := s.useCases.Get(ctx, p, r.UseCaseID)
		if err != nil {
			return Export{}, err
		}
		if u.Status != usecase.StatusPublished && u.AuthorID != p.UserID {
			return Export{}, errs.E(errs.NotFound, "use case not found")
		}
		r.Filters = nil
	case KindUseCasesXLSX, KindUseCasesCSV:
		if r.Filters == nil {
			r.Filters = &Filters{}
		}
		f := r.Filters
		for name, v := range map[string]string{"q": f.Q, "category": f.Category, "industry": f.Industry, "tech": f.Tech, "city": f.City, "sort": f.Sort} {
			if len([]rune(v)) > maxFilterText {
				return Export{}, errs.Fields(errs.FieldError{Field: "filters." + name, Message: "is too long"})
			}
		}
		if f.OrganizationID != "" && !ids.Valid(f.OrganizationID) {
			return Export{}, errs.Fields(errs.FieldError{Field: "filters.organizationId", Message: "must be an organization's id"})
		}
		// The library checks the rest (sort, ROI range) as for its list: one page now answers
		// the mistake here rather than in a failed job.
		if _, err := s.useCases.Library(ctx, p, f.Query(), 1, ""); err != nil {
			return Export{}, err
		}
		r.UseCaseID = ""
	case KindMembersXLSX:
		if err := p.Require(identity.PermMembersManage); err != nil {
			return Export{}, err
		}
		r.UseCaseID, r.Filters = "", nil
	default:
		return Export{}, errs.Fields(errs.FieldError{Field: "kind", Message: "must be one of use-case-pdf, use-cases-xlsx, use-cases-csv, members-xlsx"})
	}
	e := Export{ID: ids.New(), Kind: r.Kind, Status: StatusQueued, CreatedAt: s.now().UTC(),
		UserID: p.UserID, OrganizationID: p.OrganizationID, Params: Params{Request: r, Roles: p.Roles}}
	if err := s.store.Create(ctx, e); err != nil {
		return Export{}, err
	}
	if err := s.queue.Enqueue(ctx, e.ID); err != nil {
		// The row stays queued; saying so beats a 500 for something that is recorded.
		_ = s.store.Fail(context.WithoutCancel(ctx), e.ID, reasonQueue, s.now())
		return Export{}, err
	}
	return e, nil
}

// Get returns p's export; anyone else's is errs.NotFound.
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (Export, error) {
	if !ids.Valid(id) {
		return Export{}, errs.E(errs.NotFound, "export not found")
	}
	e, err := s.store.Get(ctx, id)
	if err != nil {
		return Export{}, err
	}
	if e.UserID != p.UserID {
		return Export{}, errs.E(errs.NotFound, "export not found")
	}
	return e, nil
}

// Downloaded counts a download of a ready export: a use case's PDF counts in its downloads.
func (s *Service) Downloaded(ctx context.Context, e Export) error {
	if e.Kind != KindUseCasePDF || e.Params.UseCaseID == "" {
		return nil
	}
	return s.useCases.CountDownload(ctx, e.Params.UseCaseID)
}

// Reasons an export fails, shown to the user.
var (
	reasonQueue    = Reason{EN: "The export could not be started. Please try again.", AR: "تعذّر بدء التصدير. يُرجى المحاولة مرة أخرى."}
	reasonInternal = Reason{EN: "The export failed. Please try again later.", AR: "فشل التصدير. يُرجى المحاولة لاحقًا."}
	reasonGone     = Reason{EN: "What you exported is no longer available to you.", AR: "لم يعد ما طلبت تصديره متاحًا لك."}
	reasonTimeout  = Reason{EN: "The export took too long and was stopped.", AR: "استغرق التصدير وقتًا طويلًا فتم إيقافه."}
)

// ReasonFor is what a user is told of err.
func ReasonFor(err error) Reason {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return reasonTimeout
	case errs.CodeOf(err) == errs.NotFound, errs.CodeOf(err) == errs.Forbidden:
		return reasonGone
	}
	return reasonInternal
}
