package blob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DiskOption configures a Disk.
type DiskOption func(*Disk) error

// WithURLSigning lets a Disk presign URLs that the hub itself serves through Disk.Handler:
// baseURL is where that handler is mounted as clients reach it ("https://api.example.com/blobs/"),
// secret the HMAC key (at least 32 bytes; every node behind the load balancer shares it).
func WithURLSigning(baseURL string, secret []byte) DiskOption {
	return func(d *Disk) error {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("blob: the presign base URL %q is not an absolute http(s) URL", baseURL)
		}
		if len(secret) < 32 {
			return errors.New("blob: the presign secret must be at least 32 bytes")
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.RawQuery, u.Fragment, u.RawPath = "", "", ""
		d.base, d.secret = u, append([]byte(nil), secret...)
		return nil
	}
}

// Query parameters of a Disk presigned URL. Every one of them is covered by the signature.
const (
	qMethod   = "X-Method"
	qExpires  = "X-Expires"
	qType     = "X-Content-Type"
	qSize     = "X-Size"
	qFilename = "X-Filename"
	qSig      = "X-Signature"
)

// signature is the HMAC-SHA256 of every signed field, each length-prefixed so that no two
// different sets of fields can produce the same message.
func (d *Disk) signature(method, key string, expires int64, contentType string, size int64, filename string) string {
	m := hmac.New(sha256.New, d.secret)
	for _, f := range []string{"blob-v1", method, key, strconv.FormatInt(expires, 10), contentType, strconv.FormatInt(size, 10), filename} {
		fmt.Fprintf(m, "%d:%s\n", len(f), f)
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *Disk) presign(method, key string, ttl time.Duration, contentType string, size int64, filename string) Presigned {
	exp := time.Now().Add(ttl).Truncate(time.Second)
	q := url.Values{}
	q.Set(qMethod, method)
	q.Set(qExpires, strconv.FormatInt(exp.Unix(), 10))
	if method == http.MethodPut {
		q.Set(qType, contentType)
		q.Set(qSize, strconv.FormatInt(size, 10))
	}
	if filename != "" {
		q.Set(qFilename, filename)
	}
	q.Set(qSig, d.signature(method, key, exp.Unix(), contentType, size, filename))
	u := *d.base
	u.Path += key
	u.RawQuery = q.Encode()
	p := Presigned{Method: method, URL: u.String(), ExpiresAt: exp}
	if method == http.MethodPut {
		p.Headers = map[string]string{"Content-Type": contentType}
	}
	return p
}

// PresignPut implements Presigner: the URL is served by Handler, which stores the body through
// Put only if it carries this content type and exactly size bytes.
func (d *Disk) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (Presigned, error) {
	if d.base == nil {
		return Presigned{}, ErrNoSigning
	}
	if err := checkPresignPut(key, contentType, size, ttl); err != nil {
		return Presigned{}, fmt.Errorf("blob: presign put %s: %w", key, err)
	}
	return d.presign(http.MethodPut, key, ttl, contentType, size, ""), nil
}

// PresignGet implements Presigner.
func (d *Disk) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (Presigned, error) {
	if d.base == nil {
		return Presigned{}, ErrNoSigning
	}
	if err := checkPresign(key, ttl); err != nil {
		return Presigned{}, fmt.Errorf("blob: presign get %s: %w", key, err)
	}
	if err := checkFilename(filename); err != nil {
		return Presigned{}, fmt.Errorf("blob: presign get %s: %w", key, err)
	}
	return d.presign(http.MethodGet, key, ttl, "", 0, filename), nil
}

// attachment is a Content-Disposition naming filename (RFC 2231 encoding for non-ASCII names).
func attachment(filename string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": filename})
}

func checkFilename(name string) error {
	if len(name) > 255 || !utf8.ValidString(name) || strings.ContainsAny(name, "/\\\x00") {
		return errors.Join(ErrInvalidPresign, errors.New("the file name must be valid UTF-8 without slashes, at most 255 bytes"))
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return errors.Join(ErrInvalidPresign, errors.New("the file name has a control character"))
		}
	}
	return nil
}

