package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
)

// Uploads holds what direct uploads need beyond the avatar service.
type Uploads struct {
	Store   UploadStore
	Storage StatStorage
	Signer  Signer
	Events  Events // may be nil: nobody is told
	Limits  Limits
	Tools   Tools
}

// EnableUploads turns on direct uploads (POST /uploads) on s.
func (s *Service) EnableUploads(u Uploads) {
	if u.Limits == (Limits{}) {
		u.Limits = DefaultLimits
	}
	s.up = &u
}

// UploadRequest is the body of POST /uploads.
type UploadRequest struct {
	Kind        Kind   `json:"kind"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Name        string `json:"name"`
}

// MaxNameLen is the longest file name kept (in characters).
const MaxNameLen = 255

func (s *Service) uploads() (*Uploads, error) {
	if s.up == nil {
		return nil, errs.E(errs.Unavailable, "uploads are not enabled on this server")
	}
	return s.up, nil
}

// CreateUpload records an upload awaiting its bytes and presigns the PUT that sends them.
func (s *Service) CreateUpload(ctx context.Context, p identity.Principal, req UploadRequest) (File, Presigned, error) {
	u, err := s.uploads()
	if err != nil {
		return File{}, Presigned{}, err
	}
	var fields []errs.FieldError
	bad := func(field, msg string) { fields = append(fields, errs.FieldError{Field: field, Message: msg}) }
	if !IsUpload(req.Kind) {
		bad("kind", "must be image, video or document")
	} else {
		if !allowed(req.Kind, req.ContentType) {
			bad("contentType", fmt.Sprintf("a %s must be one of %s", req.Kind, strings.Join(allowedTypes[req.Kind], ", ")))
		}
		if limit := u.Limits.maxBytes(req.Kind); req.Size > limit {
			return File{}, Presigned{}, errs.E(errs.TooLarge, "a %s may be at most %d MB", req.Kind, limit>>20)
		}
	}
	if req.Size <= 0 {
		bad("size", "must be the file's size in bytes, more than 0")
	}
	name, msg := cleanName(req.Name)
	if msg != "" {
		bad("name", msg)
	}
	if len(fields) > 0 {
		return File{}, Presigned{}, errs.Fields(fields...)
	}
	now := s.now().UTC()
	f := File{
		ID: ids.New(), OrganizationID: p.OrganizationID, OwnerUserID: p.UserID,
		Kind: req.Kind, Status: Uploading, ContentType: req.ContentType, Size: req.Size,
		Name: name, CreatedAt: now, UpdatedAt: now,
	}
	f.Key = uploadKey(f)
	if err := u.Store.Create(ctx, f); err != nil {
		return File{}, Presigned{}, err
	}
	put, err := u.Signer.PresignPut(ctx, f.Key, f.ContentType, f.Size, u.Limits.URLTTL)
	if err != nil {
		return File{}, Presigned{}, fmt.Errorf("media: presigning the upload: %w", err)
	}
	return f, put, nil
}

// cleanName checks a file name: valid UTF-8, no control characters, not empty, at most
// MaxNameLen characters; path separators are replaced (only the last segment is a name).
func cleanName(name string) (string, string) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", "is required"
	case !utf8.ValidString(name):
		return "", "must be valid UTF-8"
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "", fmt.Sprintf("must be at most %d characters", MaxNameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", "must not contain control characters"
	case strings.ContainsFunc(name, isBidiOverride):
		// "invoice\u202Efdp.exe" shows as "invoiceexe.pdf": a classic disguise of a download.
		return "", "must not contain text-direction override characters (U+202A–U+202E, U+2066–U+2069)"
	}
	name = strings.NewReplacer("/", "_", "\\", "_").Replace(name)
	return name, ""
}

// isBidiOverride reports the embedding, override and isolate controls. The marks (LRM, RLM,
// ALM) that Arabic text legitimately carries are not among them.
func isBidiOverride(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// extensions are the file extensions of the originals that are kept (videos and documents).
var extensions = map[string]string{
	"application/pdf": ".pdf", "video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov",
}

// maxDownloadName is the longest download name in bytes (what storage backends accept).
const maxDownloadName = 255

// downloadName is the name a download of an original gets: the uploaded name, with the extension
// of its verified content appended when the name does not end with it (a PDF uploaded as
// "report.exe" downloads as "report.exe.pdf"), shortened at a character boundary to
// maxDownloadName bytes with the extension kept (a long Arabic name is up to twice as many bytes
// as characters).
func downloadName(name, contentType string) string {
	ext := extensions[contentType]
	if ext != "" && strings.HasSuffix(strings.ToLower(name), ext) {
		name = name[:len(name)-len(ext)]
	}
	for len(name)+len(ext) > maxDownloadName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "file"
	}
	return name + ext
}

func uploadKey(f File) string { return "uploads/" + f.OrganizationID + "/" + f.ID }

func variantKey(f File, v Variant) string {
	ext := v.Format
	if ext == "jpeg" {
		ext = "jpg"
	}
	return "files/" + f.OrganizationID + "/" + f.ID + "/" + v.Name + "." + ext
}

// ownUpload returns the principal's own direct upload; anything else answers like a missing one.
func (s *Service) ownUpload(ctx context.Context, u *Uploads, p identity.Principal, id string) (File, error) {
	notFound := errs.E(errs.NotFound, "no file with this id")
	if !ids.Valid(id) {
		return File{}, notFound
	}
	f, err := u.Store.Get(ctx, id)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && (!IsUpload(f.Kind) || f.OwnerUserID != p.UserID)) {
		return File{}, notFound
	}
	return f, err
}

// Complete verifies what a presigned PUT stored (its size is the declared one, its first bytes
// are of the declared kind) and queues its processing. A file that arrived wrong is failed, its
// bytes deleted, and the answer says why; nothing arrived yet is a Conflict that may be retried.
// Completing a file that is already past this step answers it as it is.
func (s *Service) Complete(ctx context.Context, p identity.Principal, id string) (File, error) {
	u, err := s.uploads()
	if err != nil {
		return File{}, err
	}
	f, err := s.ownUpload(ctx, u, p, id)
	if err != nil {
		return File{}, err
	}
	if f.Status == Pending {
		// A complete whose enqueue failed (or whose task was lost with Redis) is cured by
		// completing again; the queue keeps one task per file, so this never processes twice.
		if err := s.queue.EnqueueImage(ctx, f.ID); err != nil {
			return File{}, &errs.Error{Code: errs.Unavailable, Err: err,
				Message: "the file could not be queued for processing; complete it again in a moment"}
		}
	}
	if f.Status != Uploading {
		return s.viewUpload(ctx, u, f), nil
	}
	size, err := u.Storage.StatSize(ctx, f.Key)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, errs.E(errs.Conflict, "nothing was uploaded for this file yet: send the PUT first")
	}
	if err != nil {
		return File{}, fmt.Errorf("media: checking the upload: %w", err)
	}
	var head []byte
	if size == f.Size {
		rc, err := u.Storage.Open(ctx, f.Key)
		if err != nil {
			return File{}, fmt.Errorf("media: reading the upload: %w", err)
		}
		head, err = io.ReadAll(io.LimitReader(rc, SniffLen))
		rc.Close()
		if err != nil {
			return File{}, fmt.Errorf("media: reading the upload: %w", err)
		}
	}
	var refusal *errs.Error
	var reason Reason
	switch sniffed, what := SniffUpload(head); {
	case size != f.Size:
		reason = Reason{
			EN: fmt.Sprintf("the uploaded file is %d bytes but %d were declared", size, f.Size),
			AR: fmt.Sprintf("حجم الملف المرفوع %d بايت بينما المُعلن %d", size, f.Size)}
		refusal = errs.E(errs.Validation, "%s", reason.EN)
	case what != "":
		reason = Reason{
			EN: fmt.Sprintf("the file is %s, not a %s (its content was checked, not its name)", what, f.Kind),
			AR: fmt.Sprintf("محتوى الملف غير مقبول كنوع %s (فُحص محتواه لا اسمه)", kindAR(f.Kind))}
		refusal = errs.E(errs.Unsupported, "%s", reason.EN)
	case !allowed(f.Kind, sniffed):
		reason = Reason{
			EN: fmt.Sprintf("the file's content is %s, which is not accepted as a %s", sniffed, f.Kind),
			AR: fmt.Sprintf("محتوى الملف من نوع %s وهو غير مقبول كنوع %s", sniffed, kindAR(f.Kind))}
		refusal = errs.E(errs.Unsupported, "%s", reason.EN)
	default:
		f.ContentType = sniffed
	}
	if refusal != nil {
		cleanup := context.WithoutCancel(ctx)
		if _, err := u.Store.FailUpload(cleanup, f.ID, reason); err != nil {
			return File{}, err
		}
		return File{}, errors.Join(refusal, u.Storage.Delete(cleanup, f.Key))
	}
	ok, err := u.Store.MarkPending(ctx, f.ID)
	if err != nil {
		return File{}, err
	}
	if ok {
		if err := s.queue.EnqueueImage(ctx, f.ID); err != nil {
			return File{}, &errs.Error{Code: errs.Unavailable, Err: err,
				Message: "the file could not be queued for processing; complete it again in a moment"}
		}
	}
	f, err = u.Store.Get(ctx, f.ID)
	if err != nil {
		return File{}, err
	}
	return s.viewUpload(ctx, u, f), nil
}

func kindAR(k Kind) string {
	switch k {
	case KindImage:
		return "صورة"
	case KindVideo:
		return "فيديو"
	}
	return "مستند"
}

// viewUpload signs a GET URL for each variant of a ready file (its owner is looking at it).
func (s *Service) viewUpload(ctx context.Context, u *Uploads, f File) File {
	vs := make([]Variant, 0, len(f.Variants))
	for _, v := range f.Variants {
		if f.Status == Ready {
			filename := ""
			if v.Name == "original" {
				filename = downloadName(f.Name, f.ContentType)
			}
			if g, err := u.Signer.PresignGet(ctx, v.Key, u.Limits.URLTTL, filename); err == nil {
				v.URL = g.URL
				exp := g.ExpiresAt
				v.ExpiresAt = &exp
			}
		}
		v.Key = ""
		vs = append(vs, v)
	}
	f.Variants = vs
	return f
}

// Claim attaches a ready direct upload of the principal to some content (targetType names the
// area's kind of content, targetID its id): from then on it is not swept. Other people's files
// and missing ones are NotFound; a file not ready yet or attached to other content is Conflict.
// Areas call it in the request that creates or edits their content.
func (s *Service) Claim(ctx context.Context, p identity.Principal, fileID, targetType, targetID string) (File, error) {
	u, err := s.uploads()
	if err != nil {
		return File{}, err
	}
	if !ids.Valid(fileID) {
		return File{}, errs.E(errs.NotFound, "no file with this id")
	}
	if targetType == "" || !ids.Valid(targetID) {
		return File{}, fmt.Errorf("media: claim needs a target type and a valid target id")
	}
	f, err := u.Store.Attach(ctx, fileID, p.UserID, targetType, targetID)
	if err != nil {
		return File{}, err
	}
	return s.viewUpload(ctx, u, f), nil
}

// Sweep deletes direct uploads that were attached to nothing for Limits.UnattachedTTL, and the
// files of deleted content once Limits.Retention has passed (Forget), rows and bytes, in
// batches; it returns how many it removed.
func (s *Service) Sweep(ctx context.Context, now time.Time) (int64, error) {
	u, err := s.uploads()
	if err != nil {
		return 0, nil
	}
	unattached, err := s.sweep(ctx, func(limit int) ([]File, error) {
		return u.Store.SweepUnattached(ctx, now.Add(-u.Limits.UnattachedTTL), limit)
	})
	if err != nil {
		return unattached, err
	}
	gone, err := s.sweep(ctx, func(limit int) ([]File, error) {
		return u.Store.SweepGone(ctx, now.Add(-u.Limits.Retention), limit)
	})
	return unattached + gone, err
}

// sweep deletes the bytes of the files next removes, a batch at a time, until a batch is short.
func (s *Service) sweep(ctx context.Context, next func(limit int) ([]File, error)) (int64, error) {
	const batch = 200
	var n int64
	for {
		files, err := next(batch)
		if err != nil {
			return n, err
		}
		for _, f := range files {
			if err := s.deleteAll(ctx, uploadKeys(f)...); err != nil {
				return n, err
			}
		}
		n += int64(len(files))
		if len(files) < batch {
			return n, nil
		}
	}
}

// Forget marks the files attached to content that was deleted: the sweep deletes them once
// Limits.Retention has passed. Readers of the content no longer reach them anyway.
func (s *Service) Forget(ctx context.Context, targetType, targetID string, at time.Time) error {
	u, err := s.uploads()
	if err != nil {
		return err
	}
	return u.Store.Forget(ctx, targetType, targetID, at)
}

// uploadKeys are every key a direct upload may have written.
func uploadKeys(f File) []string {
	keys := []string{uploadKey(f)}
	for _, v := range f.Variants {
		keys = append(keys, v.Key)
	}
	for _, sz := range append(Sizes, Size{Name: "poster"}, Size{Name: "preview"}, Size{Name: "page1-card"}, Size{Name: "page1-thumbnail"}) {
		for _, format := range []string{"webp", "jpeg"} {
			keys = append(keys, variantKey(f, Variant{Name: sz.Name, Format: format}))
		}
	}
	if f.Kind == KindVideo {
		for _, format := range []string{"mp4", "quicktime", "webm"} {
			keys = append(keys, variantKey(f, Variant{Name: "original", Format: format}))
		}
	}
	return keys
}

// processUpload turns a pending direct upload into its variants (see RenderSizes, Tools). A
// refused file ends failed with its reason; a panic while reading a hostile file is recovered and
// fails that file, never the worker.
func (s *Service) processUpload(ctx context.Context, u *Uploads, f File) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.failUpload(ctx, u, f, Reason{
				EN: "the file could not be processed; it may be corrupt",
				AR: "تعذّرت معالجة الملف؛ قد يكون تالفاً"})
		}
	}()
	variants, meta, stripped, err := s.render(ctx, u, f)
	if stripped != "" {
		defer os.Remove(stripped)
	}
	var r *refusal
	if errors.As(err, &r) {
		return s.failUpload(ctx, u, f, r.Reason)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return s.failUpload(ctx, u, f, Reason{
			EN: "the uploaded file was lost before it could be processed; upload it again",
			AR: "فُقد الملف المرفوع قبل معالجته؛ ارفعه مرة أخرى"})
	}
	if err != nil {
		return err
	}
	var stored []Variant
	var total int64
	for _, e := range variants {
		v := e.Variant
		v.Key = variantKey(f, v)
		n, err := u.Storage.Put(ctx, v.Key, bytes.NewReader(e.Data), v.ContentType, 0)
		if err != nil {
			return fmt.Errorf("media: storing variant %s: %w", v.Name, err)
		}
		v.Size = n
		total += n
		stored = append(stored, v)
	}
	format := strings.TrimPrefix(strings.TrimPrefix(f.ContentType, "video/"), "application/")
	switch f.Kind {
	case KindImage:
		// The original keeps the camera's metadata (GPS among it): only re-encoded pixels are kept.
		if err := u.Storage.Delete(ctx, f.Key); err != nil {
			return err
		}
	case KindVideo:
		// The original is replaced by its copy without metadata (StripVideo).
		v := Variant{Name: "original", Format: format, ContentType: f.ContentType, Width: meta.Width, Height: meta.Height}
		v.Key = variantKey(f, v)
		n, err := putFile(ctx, u.Storage, v.Key, stripped, v.ContentType)
		if err != nil {
			return err
		}
		v.Size = n
		total += n
		stored = append(stored, v)
		if err := u.Storage.Delete(ctx, f.Key); err != nil {
			return err
		}
	default:
		stored = append(stored, Variant{Name: "original", Format: format, ContentType: f.ContentType,
			Width: meta.Width, Height: meta.Height, Size: f.Size, Key: f.Key})
		total += f.Size
	}
	if err := u.Store.FinishUpload(ctx, f.ID, stored, meta, total); errors.Is(err, ErrNotPending) {
		return s.deleteAll(ctx, uploadKeys(f)...) // swept or failed meanwhile
	} else if err != nil {
		return err
	}
	s.announce(ctx, u, f.ID)
	return nil
}

// putFile stores the file at path under key.
func putFile(ctx context.Context, st Storage, key, path, contentType string) (int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("media: opening %s: %w", path, err)
	}
	defer file.Close()
	n, err := st.Put(ctx, key, file, contentType, 0)
	if err != nil {
		return 0, fmt.Errorf("media: storing %s: %w", key, err)
	}
	return n, nil
}

// render reads the original and renders its variants by kind. For a video it also returns the
// path of a temporary copy without metadata (StripVideo), which the caller stores and removes.
func (s *Service) render(ctx context.Context, u *Uploads, f File) ([]Encoded, Meta, string, error) {
	vs, meta, stripped, err := s.renderKind(ctx, u, f)
	if err != nil && stripped != "" {
		os.Remove(stripped)
		stripped = ""
	}
	return vs, meta, stripped, err
}

func (s *Service) renderKind(ctx context.Context, u *Uploads, f File) ([]Encoded, Meta, string, error) {
	rc, err := u.Storage.Open(ctx, f.Key)
	if err != nil {
		return nil, Meta{}, "", err
	}
	defer rc.Close()
	limit := u.Limits.maxBytes(f.Kind)
	if f.Kind == KindImage {
		b, err := io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			return nil, Meta{}, "", fmt.Errorf("media: reading the original: %w", err)
		}
		if int64(len(b)) > limit {
			return nil, Meta{}, "", refuse(fmt.Sprintf("the image is larger than %d MB", limit>>20),
				fmt.Sprintf("الصورة أكبر من %d ميغابايت", limit>>20))
		}
		vs, meta, err := RenderSizes(b, u.Limits.ImagePixels)
		return vs, meta, "", err
	}
	// The programs read a temporary copy: they never see the storage, and the copy's name is ours.
	tmp, err := os.CreateTemp("", "p2p-media-*")
	if err != nil {
		return nil, Meta{}, "", fmt.Errorf("media: temp file: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(rc, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, Meta{}, "", fmt.Errorf("media: copying the original: %w", err)
	}
	if n > limit {
		return nil, Meta{}, "", refuse(fmt.Sprintf("the file is larger than %d MB", limit>>20),
			fmt.Sprintf("الملف أكبر من %d ميغابايت", limit>>20))
	}
	if f.Kind == KindVideo {
		vs, meta, err := u.Tools.RenderVideo(ctx, tmp.Name())
		if err != nil {
			return nil, Meta{}, "", err
		}
		stripped := tmp.Name() + ".stripped"
		if err := u.Tools.StripVideo(ctx, tmp.Name(), stripped, f.ContentType); err != nil {
			return nil, Meta{}, stripped, err
		}
		return vs, meta, stripped, nil
	}
	vs, meta, err := u.Tools.RenderPDF(ctx, tmp.Name())
	return vs, meta, "", err
}

// failUpload marks f failed, deletes what was stored and tells the uploader.
func (s *Service) failUpload(ctx context.Context, u *Uploads, f File, reason Reason) error {
	ctx = context.WithoutCancel(ctx)
	if _, err := u.Store.FailUpload(ctx, f.ID, reason); err != nil {
		return err
	}
	if err := s.deleteAll(ctx, uploadKeys(f)...); err != nil {
		return err
	}
	s.announce(ctx, u, f.ID)
	return nil
}

// announce tells the uploader the file's new state; a lost event only delays what GET shows.
func (s *Service) announce(ctx context.Context, u *Uploads, id string) {
	if u.Events == nil {
		return
	}
	f, err := u.Store.Get(ctx, id)
	if err != nil {
		return
	}
	_ = u.Events.FileProcessed(ctx, s.viewUpload(ctx, u, f))
}
