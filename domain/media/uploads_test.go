package media_test

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/domain/media/mediatest"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// Direct uploads run here on PostgreSQL and the disk backend with presigned URLs: the PUT and the
// GETs go through the disk's own handler, as a browser's would through the hub's /blobs/.

// statDisk is the disk with StatSize (media.StatStorage).
type statDisk struct{ *blob.Disk }

func (d statDisk) StatSize(ctx context.Context, key string) (int64, error) {
	info, err := d.Stat(ctx, key)
	return info.Size, err
}

// diskSigner adapts the disk's presigner to media.Signer.
type diskSigner struct{ d *blob.Disk }

func (s diskSigner) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (media.Presigned, error) {
	p, err := s.d.PresignPut(ctx, key, contentType, size, ttl)
	return media.Presigned(p), err
}

func (s diskSigner) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (media.Presigned, error) {
	p, err := s.d.PresignGet(ctx, key, ttl, filename)
	return media.Presigned(p), err
}

// heard records the files announced to their uploaders.
type heard struct {
	mu    sync.Mutex
	files []media.File
}

func (h *heard) FileProcessed(_ context.Context, f media.File) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files = append(h.files, f)
	return nil
}

func (h *heard) all() []media.File {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]media.File(nil), h.files...)
}

type uploadEnv struct {
	*env
	disk  *blob.Disk
	heard *heard
	org   identitytest.Org
}

func newUploadEnv(t *testing.T) *uploadEnv {
	t.Helper()
	pool, _ := pgtest.New(t)
	dir := t.TempDir()
	disk, err := blob.NewDisk(dir, blob.WithURLSigning("https://api.example.test/blobs/", bytes.Repeat([]byte("k"), 32)))
	require.NoError(t, err)
	t.Cleanup(func() { disk.Close() })
	e := &env{pool: pool, dir: dir, queue: &queue{},
		pub: &publisher{Service: identity.NewService(identity.Deps{Store: identitydb.New(pool)})}}
	store := mediadb.New(pool)
	e.svc = media.NewService(store, disk, e.queue, e.pub, media.Config{BaseURL: baseURL})
	u := &uploadEnv{env: e, disk: disk, heard: &heard{}, org: identitytest.NewOrg(t, pool)}
	e.svc.EnableUploads(media.Uploads{Store: store, Storage: statDisk{disk}, Signer: diskSigner{disk},
		Events: u.heard, Limits: media.DefaultLimits, Tools: media.Tools{Timeout: 30 * time.Second}})
	return u
}

// do makes a presigned request through the disk's handler.
func (u *uploadEnv) do(t *testing.T, p media.Presigned, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(p.Method, p.URL, bytes.NewReader(body))
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	u.disk.Handler().ServeHTTP(rec, req)
	return rec
}

// get fetches a signed URL through the disk's handler.
func (u *uploadEnv) get(t *testing.T, signed string) *httptest.ResponseRecorder {
	t.Helper()
	return u.do(t, media.Presigned{Method: http.MethodGet, URL: signed}, nil)
}

// start creates an upload of data and sends it by its presigned PUT.
func (u *uploadEnv) start(t *testing.T, p identity.Principal, kind media.Kind, contentType, name string, data []byte) media.File {
	t.Helper()
	f, put, err := u.svc.CreateUpload(context.Background(), p,
		media.UploadRequest{Kind: kind, ContentType: contentType, Size: int64(len(data)), Name: name})
	require.NoError(t, err)
	assert.Equal(t, media.Uploading, f.Status)
	assert.Equal(t, http.MethodPut, put.Method)
	rec := u.do(t, put, data)
	require.Less(t, rec.Code, 300, rec.Body.String())
	return f
}