// Handler serves the URLs that PresignPut and PresignGet sign, at the path of the base URL given
// to WithURLSigning (mount it there). It answers 403 without detail to anything whose signature,
// method, key or expiry does not match, so a prober learns nothing; a valid GET of a missing
// object is 404. PUT stores the body through Put (atomically) only when its Content-Type is the
// signed one and its length is exactly the signed size; GET and HEAD stream the object with Range
// support, as an attachment when the URL names a file.
func (d *Disk) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.base == nil || !strings.HasPrefix(r.URL.Path, d.base.Path) {
			forbidden(w)
			return
		}
		d.ServeSigned(w, r, strings.TrimPrefix(r.URL.Path, d.base.Path))
	})
}

// ServeSigned is Handler for a router that has already taken key from the path (behind a proxy
// that rewrites the prefix, the base URL's path and the served one may differ).
func (d *Disk) ServeSigned(w http.ResponseWriter, r *http.Request, key string) {
	if d.base == nil {
		forbidden(w)
		return
	}
	q := r.URL.Query()
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	exp, err := strconv.ParseInt(q.Get(qExpires), 10, 64)
	if err != nil || !ValidKey(key) || q.Get(qMethod) != method || (method != http.MethodGet && method != http.MethodPut) {
		forbidden(w)
		return
	}
	var size int64
	if method == http.MethodPut {
		if size, err = strconv.ParseInt(q.Get(qSize), 10, 64); err != nil || size < 0 {
			forbidden(w)
			return
		}
	}
	contentType, filename := q.Get(qType), q.Get(qFilename)
	want := d.signature(method, key, exp, contentType, size, filename)
	// hmac.Equal compares in constant time; the expiry is checked after, so that a forged URL
	// and an expired one take the same path.
	if !hmac.Equal([]byte(want), []byte(q.Get(qSig))) || time.Now().Unix() > exp {
		forbidden(w)
		return
	}
	if method == http.MethodPut {
		d.servePut(w, r, key, contentType, size)
		return
	}
	d.serveGet(w, r, key, filename)
}

func forbidden(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, `{"type":"about:blank","title":"Forbidden","status":403}`)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"type":"about:blank","title":%q,"status":%d,"detail":%q}`, http.StatusText(status), status, detail)
}

func (d *Disk) servePut(w http.ResponseWriter, r *http.Request, key, contentType string, size int64) {
	// The type is compared as sent: the signature promised this exact header.
	if r.Header.Get("Content-Type") != contentType || r.ContentLength != size {
		forbidden(w)
		return
	}
	body := &exactReader{r: r.Body, left: size}
	if _, err := d.Put(r.Context(), key, body, contentType, size); err != nil {
		problem(w, http.StatusBadRequest, "the body was not stored: it must be exactly the signed size")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// exactReader fails at the end unless exactly left bytes came, so that Put keeps nothing of a
// short body (a client that lied about Content-Length).
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left < 0 {
		return n, ErrTooLarge
	}
	if errors.Is(err, io.EOF) && e.left > 0 {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func (d *Disk) serveGet(w http.ResponseWriter, r *http.Request, key, filename string) {
	info, err := d.Stat(r.Context(), key)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			problem(w, http.StatusNotFound, "no object")
			return
		}
		problem(w, http.StatusInternalServerError, "the object could not be read")
		return
	}
	rc, err := d.Open(r.Context(), key)
	if err != nil {
		problem(w, http.StatusNotFound, "no object")
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("Cache-Control", "private, max-age=60")
	if filename != "" {
		h.Set("Content-Disposition", attachment(filename))
	}
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.ModTime, rs)
		return
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, rc)
	}
}
