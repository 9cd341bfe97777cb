package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/blob/blobtest"
)

// The S3 tests run against gofakes3 (a real S3-protocol server, in memory) served over HTTP.
// gofakes3 v1.2.0 verifies no signature and no expiry: on its own it would accept a URL edited
// to another key, a longer body, another content type or an expired URL (checked by disabling
// the verifier: the refusal cases of testPresign then fail). Those refusals are therefore made by
// blobtest's SigV4 query-signature verifier in front of it, which re-signs each presigned request
// with the AWS SDK signer: what they prove is that our URLs bind key, method, length, type,
// encryption headers and expiry into the signature the way S3 checks it, not that any
// particular server enforces it.

func newS3(t *testing.T, mod func(*blob.S3Options)) (*blob.S3, *blobtest.Server) {
	t.Helper()
	srv := blobtest.NewServer(t)
	o := srv.Options("test")
	o.PartSize = 5 << 20 // S3's minimum, so that multipart uploads are cheap to reach
	if mod != nil {
		mod(&o)
	}
	return srv.NewS3(t, o), srv
}

func TestS3Contract(t *testing.T) {
	s, _ := newS3(t, nil)
	testStore(t, s)
}

func TestS3Presign(t *testing.T) {
	s, _ := newS3(t, nil)
	testPresign(t, s)
}

// TestS3KeysLiveUnderThePrefix: the bucket holds Prefix+key, and nothing outside the prefix is
// reachable through the store.
func TestS3KeysLiveUnderThePrefix(t *testing.T) {
	ctx := context.Background()
	s, _ := newS3(t, nil)
	_, err := s.Put(ctx, "logos/o1/l.png", strings.NewReader("png"), "image/png", 0)
	require.NoError(t, err)
	_, err = s.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(blobtest.Bucket), Key: aws.String("test/logos/o1/l.png")})
	require.NoError(t, err)
	_, err = s.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(blobtest.Bucket), Key: aws.String("other/x"), Body: strings.NewReader("x")})
	require.NoError(t, err)
	_, err = s.Stat(ctx, "other/x")
	assert.ErrorIs(t, err, blob.ErrNotFound)
}

// TestS3Multipart: an object longer than one part goes up as a multipart upload of part-sized
// pieces and reads back whole; one that passes the limit mid-way is aborted (no upload left
// billed) and the old object stays.
func TestS3Multipart(t *testing.T) {
	ctx := context.Background()
	s, srv := newS3(t, nil)
	big := make([]byte, 12<<20)
	_, err := rand.Read(big)
	require.NoError(t, err)

	n, err := s.Put(ctx, "videos/o1/v.mp4", bytes.NewReader(big), "video/mp4", int64(len(big)))
	require.NoError(t, err)
	assert.EqualValues(t, len(big), n)
	rc, err := s.Open(ctx, "videos/o1/v.mp4")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	assert.True(t, bytes.Equal(big, got), "content read back whole")
	info, err := s.Stat(ctx, "videos/o1/v.mp4")
	require.NoError(t, err)
	assert.Equal(t, "video/mp4", info.ContentType)

	var parts []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut && r.Query.Has("partNumber") {
			parts = append(parts, r.Header.Get("Content-Length"))
		}
	}
	assert.Equal(t, []string{"5242880", "5242880", "2097152"}, parts, "12 MiB in parts of 5 MiB")

	_, err = s.Put(ctx, "videos/o1/v.mp4", bytes.NewReader(big), "video/mp4", 7<<20)
	assert.ErrorIs(t, err, blob.ErrTooLarge)
	info, err = s.Stat(ctx, "videos/o1/v.mp4")
	require.NoError(t, err)
	assert.EqualValues(t, len(big), info.Size, "the old object stays")
	aborted := false
	for _, r := range srv.Requests() {
		aborted = aborted || (r.Method == http.MethodDelete && r.Query.Has("uploadId"))
	}
	assert.True(t, aborted, "the multipart upload was aborted")
	ups, err := s.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(blobtest.Bucket)})
	require.NoError(t, err)
	assert.Empty(t, ups.Uploads, "no upload left open")
}

