package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

const (
	apiDomain   = "https://api.p2p.test" // what avatar URLs start with; the test serves them itself
	processWait = 30 * time.Second
)

// mediaServer runs serve (with its worker) and returns its blob directory, one of the test's own.
func mediaServer(t *testing.T) (*harness.Env, *harness.Server, string) {
	t.Helper()
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_APP_API_DOMAIN="+apiDomain)
	return env, srv, env.BlobDir
}

// multipartFile is a multipart/form-data body with one file part.
func multipartFile(t *testing.T, field, filename, contentType string, data []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	require.NoError(t, w.WriteField("note", "fields before the file are skipped"))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, filename))
	h.Set("Content-Type", contentType)
	part, err := w.CreatePart(h)
	require.NoError(t, err)
	_, err = part.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes(), w.FormDataContentType()
}

func upload(t *testing.T, c *harness.Client, path, filename, contentType string, data []byte) *harness.Response {
	t.Helper()
	body, ct := multipartFile(t, "file", filename, contentType, data)
	return c.Do(http.MethodPost, path, body, "Content-Type: "+ct)
}

// awaitFile polls the file's status until processing has finished, within processWait.
func awaitFile(t *testing.T, c *harness.Client, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(processWait)
	for {
		res := c.Do(http.MethodGet, "/api/v1/files/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		f := res.JSON()
		if f["status"] != "pending" {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("file %s still pending after %s", id, processWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fetchImage gets a served image by its public URL from the test's server and decodes it.
func fetchImage(t *testing.T, srv *harness.Server, publicURL string) (image.Image, *http.Response) {
	t.Helper()
	require.True(t, strings.HasPrefix(publicURL, apiDomain+"/media/"), publicURL)
	u, err := url.Parse(publicURL)
	require.NoError(t, err)
	res, err := http.Get(srv.URL + u.Path)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	img, _, err := image.Decode(res.Body)
	require.NoError(t, err)
	return img, res
}

func get(t *testing.T, rawURL string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res
}

// storedFiles lists the objects in the blob directory (bookkeeping files aside).
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	}))
	return out
}

// settlesTo waits (within processWait) until the blob directory holds exactly want. A file
// shows ready or failed as soon as its row says so; the worker deletes the original and
// replaced images right after, so storage settles a moment later.
func settlesTo(t *testing.T, dir string, want []string, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(processWait)
	for {
		got := storedFiles(t, dir)
		if slices.Equal(slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(got))) {
			return
		}
		if time.Now().After(deadline) {
			assert.ElementsMatch(t, want, got, msgAndArgs...)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileRows(t *testing.T, env *harness.Env) int {
	t.Helper()
	var n int
	require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT count(*) FROM files`).Scan(&n))
	return n
}

func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 120, 255})
		}
	}
	return img
}

func jpegBytes(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, nil))
	return b.Bytes()
}

func pngBytes(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// bombPNG is a tiny PNG declaring 20000×20000 pixels (1.6 GB once decoded).
func bombPNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 20000)
	binary.BigEndian.PutUint32(ihdr[4:], 20000)
	ihdr[8], ihdr[9] = 8, 6
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.WriteString("IHDR")
	b.Write(ihdr)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte("IHDR"), ihdr...)))
	return b.Bytes()
}

func webpFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "domain", "media", "testdata", name))
	require.NoError(t, err)
	return b
}

// TestAvatarUploads uploads a JPEG, a PNG and a WebP avatar in turn: each is processed by the
// worker into a 256×256 image served from /media/, shown in GET /me, and replaces the previous
// one, which stops being served.
func TestAvatarUploads(t *testing.T) {
	_, srv, dir := mediaServer(t)
	c := seed.Founder(t, srv, "avatar").Client

	var previous string
	for _, tt := range []struct {
		name, filename, contentType string
		data                        []byte
		served                      string
	}{
		{"jpeg", "me.jpg", "image/jpeg", jpegBytes(t, gradient(640, 480)), "image/jpeg"},
		{"png", "me.png", "image/png", pngBytes(t, gradient(300, 600)), "image/jpeg"},
		{"webp", "me.webp", "image/webp", webpFixture(t, "photo.webp"), "image/jpeg"},
		{"webp with transparency", "logo.webp", "image/webp", webpFixture(t, "alpha.webp"), "image/png"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := upload(t, c, "/api/v1/me/avatar", tt.filename, tt.contentType, tt.data)
			require.Equal(t, http.StatusAccepted, res.Status, res.String())
			f := res.JSON()
			assert.Equal(t, "pending", f["status"])
			assert.Equal(t, "avatar", f["kind"])
			assert.Equal(t, "/api/v1/files/"+f["id"].(string), res.Header.Get("Location"))

			f = awaitFile(t, c, f["id"].(string))
			require.Equal(t, "ready", f["status"], "%v", f)
			avatar := f["url"].(string)

			me := c.Do(http.MethodGet, "/api/v1/me", nil)
			require.Equal(t, http.StatusOK, me.Status)
			assert.Equal(t, avatar, me.JSON()["user"].(map[string]any)["avatar"])

			img, got := fetchImage(t, srv, avatar)
			assert.Equal(t, image.Rect(0, 0, 256, 256), img.Bounds())
			assert.Equal(t, tt.served, got.Header.Get("Content-Type"))
			assert.Equal(t, "nosniff", got.Header.Get("X-Content-Type-Options"))
			assert.Contains(t, got.Header.Get("Cache-Control"), "immutable")
			etag := got.Header.Get("ETag")
			require.NotEmpty(t, etag)
			u, _ := url.Parse(avatar)
			assert.Equal(t, http.StatusNotModified, get(t, srv.URL+u.Path, "If-None-Match: "+etag).StatusCode)

			if previous != "" {
				p, _ := url.Parse(previous)
				assert.Equal(t, http.StatusNotFound, get(t, srv.URL+p.Path).StatusCode, "the replaced avatar is gone")
			}
			previous = avatar
			// Only the current image is stored: no original, no earlier avatar.
			key := strings.TrimPrefix(u.Path, "/media/")
			dirPart, name := filepath.Split(key)
			settlesTo(t, dir, []string{key, dirPart + "." + name + ".meta"})
		})
	}

	res := c.Do(http.MethodDelete, "/api/v1/me/avatar", nil)
	require.Equal(t, http.StatusNoContent, res.Status, res.String())
	assert.Nil(t, c.Do(http.MethodGet, "/api/v1/me", nil).JSON()["user"].(map[string]any)["avatar"])
	p, _ := url.Parse(previous)
	assert.Equal(t, http.StatusNotFound, get(t, srv.URL+p.Path).StatusCode)
	assert.Empty(t, storedFiles(t, dir))
}

// TestRefusedUploadsStoreNothing sends what must be refused: each answer names the problem, and
// neither a files row nor a stored object is left behind.
func TestRefusedUploadsStoreNothing(t *testing.T) {
	env, srv, dir := mediaServer(t)
	c := seed.Founder(t, srv, "refused").Client
	var gifData bytes.Buffer
	require.NoError(t, gif.Encode(&gifData, gradient(32, 32), nil))
	header := pngBytes(t, gradient(16, 16))
	big := append(header, make([]byte, 6<<20)...) // refused on its Content-Length
	// Within the route's limit (which leaves room for the multipart framing) but over 5 MB:
	// refused while the image is read.
	justOver := append(append([]byte{}, header...), make([]byte, 5<<20+1-len(header))...)

	for _, tt := range []struct {
		name, filename, contentType string
		data                        []byte
		status                      int
		code, detail                string
	}{
		{"gif", "me.gif", "image/gif", gifData.Bytes(), 415, "unsupported_media_type", "not a JPEG, PNG or WebP"},
		{"gif posing as png", "me.png", "image/png", gifData.Bytes(), 415, "unsupported_media_type", ""},
		{"text renamed .png", "me.png", "image/png", []byte("this is only text"), 415, "unsupported_media_type", ""},
		{"six megabytes", "big.png", "image/png", big, 413, "payload_too_large", ""},
		{"one byte over five megabytes", "big.png", "image/png", justOver, 413, "payload_too_large", "larger than 5 MB"},
		{"decompression bomb", "bomb.png", "image/png", bombPNG(), 422, "validation_failed", "20000×20000"},
		{"empty file", "empty.jpg", "image/jpeg", nil, 422, "validation_failed", "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/me/avatar", "/api/v1/organizations/current/logo"} {
				res := upload(t, c, path, tt.filename, tt.contentType, tt.data)
				require.Equal(t, tt.status, res.Status, res.String())
				assert.Equal(t, tt.code, res.JSON()["code"])
				assert.Contains(t, res.JSON()["detail"], tt.detail)
			}
			assert.Zero(t, fileRows(t, env))
			assert.Empty(t, storedFiles(t, dir))
		})
	}

	t.Run("no file field", func(t *testing.T) {
		body, ct := multipartFile(t, "picture", "me.jpg", "image/jpeg", jpegBytes(t, gradient(10, 10)))
		res := c.Do(http.MethodPost, "/api/v1/me/avatar", body, "Content-Type: "+ct)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
		assert.Equal(t, "file", res.JSON()["errors"].([]any)[0].(map[string]any)["field"])
	})
	t.Run("not multipart", func(t *testing.T) {
		res := c.Do(http.MethodPost, "/api/v1/me/avatar", jpegBytes(t, gradient(10, 10)), "Content-Type: image/jpeg")
		require.Equal(t, http.StatusUnsupportedMediaType, res.Status, res.String())
		assert.Contains(t, res.JSON()["detail"], "multipart/form-data")
	})
	assert.Zero(t, fileRows(t, env))
	assert.Empty(t, storedFiles(t, dir))
}

// TestCorruptImageFails: a file whose header is sound is accepted, and fails in the worker with
// a message for people; what was stored goes.
func TestCorruptImageFails(t *testing.T) {
	env, srv, dir := mediaServer(t)
	c := seed.Founder(t, srv, "corrupt").Client
	b := pngBytes(t, gradient(300, 300))
	res := upload(t, c, "/api/v1/me/avatar", "me.png", "image/png", b[:len(b)/2])
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	f := awaitFile(t, c, res.JSON()["id"].(string))
	assert.Equal(t, "failed", f["status"])
	assert.Contains(t, f["error"], "could not be decoded")
	assert.Nil(t, f["url"])
	assert.Nil(t, c.Do(http.MethodGet, "/api/v1/me", nil).JSON()["user"].(map[string]any)["avatar"])
	settlesTo(t, dir, nil)
	assert.Equal(t, 1, fileRows(t, env), "the failed file keeps its row, so its status can be read")
}

// TestLogo: the admin uploads and removes the logo; a member may not; nobody without a session.
func TestLogo(t *testing.T) {
	env, srv, dir := mediaServer(t)
	admin := seed.Founder(t, srv, "logo-admin").Client

	res := upload(t, admin, "/api/v1/organizations/current/logo", "logo.png", "image/png", pngBytes(t, gradient(400, 200)))
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	f := awaitFile(t, admin, res.JSON()["id"].(string))
	require.Equal(t, "ready", f["status"], "%v", f)
	org := admin.Do(http.MethodGet, "/api/v1/organizations/current", nil)
	require.Equal(t, http.StatusOK, org.Status, org.String())
	assert.Equal(t, f["url"], org.JSON()["logo"])
	img, _ := fetchImage(t, srv, f["url"].(string))
	assert.Equal(t, image.Rect(0, 0, 256, 256), img.Bounds())

	// A member joins through an invitation.
	email := harness.UniqueEmail("logo-member")
	res = admin.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
		map[string]any{"email": email, "firstName": "Mona", "lastName": "Member", "role": "member"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	token := seed.TokenOf(t, env.Mail.Wait(t, email, "invited you", mailWait).Links[0])
	member := srv.Client(t)
	member.SignUp(map[string]any{"email": email, "password": "Str0ng-pass", "firstName": "Mona",
		"lastName": "Member", "invitationToken": token})

	res = upload(t, member, "/api/v1/organizations/current/logo", "logo.png", "image/png", pngBytes(t, gradient(50, 50)))
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())
	assert.Equal(t, http.StatusForbidden, member.Do(http.MethodDelete, "/api/v1/organizations/current/logo", nil).Status)
	// A member's own avatar is theirs to set, and another member can read its status.
	res = upload(t, member, "/api/v1/me/avatar", "me.jpg", "image/jpeg", jpegBytes(t, gradient(80, 80)))
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	avatar := awaitFile(t, admin, res.JSON()["id"].(string))
	assert.Equal(t, "ready", avatar["status"])

	// The organization's stats count what its files take in storage.
	stats := admin.Do(http.MethodGet, "/api/v1/organizations/current/stats", nil)
	require.Equal(t, http.StatusOK, stats.Status, stats.String())
	assert.Equal(t, f["size"].(float64)+avatar["size"].(float64), stats.JSON()["storageBytes"])

	anonymous := srv.Client(t)
	res = upload(t, anonymous, "/api/v1/organizations/current/logo", "logo.png", "image/png", pngBytes(t, gradient(50, 50)))
	assert.Equal(t, http.StatusUnauthorized, res.Status, res.String())
	res = upload(t, anonymous, "/api/v1/me/avatar", "me.png", "image/png", pngBytes(t, gradient(50, 50)))
	assert.Equal(t, http.StatusUnauthorized, res.Status, res.String())
	assert.Equal(t, 2, fileRows(t, env), "refused uploads left no row")

	res = admin.Do(http.MethodDelete, "/api/v1/organizations/current/logo", nil)
	require.Equal(t, http.StatusNoContent, res.Status, res.String())
	assert.Nil(t, admin.Do(http.MethodGet, "/api/v1/organizations/current", nil).JSON()["logo"])
	assert.Len(t, storedFiles(t, dir), 2, "the member's avatar and its metadata remain")
}

// TestFilesAreScopedToTheOrganization: another organization's file, a malformed id and anything
// but a processed image answer 404.
func TestFilesAreScopedToTheOrganization(t *testing.T) {
	_, srv, _ := mediaServer(t)
	a := seed.Founder(t, srv, "scope-a").Client
	b := seed.Founder(t, srv, "scope-b").Client
	res := upload(t, a, "/api/v1/me/avatar", "me.jpg", "image/jpeg", jpegBytes(t, gradient(64, 64)))
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	id := res.JSON()["id"].(string)
	f := awaitFile(t, a, id)

	for _, path := range []string{"/api/v1/files/" + id, "/api/v1/files/not-a-uuid", "/api/v1/files/0190f0e4-7d0c-7000-8000-000000000000"} {
		res := b.Do(http.MethodGet, path, nil)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s: %s", path, res)
		assert.Equal(t, "not_found", res.JSON()["code"])
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/files/"+id, nil).Status)

	u, _ := url.Parse(f["url"].(string))
	orgDir := strings.TrimPrefix(filepath.Dir(u.Path), "/media/avatars/")
	for _, path := range []string{
		"/media/originals/" + orgDir + "/" + id, // an original is never served, even while pending
		"/media/avatars/" + orgDir + "/." + filepath.Base(u.Path) + ".meta",
		"/media/avatars/../../etc/passwd",
		"/media/avatars/" + orgDir,
		"/media/",
	} {
		assert.Equal(t, http.StatusNotFound, get(t, srv.URL+path).StatusCode, path)
	}
}
