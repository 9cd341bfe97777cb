// Package blobtest runs a real S3-protocol server inside a Go test: gofakes3 (an embeddable S3
// server, in memory) behind an httptest server, so the S3 backend is exercised over HTTP with the
// AWS SDK's own requests, without installing anything.
//
// gofakes3 does not authenticate requests: it ignores Authorization headers and presigned-URL
// query signatures alike. So that presigned URLs are checked as S3 checks them, the server puts a
// SigV4 query-signature verifier in front of gofakes3 (Server.verify): a presigned request is
// re-signed with the test credentials from what actually arrived (method, path, query, the headers
// it claims as signed, its Content-Length) and refused with 403 unless the signatures match and
// X-Amz-Date + X-Amz-Expires has not passed. The re-signing uses the AWS SDK's own signer, so this
// proves that our URLs bind method, key, content type, length and expiry under SigV4; it cannot
// catch a bug in the SDK signer itself. Requests signed with an Authorization header (the SDK's
// ordinary calls) are passed through unchecked.
//
// Only tests import this package; it is not linked into the binaries.
package blobtest

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/p2psandbox/hub/platform/blob"
)

// Credentials and region the server accepts.
const (
	AccessKey = "AKIATESTBLOBSTORE"
	SecretKey = "test-secret-key-for-blobtest-only"
	Region    = "us-east-1"
	Bucket    = "hub-test"
)

// Request is one request the server received (headers as sent).
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
}

// Server is an S3 endpoint for one test.
type Server struct {
	URL string

	mu   sync.Mutex
	reqs []Request
	skew time.Duration // Advance: how far the server's clock runs ahead
	// corsRules is the bucket's CORS configuration (cors.go); nil: none, every preflight refused.
	corsRules *corsConfig
}

// NewServer starts a server, stopped when t ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	fake := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true))
	s := &Server{}
	srv := httptest.NewServer(s.cors(s.verify(fake.Server())))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Advance moves the server's clock forward by d, as seen by its expiry check: a presigned URL
// whose lifetime d covers is then refused as expired, without the test waiting out the lifetime
// or tampering with the URL.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew += d
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.skew)
}

// Options are S3Options for this server (path style, the test credentials).
func (s *Server) Options(prefix string) blob.S3Options {
	return blob.S3Options{
		Endpoint: s.URL, Region: Region, Bucket: Bucket, Prefix: prefix,
		AccessKey: AccessKey, SecretKey: SecretKey, PathStyle: true,
	}
}

// NewS3 is an S3 store on this server with its bucket created.
func (s *Server) NewS3(t testing.TB, o blob.S3Options) *blob.S3 {
	t.Helper()
	st, err := blob.NewS3(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// signerKeys are the query parameters the signer adds (the rest were signed).
var signerKeys = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"}

func (s *Server) verify(next http.Handler) http.Handler {
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
		s.mu.Unlock()

		q := r.URL.Query()
		got := q.Get("X-Amz-Signature")
		if got == "" {
			if r.Header.Get("Authorization") == "" {
				denied(w, "AccessDenied", "anonymous request")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		at, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
		expires, err2 := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || err2 != nil || expires <= 0 || expires > 7*24*3600 {
			denied(w, "AuthorizationQueryParametersError", "bad X-Amz-Date or X-Amz-Expires")
			return
		}
		if s.now().After(at.Add(time.Duration(expires) * time.Second)) {
			denied(w, "AccessDenied", "Request has expired")
			return
		}
		if !strings.HasPrefix(q.Get("X-Amz-Credential"), AccessKey+"/") {
			denied(w, "InvalidAccessKeyId", "unknown access key")
			return
		}

		// The request as it arrived, minus what the signer adds: re-sign it.
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		for _, k := range signerKeys {
			q.Del(k)
		}
		u.RawQuery = q.Encode()
		re, err := http.NewRequest(r.Method, u.String(), nil)
		if err != nil {
			denied(w, "SignatureDoesNotMatch", "bad url")
			return
		}
		re.Host = r.Host
		re.ContentLength = r.ContentLength
		claimed := r.URL.Query().Get("X-Amz-SignedHeaders")
		for _, h := range strings.Split(claimed, ";") {
			if h == "host" || h == "content-length" {
				continue
			}
			for _, v := range r.Header.Values(h) {
				re.Header.Add(h, v)
			}
		}
		signed, _, err := signer.PresignHTTP(r.Context(), creds, re, "UNSIGNED-PAYLOAD", "s3", Region, at)
		if err != nil {
			denied(w, "SignatureDoesNotMatch", err.Error())
			return
		}
		want, err := url.Parse(signed)
		if err != nil || want.Query().Get("X-Amz-Signature") != got || want.Query().Get("X-Amz-SignedHeaders") != claimed {
			denied(w, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func denied(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>` + html.EscapeString(msg) + `</Message></Error>`))
}
