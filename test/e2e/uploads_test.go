package e2e

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/media/mediatest"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// onServer points a presigned URL at the test's server (the disk backend presigns URLs the hub
// serves; the test reaches the hub on its own address).
func onServer(t *testing.T, srv *harness.Server, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return srv.URL + u.RequestURI()
}

// presigned makes a presigned request as a browser would: no session, the given headers.
func presigned(t *testing.T, srv *harness.Server, p map[string]any, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(p["method"].(string), onServer(t, srv, p["url"].(string)), bytes.NewReader(body))
	require.NoError(t, err)
	if h, ok := p["headers"].(map[string]any); ok {
		for k, v := range h {
			req.Header.Set(k, v.(string))
		}
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return res
}

// startUpload asks for an upload and sends data by its presigned PUT; it returns the file id.
func startUpload(t *testing.T, srv *harness.Server, c *harness.Client, kind, contentType, name string, data []byte) string {
	t.Helper()
	res := c.Do(http.MethodPost, "/api/v1/uploads", map[string]any{
		"kind": kind, "contentType": contentType, "size": len(data), "name": name})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	body := res.JSON()
	file := body["file"].(map[string]any)
	assert.Equal(t, "uploading", file["status"])
	put := presigned(t, srv, body["upload"].(map[string]any), data)
	put.Body.Close()
	require.Less(t, put.StatusCode, 300, "presigned PUT: %d", put.StatusCode)
	return file["id"].(string)
}

// awaitUpload polls until the file is ready or failed.
func awaitUpload(t *testing.T, c *harness.Client, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(processWait)
	for {
		res := c.Do(http.MethodGet, "/api/v1/files/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		f := res.JSON()
		if f["status"] == "ready" || f["status"] == "failed" {
			return f
		}
		require.Truef(t, time.Now().Before(deadline), "file %s still %s", id, f["status"])
		time.Sleep(100 * time.Millisecond)
	}
}

// problemOf is a 404 problem without what names the request (instance, requestId): what must
// be identical between someone else's file and a missing one.
func problemOf(t *testing.T, res *harness.Response) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusNotFound, res.Status, res.String())
	p := res.JSON()
	delete(p, "instance")
	delete(p, "requestId")
	return p
}

func variantsOf(t *testing.T, f map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, v := range f["variants"].([]any) {
		m := v.(map[string]any)
		out[m["name"].(string)+"."+m["format"].(string)] = m
	}
	return out
}

func fetch(t *testing.T, srv *harness.Server, signed string) ([]byte, *http.Response) {
	t.Helper()
	res, err := http.Get(onServer(t, srv, signed))
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return b, res
}