func TestDirectUploadLifecycle(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	p := u.org.Owner
	f := u.start(t, p, media.KindImage, "image/jpeg", "photo.jpg", mediatest.ExifJPEG(t, 1200, 800, 1))

	got, err := u.svc.Complete(ctx, p, f.ID)
	require.NoError(t, err)
	assert.Equal(t, media.Pending, got.Status)
	// Completing again (say the first answer was lost) queues it again: the queue keeps one task
	// per file (mediaapp.ImageQueue), so a lost task is recovered and nothing runs twice.
	got, err = u.svc.Complete(ctx, p, f.ID)
	require.NoError(t, err)
	assert.Equal(t, media.Pending, got.Status)
	assert.Equal(t, []string{f.ID, f.ID}, u.queue.ids)

	require.NoError(t, u.svc.Process(ctx, f.ID))
	ready, err := u.svc.File(ctx, p, f.ID)
	require.NoError(t, err)
	require.Equal(t, media.Ready, ready.Status)
	assert.Equal(t, &media.Meta{Width: 1200, Height: 800}, ready.Meta)
	require.Len(t, ready.Variants, 6)
	var total int64
	for _, v := range ready.Variants {
		assert.Empty(t, v.Key, "storage keys are not shown")
		require.NotEmpty(t, v.URL, v.Name)
		rec := u.get(t, v.URL)
		require.Equal(t, http.StatusOK, rec.Code, v.Name+"."+v.Format)
		assert.Equal(t, v.ContentType, rec.Header().Get("Content-Type"))
		assert.Equal(t, v.Size, int64(rec.Body.Len()))
		assert.NotContains(t, rec.Body.String(), mediatest.GPSMarker)
		total += v.Size
	}
	for _, key := range u.stored(t) {
		assert.False(t, strings.HasPrefix(key, "uploads/"), "the original (with its EXIF) is deleted: %s", key)
	}
	used, err := u.svc.StorageUsed(ctx, p.OrganizationID)
	require.NoError(t, err)
	assert.Equal(t, total, used)

	// The uploader heard it, with the signed URLs GET /files shows.
	events := u.heard.all()
	require.Len(t, events, 1)
	assert.Equal(t, media.Ready, events[0].Status)
	assert.Len(t, events[0].Variants, 6)
	assert.NotEmpty(t, events[0].Variants[0].URL)

	// Claim: someone else cannot; the owner can, once per target.
	colleague := u.org.Member(t, u.pool)
	target := ids.New()
	_, err = u.svc.Claim(ctx, colleague, f.ID, "use_case", target)
	assert.Equal(t, errs.NotFound, errs.CodeOf(err))
	claimed, err := u.svc.Claim(ctx, p, f.ID, "use_case", target)
	require.NoError(t, err)
	assert.Equal(t, target, claimed.AttachedID)
	_, err = u.svc.Claim(ctx, p, f.ID, "use_case", target)
	assert.NoError(t, err, "claiming again for the same content is a no-op")
	_, err = u.svc.Claim(ctx, p, f.ID, "use_case", ids.New())
	assert.Equal(t, errs.Conflict, errs.CodeOf(err))
}

// TestDirectUploadIsItsOwners: another organization's member, a colleague and an unknown id get
// the same NotFound, for reading and for completing.
func TestDirectUploadIsItsOwners(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	f := u.start(t, u.org.Owner, media.KindImage, "image/jpeg", "a.jpg", mediatest.ExifJPEG(t, 64, 64, 1))
	stranger := identitytest.NewOrg(t, u.pool).Owner
	colleague := u.org.Member(t, u.pool)
	_, missing := u.svc.File(ctx, u.org.Owner, ids.New())
	require.Equal(t, errs.NotFound, errs.CodeOf(missing))
	for name, p := range map[string]identity.Principal{"another organization": stranger, "a colleague": colleague} {
		_, err := u.svc.File(ctx, p, f.ID)
		assert.Equal(t, missing.Error(), errorOf(err), name)
		_, err = u.svc.Complete(ctx, p, f.ID)
		assert.Equal(t, missing.Error(), errorOf(err), name)
	}
	assert.Empty(t, u.queue.ids, "nobody else completed it")
}

