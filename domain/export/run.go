package export

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/usecase"
)

// Files is where finished exports go (object storage).
type Files interface {
	Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (int64, error)
}

// Images reads a use case's image (card-sized) for embedding in its PDF.
type Images interface {
	Read(ctx context.Context, fileID string) (data []byte, contentType string, err error)
}

// Printer prints an HTML page as a PDF (a headless browser).
type Printer interface {
	PrintPDF(ctx context.Context, html string) ([]byte, error)
}

// Progress is an export's state as it runs, told to its requester.
type Progress struct {
	ID      string `json:"id"`
	Percent int    `json:"percent"`
	Status  string `json:"status"`
}

// Listener hears how exports go: each step in order, then that one is ready.
type Listener interface {
	Progress(ctx context.Context, userID string, p Progress)
	Ready(ctx context.Context, e Export)
}

// RunnerDeps are what the runner needs.
type RunnerDeps struct {
	Store    Store
	UseCases UseCases
	Members  Members
	Files    Files
	Images   Images // nil: PDFs carry no images
	Printer  Printer
	Listener Listener
	Timeout  time.Duration
	Log      *slog.Logger
}

// Runner makes exports: the worker's task calls Run once per export.
type Runner struct {
	d   RunnerDeps
	now func() time.Time
}

// NewRunner returns a runner.
func NewRunner(d RunnerDeps) *Runner {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Timeout <= 0 {
		d.Timeout = 2 * time.Minute
	}
	return &Runner{d: d, now: time.Now}
}

// maxFile bounds one export's file.
const maxFile = 512 << 20

// pageSize is how many rows one page of a list brings.
const pageSize = 100

// Run makes export id. An export already finished is left alone (a task delivered twice); a
// failure is recorded on the export with its reason and not returned, since retrying would
// fail the same way; only a failure to record anything is returned, for the queue to retry.
func (r *Runner) Run(ctx context.Context, id string) error {
	e, err := r.d.Store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	if e.Status == StatusReady || e.Status == StatusFailed {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.d.Timeout)
	defer cancel()
	last := -1
	step := func(percent int) {
		if percent <= last {
			return
		}
		last = percent
		if err := r.d.Store.Progress(ctx, e.ID, percent); err != nil {
			r.d.Log.WarnContext(ctx, "recording export progress", "export", e.ID, "err", err)
		}
		r.d.Listener.Progress(ctx, e.UserID, Progress{ID: e.ID, Percent: percent, Status: StatusRunning})
	}
	step(0)
	file, err := r.make(ctx, &e, step)
	if err == nil {
		e.FileKey = "exports/" + e.UserID + "/" + e.ID + "/" + e.FileName
		e.Size, err = r.d.Files.Put(ctx, e.FileKey, bytes.NewReader(file), e.ContentType, maxFile)
	}
	if err != nil {
		why := ReasonFor(err)
		r.d.Log.WarnContext(ctx, "export failed", "export", e.ID, "kind", e.Kind, "err", err)
		if ferr := r.d.Store.Fail(context.WithoutCancel(ctx), e.ID, why, r.now()); ferr != nil {
			return fmt.Errorf("export %s: recording the failure: %w", e.ID, ferr)
		}
		r.d.Listener.Progress(ctx, e.UserID, Progress{ID: e.ID, Percent: max(last, 0), Status: StatusFailed})
		return nil
	}
	at := r.now().UTC()
	e.Status, e.Percent, e.FinishedAt = StatusReady, 100, &at
	if err := r.d.Store.Finish(ctx, e); err != nil {
		return fmt.Errorf("export %s: %w", e.ID, err)
	}
	r.d.Listener.Progress(ctx, e.UserID, Progress{ID: e.ID, Percent: 100, Status: StatusReady})
	r.d.Listener.Ready(ctx, e)
	return nil
}