// TestDirectUploads: presigned PUT → complete → pipeline → every size present → the signed GETs
// serve them; GPS gone from a photo; a video gets a poster, a PDF its pages and a thumbnail; the
// uploader's socket hears media:ready; other people's files are 404.
func TestDirectUploads(t *testing.T) {
	env, srv, _ := mediaServer(t)
	alice := seed.Founder(t, srv, "uploader")
	bob := seed.Founder(t, srv, "stranger")
	sock := socket(t, srv, alice.AccessToken)

	photo := mediatest.ExifJPEG(t, 2400, 1200, 6)
	id := startUpload(t, srv, alice.Client, "image", "image/jpeg", "site/photo.jpg", photo)
	res := alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil)
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	assert.Contains(t, []any{"pending", "ready"}, res.JSON()["status"])

	ctx, cancel := context.WithTimeout(context.Background(), processWait)
	defer cancel()
	ev, err := sock.Next(ctx, "media:ready")
	require.NoError(t, err)
	require.NotEmpty(t, ev.Args)
	assert.Equal(t, id, ev.Args[0].(map[string]any)["id"])

	f := awaitUpload(t, alice.Client, id)
	require.Equal(t, "ready", f["status"], f)
	assert.Equal(t, "site_photo.jpg", f["name"])
	assert.Equal(t, map[string]any{"width": 1200.0, "height": 2400.0}, f["meta"])
	vs := variantsOf(t, f)
	require.Len(t, vs, 6, vs)
	for _, name := range []string{"hero", "card", "thumbnail"} {
		for _, format := range []string{"webp", "jpeg"} {
			v := vs[name+"."+format]
			require.NotNil(t, v, name+"."+format)
			b, res := fetch(t, srv, v["url"].(string))
			require.Equal(t, http.StatusOK, res.StatusCode, name+"."+format)
			assert.Equal(t, v["contentType"], res.Header.Get("Content-Type"))
			assert.NotContains(t, string(b), mediatest.GPSMarker, "GPS leaked in "+name+"."+format)
			assert.NotContains(t, string(b), "Exif", name+"."+format)
			if format == "jpeg" {
				cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
				require.NoError(t, err)
				assert.Equal(t, v["width"], float64(cfg.Width))
				assert.Greater(t, cfg.Height, cfg.Width, "orientation applied")
			}
		}
	}
	assert.Equal(t, 1600.0, vs["hero.jpeg"]["height"])
	// A signed URL is for its one object: the hero's signature does not open the card.
	other := strings.Replace(vs["hero.jpeg"]["url"].(string), "/hero.jpg", "/card.jpg", 1)
	require.NotEqual(t, vs["hero.jpeg"]["url"], other)
	_, forged := fetch(t, srv, other)
	assert.Equal(t, http.StatusForbidden, forged.StatusCode)
	assert.Equal(t, 320.0, vs["thumbnail.webp"]["height"])

	// Someone else's file (another organization's, or a colleague's upload not attached to
	// anything) answers exactly like a missing one, for reading and completing.
	colleague := seed.Invite(t, env, srv, alice, "colleague", "member")
	missing := "01900000-0000-7000-8000-000000000000"
	for _, op := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/files/"}, {http.MethodPost, "/api/v1/uploads/"},
	} {
		suffix := ""
		if op.method == http.MethodPost {
			suffix = "/complete"
		}
		want := problemOf(t, alice.Do(op.method, op.path+missing+suffix, nil))
		for who, c := range map[string]*harness.Client{"another organization": bob.Client, "a colleague": colleague.Client} {
			got := problemOf(t, c.Do(op.method, op.path+id+suffix, nil))
			assert.Equal(t, want, got, "%s %s by %s", op.method, op.path, who)
		}
	}

	t.Run("video", func(t *testing.T) {
		// A phone's movie: it says where it was filmed, which the original must not keep.
		clip, err := os.ReadFile(mediatest.VideoWithLocation(t))
		require.NoError(t, err)
		id := startUpload(t, srv, alice.Client, "video", "video/quicktime", "clip.mov", clip)
		require.Equal(t, http.StatusAccepted, alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil).Status)
		f := awaitUpload(t, alice.Client, id)
		require.Equal(t, "ready", f["status"], f)
		assert.InDelta(t, 2.0, f["meta"].(map[string]any)["durationSeconds"], 0.3)
		vs := variantsOf(t, f)
		for _, k := range []string{"poster.webp", "poster.jpeg", "preview.jpeg", "original.quicktime"} {
			require.Contains(t, vs, k)
		}
		b, res := fetch(t, srv, vs["poster.jpeg"]["url"].(string))
		require.Equal(t, http.StatusOK, res.StatusCode)
		img, _, err := image.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		assert.Equal(t, 320, img.Bounds().Dx())
		b, res = fetch(t, srv, vs["original.quicktime"]["url"].(string))
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "video/quicktime", res.Header.Get("Content-Type"))
		assert.Contains(t, res.Header.Get("Content-Disposition"), "clip.mov")
		assert.Equal(t, vs["original.quicktime"]["size"], float64(len(b)))
		require.Greater(t, len(b), 8)
		assert.Equal(t, "ftyp", string(b[4:8]), "still a QuickTime movie")
		assert.False(t, bytes.Contains(b, []byte(mediatest.Location)), "the place it was filmed leaked")
		assert.False(t, bytes.Contains(b, []byte(mediatest.GPSMarker)), "the metadata leaked")
	})

	t.Run("pdf", func(t *testing.T) {
		doc, err := os.ReadFile(mediatest.PDF(t))
		require.NoError(t, err)
		id := startUpload(t, srv, alice.Client, "document", "application/pdf", "تقرير.pdf", doc)
		require.Equal(t, http.StatusAccepted, alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil).Status)
		f := awaitUpload(t, alice.Client, id)
		require.Equal(t, "ready", f["status"], f)
		assert.Equal(t, 2.0, f["meta"].(map[string]any)["pages"])
		vs := variantsOf(t, f)
		for _, k := range []string{"page1-thumbnail.jpeg", "page1-card.webp", "original.pdf"} {
			require.Contains(t, vs, k)
		}
		_, res := fetch(t, srv, vs["page1-thumbnail.jpeg"]["url"].(string))
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})

	t.Run("storage counts the files", func(t *testing.T) {
		res := alice.Do(http.MethodGet, "/api/v1/organizations/current/stats", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		var want int64
		require.NoError(t, db(t, env).QueryRow(context.Background(),
			`SELECT sum(size) FROM files WHERE organization_id = $1 AND status <> 'failed'`, alice.OrgID).Scan(&want))
		assert.Positive(t, want)
		assert.Equal(t, float64(want), res.JSON()["storageBytes"], res.String())
	})
}