func errorOf(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestCompleteRefuses: what arrived is checked, not what was declared; a refused file is failed
// with its reason in English and Arabic and its bytes are deleted.
func TestCompleteRefuses(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	p := u.org.Owner

	t.Run("nothing uploaded yet", func(t *testing.T) {
		f, _, err := u.svc.CreateUpload(ctx, p, media.UploadRequest{Kind: media.KindImage, ContentType: "image/png", Size: 10, Name: "a.png"})
		require.NoError(t, err)
		_, err = u.svc.Complete(ctx, p, f.ID)
		assert.Equal(t, errs.Conflict, errs.CodeOf(err))
		got, err := u.svc.File(ctx, p, f.ID)
		require.NoError(t, err)
		assert.Equal(t, media.Uploading, got.Status, "it may still be uploaded")
	})

	for _, tt := range []struct {
		name, contentType string
		kind              media.Kind
		declared          int64
		data              []byte
		code              errs.Code
		reason            string
	}{
		// A backend that does not hold the PUT to its size (the disk does): stored directly.
		{"fewer bytes than declared", "image/png", media.KindImage, 100, make([]byte, 50), errs.Validation, "50 bytes but 100 were declared"},
		{"HTML named .png", "image/png", media.KindImage, 0, []byte("<html><script>alert(1)</script></html>"), errs.Unsupported, "an HTML page"},
		{"SVG as WebP", "image/webp", media.KindImage, 0, []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), errs.Unsupported, "an SVG image"},
		{"a PDF as a video", "video/mp4", media.KindVideo, 0, []byte("%PDF-1.4\n%%EOF\n"), errs.Unsupported, "not accepted as a video"},
		{"a JPEG as a document", "application/pdf", media.KindDocument, 0, mediatest.ExifJPEG(t, 16, 16, 1), errs.Unsupported, "image/jpeg, which is not accepted as a document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.declared
			if size == 0 {
				size = int64(len(tt.data))
			}
			f, _, err := u.svc.CreateUpload(ctx, p, media.UploadRequest{Kind: tt.kind, ContentType: tt.contentType, Size: size, Name: "x"})
			require.NoError(t, err)
			_, err = u.disk.Put(ctx, "uploads/"+f.OrganizationID+"/"+f.ID, bytes.NewReader(tt.data), tt.contentType, 0)
			require.NoError(t, err)
			_, err = u.svc.Complete(ctx, p, f.ID)
			require.Equal(t, tt.code, errs.CodeOf(err), "%v", err)
			assert.Contains(t, err.Error(), tt.reason)
			got, err := u.svc.File(ctx, p, f.ID)
			require.NoError(t, err)
			assert.Equal(t, media.Failed, got.Status)
			assert.Contains(t, got.Error, tt.reason)
			assert.NotEmpty(t, got.ErrorAr)
			assert.Zero(t, got.Size)
			for _, key := range u.stored(t) {
				assert.NotContains(t, key, f.ID, "the refused bytes are deleted")
			}
			// Completing it again answers it as it is.
			again, err := u.svc.Complete(ctx, p, f.ID)
			require.NoError(t, err)
			assert.Equal(t, media.Failed, again.Status)
		})
	}
	assert.Empty(t, u.queue.ids, "nothing refused is queued")
	assert.Empty(t, u.heard.all(), "a refusal at complete is in its answer, not an event")
}

// TestWorkerRefusalFailsAndAnnounces: a file that passes the sniffing but cannot be rendered ends
// failed, announced, with nothing stored; the processing returns nil (no retry).
func TestWorkerRefusalFailsAndAnnounces(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	p := u.org.Owner
	photo := mediatest.ExifJPEG(t, 800, 600, 1)
	for _, tt := range []struct {
		name, contentType string
		data              []byte
		reason            string
	}{
		{"truncated JPEG", "image/jpeg", photo[:len(photo)/2], "truncated or corrupt"},
		{"decompression bomb", "image/png", mediatest.BombPNG(20000, 20000), "megapixels"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := u.start(t, p, media.KindImage, tt.contentType, "x", tt.data)
			_, err := u.svc.Complete(ctx, p, f.ID)
			require.NoError(t, err)
			require.NoError(t, u.svc.Process(ctx, f.ID))
			got, err := u.svc.File(ctx, p, f.ID)
			require.NoError(t, err)
			assert.Equal(t, media.Failed, got.Status)
			assert.Contains(t, got.Error, tt.reason)
			assert.NotEmpty(t, got.ErrorAr)
			events := u.heard.all()
			require.NotEmpty(t, events)
			last := events[len(events)-1]
			assert.Equal(t, f.ID, last.ID)
			assert.Equal(t, media.Failed, last.Status)
			assert.Equal(t, got.Error, last.Error)
			for _, key := range u.stored(t) {
				assert.NotContains(t, key, f.ID)
			}
		})
	}
}

