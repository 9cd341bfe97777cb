package blob_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/blob"
)

// newSignedDisk is a Disk whose presigned URLs a real HTTP server (the handler the hub mounts)
// serves.
func newSignedDisk(t *testing.T) *blob.Disk {
	t.Helper()
	var d *blob.Disk
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	d, err := blob.NewDisk(t.TempDir(), blob.WithURLSigning(srv.URL+"/blobs/", bytes.Repeat([]byte("k"), 32)))
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// do makes a presigned request the way a browser or curl would: plain HTTP, no credentials, the
// listed headers as they are (Content-Length is what the body is).
func do(t *testing.T, p blob.Presigned, body []byte, edit func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(p.Method, p.URL, rd)
	require.NoError(t, err)
	for k, v := range p.Headers {
		if !strings.EqualFold(k, "Content-Length") {
			req.Header.Set(k, v)
		}
	}
	if edit != nil {
		edit(req)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, b
}

func otherKey(t *testing.T, raw, from, to string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	require.Contains(t, u.Path, from)
	u.Path = strings.Replace(u.Path, from, to, 1)
	u.RawPath = ""
	return u.String()
}

// testPresign is the presign contract both backends meet.
func testPresign(t *testing.T, objs blob.Objects) {
	ctx := context.Background()
	body := []byte("%PDF-1.7 a small document")

	t.Run("put stores exactly the signed object", func(t *testing.T) {
		p, err := objs.PresignPut(ctx, "documents/o1/a.pdf", "application/pdf", int64(len(body)), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, http.MethodPut, p.Method)
		assert.Equal(t, "application/pdf", p.Headers["Content-Type"])
		assert.WithinDuration(t, time.Now().Add(time.Minute), p.ExpiresAt, 2*time.Second)
		res, msg := do(t, p, body, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", msg)
		info, err := objs.Stat(ctx, "documents/o1/a.pdf")
		require.NoError(t, err)
		assert.EqualValues(t, len(body), info.Size)
		assert.Equal(t, "application/pdf", info.ContentType)
	})

	refused := []struct {
		name string
		body []byte
		edit func(*http.Request)
	}{
		{"a longer body", append(append([]byte{}, body...), 'x'), nil},
		{"a shorter body", body[:len(body)-1], nil},
		{"another content type", body, func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }},
		{"no content type", body, func(r *http.Request) { r.Header.Del("Content-Type") }},
	}
	for _, tc := range refused {
		t.Run("put refuses "+tc.name, func(t *testing.T) {
			p, err := objs.PresignPut(ctx, "documents/o1/refused.pdf", "application/pdf", int64(len(body)), time.Minute)
			require.NoError(t, err)
			res, _ := do(t, p, tc.body, tc.edit)
			assert.GreaterOrEqual(t, res.StatusCode, 400)
			assert.Less(t, res.StatusCode, 500)
			_, err = objs.Stat(ctx, "documents/o1/refused.pdf")
			assert.ErrorIs(t, err, blob.ErrNotFound, "nothing stored")
		})
	}

	t.Run("get serves, as an attachment when named, with ranges", func(t *testing.T) {
		p, err := objs.PresignGet(ctx, "documents/o1/a.pdf", time.Minute, "تقرير Q1.pdf")
		require.NoError(t, err)
		assert.Equal(t, http.MethodGet, p.Method)
		res, got := do(t, p, nil, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", got)
		assert.Equal(t, body, got)
		assert.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
		cd := res.Header.Get("Content-Disposition")
		assert.True(t, strings.HasPrefix(cd, "attachment"), cd)
		assert.Contains(t, cd, "%D8%AA%D9%82%D8%B1%D9%8A%D8%B1", "the Arabic name, RFC 2231 encoded")

		res, got = do(t, p, nil, func(r *http.Request) { r.Header.Set("Range", "bytes=0-3") })
		assert.Equal(t, http.StatusPartialContent, res.StatusCode)
		assert.Equal(t, "%PDF", string(got))

		p, err = objs.PresignGet(ctx, "documents/o1/a.pdf", time.Minute, "")
		require.NoError(t, err)
		res, _ = do(t, p, nil, nil)
		assert.Empty(t, res.Header.Get("Content-Disposition"))
	})

	t.Run("a url reads only its own key", func(t *testing.T) {
		_, err := objs.Put(ctx, "documents/o2/secret.pdf", bytes.NewReader([]byte("other org")), "application/pdf", 0)
		require.NoError(t, err)
		p, err := objs.PresignGet(ctx, "documents/o1/a.pdf", time.Minute, "")
		require.NoError(t, err)
		p.URL = otherKey(t, p.URL, "documents/o1/a.pdf", "documents/o2/secret.pdf")
		res, got := do(t, p, nil, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.NotContains(t, string(got), "other org")

		put, err := objs.PresignPut(ctx, "documents/o1/b.pdf", "application/pdf", 9, time.Minute)
		require.NoError(t, err)
		put.URL = otherKey(t, put.URL, "documents/o1/b.pdf", "documents/o2/secret.pdf")
		res, _ = do(t, put, []byte("overwrite"), nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		rc, err := objs.Open(ctx, "documents/o2/secret.pdf")
		require.NoError(t, err)
		b, _ := io.ReadAll(rc)
		rc.Close()
		assert.Equal(t, "other org", string(b))
	})

	t.Run("a forged signature or another method is refused", func(t *testing.T) {
		p, err := objs.PresignGet(ctx, "documents/o1/a.pdf", time.Minute, "")
		require.NoError(t, err)
		u, err := url.Parse(p.URL)
		require.NoError(t, err)
		q := u.Query()
		for name, v := range q {
			if strings.Contains(strings.ToLower(name), "signature") {
				s := []byte(v[0])
				s[0] ^= 1
				if s[0] == '=' || s[0] == '&' {
					s[0] = 'A'
				}
				q.Set(name, string(s))
			}
		}
		u.RawQuery = q.Encode()
		res, _ := do(t, blob.Presigned{Method: http.MethodGet, URL: u.String()}, nil, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)

		res, _ = do(t, blob.Presigned{Method: http.MethodPut, URL: p.URL}, body, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "a GET url cannot store")
	})

	t.Run("urls expire", func(t *testing.T) {
		get, err := objs.PresignGet(ctx, "documents/o1/a.pdf", time.Second, "")
		require.NoError(t, err)
		put, err := objs.PresignPut(ctx, "documents/o1/late.pdf", "application/pdf", int64(len(body)), time.Second)
		require.NoError(t, err)
		res, _ := do(t, get, nil, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "valid before its expiry")
		time.Sleep(2100 * time.Millisecond)
		res, _ = do(t, get, nil, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = do(t, put, body, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		_, err = objs.Stat(ctx, "documents/o1/late.pdf")
		assert.ErrorIs(t, err, blob.ErrNotFound)
	})

	t.Run("bad requests are refused before signing", func(t *testing.T) {
		for _, tc := range []struct {
			key, ct string
			size    int64
			ttl     time.Duration
		}{
			{"../etc/passwd", "text/plain", 1, time.Minute},
			{"documents/a.pdf", "", 1, time.Minute},
			{"documents/a.pdf", "text/plain\r\nX: y", 1, time.Minute},
			{"documents/a.pdf", "text/plain", -1, time.Minute},
			{"documents/a.pdf", "text/plain", 1, 0},
			{"documents/a.pdf", "text/plain", 1, 8 * 24 * time.Hour},
		} {
			_, err := objs.PresignPut(ctx, tc.key, tc.ct, tc.size, tc.ttl)
			assert.Error(t, err, "%+v", tc)
		}
		_, err := objs.PresignGet(ctx, "documents/o1/a.pdf", time.Minute, "a/b.pdf")
		assert.Error(t, err)
		_, err = objs.PresignGet(ctx, "documents/o1/a.pdf", time.Minute, "a\nb.pdf")
		assert.Error(t, err)
	})
}

func TestDiskPresign(t *testing.T) {
	testPresign(t, newSignedDisk(t))
}

func TestDiskPresignNeedsSigning(t *testing.T) {
	d, _ := newDisk(t)
	_, err := d.PresignGet(context.Background(), "a/b", time.Minute, "")
	assert.ErrorIs(t, err, blob.ErrNoSigning)
	_, err = blob.NewDisk(t.TempDir(), blob.WithURLSigning("http://h/blobs/", []byte("short")))
	assert.Error(t, err, "a short secret")
	_, err = blob.NewDisk(t.TempDir(), blob.WithURLSigning("/blobs/", bytes.Repeat([]byte("k"), 32)))
	assert.Error(t, err, "a relative base")
}

func TestDiskHandlerProbes(t *testing.T) {
	d := newSignedDisk(t)
	ctx := context.Background()
	_, err := d.Put(ctx, "documents/a.pdf", strings.NewReader("x"), "application/pdf", 0)
	require.NoError(t, err)
	p, err := d.PresignGet(ctx, "documents/a.pdf", time.Minute, "")
	require.NoError(t, err)
	base := p.URL[:strings.Index(p.URL, "?")]
	for _, raw := range []string{
		base,
		base + "?X-Signature=",
		base + "?X-Method=GET&X-Expires=99999999999&X-Signature=AAAA",
		base + "?X-Method=DELETE&X-Expires=99999999999&X-Signature=AAAA",
		strings.Replace(p.URL, "documents/a.pdf", "documents/../documents/a.pdf", 1),
		strings.Replace(p.URL, "X-Expires=", "X-Expires=1", 1),
	} {
		res, body := do(t, blob.Presigned{Method: http.MethodGet, URL: raw}, nil, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, raw)
		assert.JSONEq(t, `{"type":"about:blank","title":"Forbidden","status":403}`, string(body), "no detail")
	}
}