// TestHostileUploads: each hostile file ends failed (refused at complete or by the worker) with
// its reason in English and Arabic, and nothing of it stays stored. A file the worker refuses is
// announced by media:failed on the uploader's socket; afterwards the worker still processes a
// good file.
func TestHostileUploads(t *testing.T) {
	_, srv, blobDir := mediaServer(t)
	alice := seed.Founder(t, srv, "hostile")
	sock := socket(t, srv, alice.AccessToken)
	photo := mediatest.ExifJPEG(t, 800, 600, 1)
	for _, tt := range []struct {
		name, kind, contentType, filename string
		data                              []byte
		completeStatus                    int
		reason                            string
	}{
		{"HTML named .png", "image", "image/png", "cat.png", []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"), 415, "an HTML page"},
		{"SVG with script", "image", "image/png", "logo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 415, "an SVG image"},
		{"SVG without script", "image", "image/webp", "logo.webp", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>`), 415, "an SVG image"},
		{"executable as a PDF", "document", "application/pdf", "invoice.pdf", append([]byte("MZ\x90\x00"), make([]byte, 200)...), 415, "an executable program"},
		{"PDF as a video", "video", "video/mp4", "clip.mp4", []byte("%PDF-1.4\n%%EOF\n"), 415, "not accepted as a video"},
		{"truncated JPEG", "image", "image/jpeg", "cut.jpg", photo[:len(photo)*4/5], 202, "truncated or corrupt"},
		{"decompression bomb", "image", "image/png", "bomb.png", mediatest.BombPNG(20000, 20000), 202, "megapixels"},
		{"corrupt video", "video", "video/mp4", "bad.mp4", append([]byte("\x00\x00\x00\x18ftypisom"), make([]byte, 500)...), 202, "not a playable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := startUpload(t, srv, alice.Client, tt.kind, tt.contentType, tt.filename, tt.data)
			res := alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil)
			require.Equal(t, tt.completeStatus, res.Status, res.String())
			f := awaitUpload(t, alice.Client, id)
			require.Equal(t, "failed", f["status"])
			assert.Contains(t, f["error"], tt.reason)
			assert.NotEmpty(t, f["errorAr"])
			assert.Equal(t, 0.0, f["size"])
			assert.Empty(t, f["variants"])
			if tt.completeStatus == http.StatusAccepted {
				// Refused by the worker: the uploader hears it (at complete, the answer says it),
				// once what was stored is deleted.
				ctx, cancel := context.WithTimeout(context.Background(), processWait)
				defer cancel()
				ev, err := sock.Next(ctx, "media:failed")
				require.NoError(t, err)
				require.NotEmpty(t, ev.Args)
				got := ev.Args[0].(map[string]any)
				assert.Equal(t, id, got["id"])
				assert.Equal(t, "failed", got["status"])
				assert.Equal(t, f["error"], got["error"])
				assert.Equal(t, f["errorAr"], got["errorAr"])
			}
			assert.Empty(t, storedFor(t, blobDir, id), "bytes of a failed file stayed stored")
		})
	}

	t.Run("the worker survives", func(t *testing.T) {
		id := startUpload(t, srv, alice.Client, "image", "image/jpeg", "after.jpg", photo)
		require.Equal(t, http.StatusAccepted, alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil).Status)
		f := awaitUpload(t, alice.Client, id)
		assert.Equal(t, "ready", f["status"], f)
		assert.Len(t, f["variants"], 6)
		assert.NotEmpty(t, storedFor(t, blobDir, id), "the sizes are where storedFor looks")
	})
}

// storedFor lists the blob files whose path names the file id.
func storedFor(t *testing.T, blobDir, id string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(blobDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(path, id) && !d.IsDir() {
			found = append(found, path)
		}
		return nil
	})
	require.NoError(t, err)
	return found
}

// TestUploadRequestsRefused: hostile or wrong requests to POST /uploads and complete.
func TestUploadRequestsRefused(t *testing.T) {
	_, srv, _ := mediaServer(t)
	alice := seed.Founder(t, srv, "refused")
	for _, tt := range []struct {
		name   string
		body   any
		status int
	}{
		{"unknown kind", map[string]any{"kind": "avatar", "contentType": "image/png", "size": 10, "name": "a.png"}, 422},
		{"type not of the kind", map[string]any{"kind": "image", "contentType": "image/svg+xml", "size": 10, "name": "a.svg"}, 422},
		{"too large", map[string]any{"kind": "image", "contentType": "image/png", "size": 21 << 20, "name": "a.png"}, 413},
		{"zero size", map[string]any{"kind": "document", "contentType": "application/pdf", "size": 0, "name": "a.pdf"}, 422},
		{"NUL in the name", map[string]any{"kind": "document", "contentType": "application/pdf", "size": 5, "name": "a\x00.pdf"}, 422},
		{"no name", map[string]any{"kind": "document", "contentType": "application/pdf", "size": 5}, 422},
		{"size as a string", map[string]any{"kind": "image", "contentType": "image/png", "size": "10", "name": "a.png"}, 422},
		{"not JSON", "{", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := alice.Do(http.MethodPost, "/api/v1/uploads", tt.body)
			assert.Equal(t, tt.status, res.Status, res.String())
		})
	}
	t.Run("complete before the PUT", func(t *testing.T) {
		res := alice.Do(http.MethodPost, "/api/v1/uploads", map[string]any{"kind": "image", "contentType": "image/png", "size": 10, "name": "a.png"})
		require.Equal(t, http.StatusCreated, res.Status)
		id := res.JSON()["file"].(map[string]any)["id"].(string)
		assert.Equal(t, http.StatusConflict, alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil).Status)
	})
	t.Run("size other than declared", func(t *testing.T) {
		res := alice.Do(http.MethodPost, "/api/v1/uploads", map[string]any{"kind": "image", "contentType": "image/png", "size": 100, "name": "a.png"})
		require.Equal(t, http.StatusCreated, res.Status)
		body := res.JSON()
		id := body["file"].(map[string]any)["id"].(string)
		put := presigned(t, srv, body["upload"].(map[string]any), make([]byte, 50))
		put.Body.Close()
		if put.StatusCode < 300 { // a backend that let it through: complete must catch it
			res = alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil)
			assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
		}
	})
	t.Run("too many uploads an hour", func(t *testing.T) {
		carol := seed.Founder(t, srv, "eager")
		body := map[string]any{"kind": "document", "contentType": "application/pdf", "size": 10, "name": "a.pdf"}
		const uploadsPerHour = 120 // as POST /uploads documents it
		for i := range uploadsPerHour {
			res := carol.Do(http.MethodPost, "/api/v1/uploads", body)
			require.Equal(t, http.StatusCreated, res.Status, "upload %d: %s", i, res.String())
		}
		res := carol.Do(http.MethodPost, "/api/v1/uploads", body)
		require.Equal(t, http.StatusTooManyRequests, res.Status, res.String())
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
		// Per user: someone else is not held back.
		assert.Equal(t, http.StatusCreated, alice.Do(http.MethodPost, "/api/v1/uploads", body).Status)
	})
	for _, id := range []string{"nope", "00000000-0000-0000-0000-000000000000"} {
		assert.Equal(t, http.StatusNotFound, alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil).Status)
		assert.Equal(t, http.StatusNotFound, alice.Do(http.MethodGet, "/api/v1/files/"+id, nil).Status)
	}
}

// TestUploadLimitsConfigured: the operator's limits (media.*_max_mb, media.url_ttl) are the ones
// a request meets: a document over the configured size is refused with the limit, and a
// presigned URL lives as long as configured.
func TestUploadLimitsConfigured(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_APP_API_DOMAIN="+apiDomain, "P2P_MEDIA_DOCUMENT_MAX_MB=1", "P2P_MEDIA_URL_TTL=2m")
	alice := seed.Founder(t, srv, "limits")
	res := alice.Do(http.MethodPost, "/api/v1/uploads", map[string]any{"kind": "document", "contentType": "application/pdf",
		"size": 1<<20 + 1, "name": "big.pdf"})
	require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, res.String())
	assert.Contains(t, res.JSON()["detail"], "at most 1 MB")
	res = alice.Do(http.MethodPost, "/api/v1/uploads", map[string]any{"kind": "document", "contentType": "application/pdf",
		"size": 1 << 20, "name": "fits.pdf"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	expires, err := time.Parse(time.RFC3339, res.JSON()["upload"].(map[string]any)["expiresAt"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(2*time.Minute), expires, 30*time.Second)
}