// TestDocumentDownloadName: a document's original downloads under its name with the extension of
// its verified content, within the 255 bytes storage accepts even for a long Arabic name.
func TestDocumentDownloadName(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	p := u.org.Owner
	doc, err := os.ReadFile(mediatest.PDF(t))
	require.NoError(t, err)
	long := strings.Repeat("تقرير", 50) + ".pdf" // 254 characters, 504 bytes
	for _, tt := range []struct{ name, want string }{
		{"report.exe", "report.exe.pdf"},
		{"Report.PDF", "Report.pdf"},
		{long, strings.Repeat("تقرير", 25) + ".pdf"}, // 250 + 4 bytes
	} {
		f := u.start(t, p, media.KindDocument, "application/pdf", tt.name, doc)
		_, err := u.svc.Complete(ctx, p, f.ID)
		require.NoError(t, err)
		require.NoError(t, u.svc.Process(ctx, f.ID))
		got, err := u.svc.File(ctx, p, f.ID)
		require.NoError(t, err)
		require.Equal(t, media.Ready, got.Status, got.Error)
		assert.Equal(t, tt.name, got.Name, "the name is kept as given")
		require.NotNil(t, got.Meta)
		assert.Equal(t, 2, got.Meta.Pages)
		var original *media.Variant
		for i, v := range got.Variants {
			if v.Name == "original" {
				original = &got.Variants[i]
			}
		}
		require.NotNil(t, original)
		require.NotEmpty(t, original.URL, "the original has a signed URL")
		rec := u.get(t, original.URL)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, doc, rec.Body.Bytes())
		disposition, params, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
		require.NoError(t, err)
		assert.Equal(t, "attachment", disposition)
		assert.Equal(t, tt.want, params["filename"])
		assert.LessOrEqual(t, len(params["filename"]), 255)
		assert.True(t, utf8.ValidString(params["filename"]))
	}
}

func TestUploadNames(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name, given string
		ok          bool
	}{
		{"Arabic", "صورة المصنع.jpg", true},
		{"255 Arabic characters", strings.Repeat("ص", 255), true},
		{"256 characters", strings.Repeat("a", 256), false},
		{"right-to-left override", "invoice\u202Efdp.exe", false},
		{"isolate", "a\u2067b.jpg", false},
		{"right-to-left mark is fine", "\u200Fتقرير.jpg", true},
		{"NUL", "a\x00.jpg", false},
		{"blank", "   ", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := u.svc.CreateUpload(ctx, u.org.Owner,
				media.UploadRequest{Kind: media.KindImage, ContentType: "image/jpeg", Size: 10, Name: tt.given})
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var e *errs.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, errs.Validation, e.Code)
			require.Len(t, e.Fields, 1)
			assert.Equal(t, "name", e.Fields[0].Field)
		})
	}
}