// TestS3ServerSideEncryption: the SSE option travels as x-amz-server-side-encryption on every
// write (single, multipart, presigned, where it is a signed header the client must send).
func TestS3ServerSideEncryption(t *testing.T) {
	ctx := context.Background()
	s, srv := newS3(t, func(o *blob.S3Options) { o.SSE = "AES256" })
	_, err := s.Put(ctx, "documents/o1/small.pdf", strings.NewReader("pdf"), "application/pdf", 0)
	require.NoError(t, err)
	_, err = s.Put(ctx, "documents/o1/big.bin", bytes.NewReader(make([]byte, 6<<20)), "application/octet-stream", 0)
	require.NoError(t, err)
	writes := 0
	for _, r := range srv.Requests() {
		if (r.Method == http.MethodPut && !r.Query.Has("partNumber")) || (r.Method == http.MethodPost && r.Query.Has("uploads")) {
			if strings.HasPrefix(r.Path, "/"+blobtest.Bucket+"/") {
				writes++
				assert.Equal(t, "AES256", r.Header.Get("X-Amz-Server-Side-Encryption"), "%s %s", r.Method, r.Path)
			}
		}
	}
	assert.Equal(t, 2, writes, "PutObject and CreateMultipartUpload")
	head, err := s.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(blobtest.Bucket), Key: aws.String("test/documents/o1/small.pdf")})
	require.NoError(t, err)
	assert.EqualValues(t, "AES256", head.ServerSideEncryption, "stored with the object")

	p, err := s.PresignPut(ctx, "documents/o1/up.pdf", "application/pdf", 3, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "AES256", p.Headers["X-Amz-Server-Side-Encryption"])
	u, err := url.Parse(p.URL)
	require.NoError(t, err)
	assert.Contains(t, strings.Split(u.Query().Get("X-Amz-SignedHeaders"), ";"), "x-amz-server-side-encryption")
	res, _ := do(t, p, []byte("pdf"), func(r *http.Request) { r.Header.Del("X-Amz-Server-Side-Encryption") })
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "an upload cannot drop the encryption")
	res, body := do(t, p, []byte("pdf"), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)

	kms, _ := newS3(t, func(o *blob.S3Options) { o.SSE = "aws:kms"; o.KMSKeyID = "arn:aws:kms:us-east-1:111122223333:key/test" })
	p, err = kms.PresignPut(ctx, "documents/o1/k.pdf", "application/pdf", 3, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "aws:kms", p.Headers["X-Amz-Server-Side-Encryption"])
	assert.Equal(t, "arn:aws:kms:us-east-1:111122223333:key/test", p.Headers["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"])
}

// TestS3PresignedURLShape: what the URL itself carries: a short expiry, the signed headers that
// bind size and type, the key under the prefix, and no secret.
func TestS3PresignedURLShape(t *testing.T) {
	ctx := context.Background()
	s, _ := newS3(t, nil)
	p, err := s.PresignPut(ctx, "images/o1/a.webp", "image/webp", 1234, 5*time.Minute)
	require.NoError(t, err)
	u, err := url.Parse(p.URL)
	require.NoError(t, err)
	q := u.Query()
	assert.Equal(t, "300", q.Get("X-Amz-Expires"))
	assert.Equal(t, "AWS4-HMAC-SHA256", q.Get("X-Amz-Algorithm"))
	assert.Equal(t, "content-length;content-type;host", q.Get("X-Amz-SignedHeaders"))
	assert.Equal(t, "/"+blobtest.Bucket+"/test/images/o1/a.webp", u.Path)
	assert.Equal(t, map[string]string{"Content-Length": "1234", "Content-Type": "image/webp"}, p.Headers)
	assert.NotContains(t, p.URL, blobtest.SecretKey)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), p.ExpiresAt, 2*time.Second)

	g, err := s.PresignGet(ctx, "images/o1/a.webp", time.Minute, "")
	require.NoError(t, err)
	gu, err := url.Parse(g.URL)
	require.NoError(t, err)
	assert.Equal(t, "60", gu.Query().Get("X-Amz-Expires"))
	assert.Equal(t, "host", gu.Query().Get("X-Amz-SignedHeaders"))
	assert.Empty(t, g.Headers)

	_, err = s.PresignGet(ctx, "images/o1/a.webp", blob.MaxPresignTTL+time.Second, "")
	assert.ErrorIs(t, err, blob.ErrInvalidPresign)
}