// make renders e's file, naming it on e.
func (r *Runner) make(ctx context.Context, e *Export, step func(int)) ([]byte, error) {
	p := e.Principal()
	stamp := e.CreatedAt.UTC().Format("20060102-150405")
	switch e.Kind {
	case KindUseCasePDF:
		u, err := r.d.UseCases.Get(ctx, p, e.Params.UseCaseID)
		if err != nil {
			return nil, err
		}
		step(20)
		html, err := DetailPage(u, r.embedded(ctx, u)...)
		if err != nil {
			return nil, err
		}
		step(40)
		pdf, err := r.d.Printer.PrintPDF(ctx, html)
		if err != nil {
			return nil, err
		}
		step(90)
		e.Rows, e.FileName, e.ContentType = 1, "use-case-"+e.Params.UseCaseID[:8]+".pdf", "application/pdf"
		return pdf, nil
	case KindUseCasesXLSX, KindUseCasesCSV:
		f := Filters{}
		if e.Params.Filters != nil {
			f = *e.Params.Filters
		}
		w := newSheet(e.Kind == KindUseCasesCSV, "Use cases", useCaseHeader)
		n, err := r.useCases(ctx, p, f.Query(), w, step)
		if err != nil {
			return nil, err
		}
		e.Rows = n
		e.FileName, e.ContentType = "use-cases-"+stamp+w.ext(), w.contentType()
		return w.bytes()
	case KindMembersXLSX:
		w := newSheet(false, "Members", memberHeader)
		n, err := r.members(ctx, p, w, step)
		if err != nil {
			return nil, err
		}
		e.Rows = n
		e.FileName, e.ContentType = "members-"+stamp+w.ext(), w.contentType()
		return w.bytes()
	}
	return nil, fmt.Errorf("unknown export kind %q", e.Kind)
}

// useCases pages through the library as p sees it, writing each row; the first page's total
// drives the percent.
func (r *Runner) useCases(ctx context.Context, p identity.Principal, q usecase.Query, w *sheet, step func(int)) (int, error) {
	cursor, n, total := "", 0, 0
	for {
		pg, err := r.d.UseCases.Library(ctx, p, q, pageSize, cursor)
		if err != nil {
			return n, err
		}
		if pg.Total != nil {
			total = *pg.Total
		}
		for _, s := range pg.Items {
			if err := w.row(useCaseRow(s)); err != nil {
				return n, err
			}
			n++
		}
		if total > 0 {
			step(min(5+n*85/total, 90))
		}
		if pg.NextCursor == nil || len(pg.Items) == 0 {
			return n, nil
		}
		cursor = *pg.NextCursor
	}
}

// members pages through p's organization.
func (r *Runner) members(ctx context.Context, p identity.Principal, w *sheet, step func(int)) (int, error) {
	cursor, n := "", 0
	for {
		list, err := r.d.Members.Members(ctx, p, identity.MemberQuery{Sort: identity.SortName}, pageSize, cursor)
		if err != nil {
			return n, err
		}
		for _, u := range list.Items {
			if err := w.row(memberRow(u)); err != nil {
				return n, err
			}
			n++
		}
		if list.Totals.All > 0 {
			step(min(5+n*85/list.Totals.All, 90))
		}
		if list.NextCursor == nil || len(list.Items) == 0 {
			return n, nil
		}
		cursor = *list.NextCursor
	}
}

// maxEmbedded is how many of a use case's images its PDF shows (the detail page's hero and the
// first of the gallery).
const maxEmbedded = 3

// embedded are the use case's first images as data URLs, so the page prints without the browser
// reaching the storage. An image that cannot be read is left out of the PDF, not the PDF.
func (r *Runner) embedded(ctx context.Context, u usecase.UseCase) []string {
	if r.d.Images == nil {
		return nil
	}
	var out []string
	for _, img := range u.Gallery {
		if len(out) == maxEmbedded {
			break
		}
		b, ct, err := r.d.Images.Read(ctx, img.ID)
		if err != nil {
			r.d.Log.WarnContext(ctx, "leaving an image out of a PDF", "useCase", u.ID, "file", img.ID, "err", err)
			continue
		}
		out = append(out, "data:"+ct+";base64,"+base64.StdEncoding.EncodeToString(b))
	}
	return out
}