// TestSweep: an unattached upload older than a day is removed, rows and bytes; an attached one
// and a recent one stay; the file of deleted content goes once the retention window has passed.
func TestSweep(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	p := u.org.Owner
	photo := mediatest.ExifJPEG(t, 320, 240, 1)
	ready := func(name string) media.File {
		f := u.start(t, p, media.KindImage, "image/jpeg", name, photo)
		_, err := u.svc.Complete(ctx, p, f.ID)
		require.NoError(t, err)
		require.NoError(t, u.svc.Process(ctx, f.ID))
		return f
	}
	orphan := ready("orphan.jpg")
	kept := ready("kept.jpg")
	_, err := u.svc.Claim(ctx, p, kept.ID, "use_case", ids.New())
	require.NoError(t, err)
	never := u.start(t, p, media.KindImage, "image/jpeg", "never-completed.jpg", photo)

	n, err := u.svc.Sweep(ctx, time.Now())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is a day old yet")

	n, err = u.svc.Sweep(ctx, time.Now().Add(25*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	for _, f := range []media.File{orphan, never} {
		_, err := u.svc.File(ctx, p, f.ID)
		assert.Equal(t, errs.NotFound, errs.CodeOf(err), f.Name)
		for _, key := range u.stored(t) {
			assert.NotContains(t, key, f.ID, "swept bytes stay: "+f.Name)
		}
	}
	got, err := u.svc.File(ctx, p, kept.ID)
	require.NoError(t, err)
	assert.Equal(t, media.Ready, got.Status)
	for _, v := range got.Variants {
		assert.Equal(t, http.StatusOK, u.get(t, v.URL).Code, "the attached file's %s stays", v.Name)
	}

	// Its content deleted, the file stays for the retention window, then goes with its bytes.
	deleted := time.Now()
	require.NoError(t, u.svc.Forget(ctx, "use_case", got.AttachedID, deleted))
	require.NoError(t, u.svc.Forget(ctx, "use_case", got.AttachedID, deleted.Add(time.Hour)), "a second mark keeps the first")
	n, err = u.svc.Sweep(ctx, deleted.Add(media.DefaultLimits.Retention-time.Minute))
	require.NoError(t, err)
	assert.Zero(t, n, "kept for the retention window")
	_, err = u.svc.File(ctx, p, kept.ID)
	require.NoError(t, err)
	n, err = u.svc.Sweep(ctx, deleted.Add(media.DefaultLimits.Retention+time.Minute))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	_, err = u.svc.File(ctx, p, kept.ID)
	assert.Equal(t, errs.NotFound, errs.CodeOf(err))
	for _, key := range u.stored(t) {
		assert.NotContains(t, key, kept.ID, "the deleted content's file leaves no bytes")
	}
}

// TestVideoUpload: a phone's movie becomes a poster, a preview and an original without the
// place it was filmed; the uploaded bytes are deleted and storage counts what is kept.
func TestVideoUpload(t *testing.T) {
	u := newUploadEnv(t)
	ctx := context.Background()
	p := u.org.Owner
	clip, err := os.ReadFile(mediatest.VideoWithLocation(t))
	require.NoError(t, err)
	f := u.start(t, p, media.KindVideo, "video/quicktime", "clip.mov", clip)
	_, err = u.svc.Complete(ctx, p, f.ID)
	require.NoError(t, err)
	require.NoError(t, u.svc.Process(ctx, f.ID))
	got, err := u.svc.File(ctx, p, f.ID)
	require.NoError(t, err)
	require.Equal(t, media.Ready, got.Status, got.Error)
	assert.InDelta(t, 2.0, got.Meta.DurationSeconds, 0.3)
	var total int64
	names := map[string]bool{}
	for _, v := range got.Variants {
		names[v.Name+"."+v.Format] = true
		total += v.Size
		rec := u.get(t, v.URL)
		require.Equal(t, http.StatusOK, rec.Code, v.Name)
		assert.Equal(t, v.Size, int64(rec.Body.Len()), v.Name)
		assert.False(t, bytes.Contains(rec.Body.Bytes(), []byte(mediatest.Location)), "%s leaks the location", v.Name)
		assert.False(t, bytes.Contains(rec.Body.Bytes(), []byte(mediatest.GPSMarker)), "%s leaks the title", v.Name)
	}
	assert.Equal(t, map[string]bool{"poster.webp": true, "poster.jpeg": true, "preview.jpeg": true, "original.quicktime": true}, names)
	for _, key := range u.stored(t) {
		assert.False(t, strings.HasPrefix(key, "uploads/"), "the uploaded movie is deleted: %s", key)
	}
	used, err := u.svc.StorageUsed(ctx, p.OrganizationID)
	require.NoError(t, err)
	assert.Equal(t, total, used)
}
