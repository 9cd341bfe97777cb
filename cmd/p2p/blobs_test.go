package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/blob/blobtest"
)

// blobsEnv configures a disk directory and the S3 server (gofakes3 over HTTP).
func blobsEnv(srv *blobtest.Server, dir, prefix string) []string {
	return []string{
		"P2P_ENV=test",
		"P2P_BLOB_DIR=" + dir,
		"P2P_BLOB_S3_ENDPOINT=" + srv.URL,
		"P2P_BLOB_S3_BUCKET=" + blobtest.Bucket,
		"P2P_BLOB_S3_PREFIX=" + prefix,
		"P2P_BLOB_S3_ACCESS_KEY=" + blobtest.AccessKey,
		"P2P_BLOB_S3_SECRET_KEY=" + blobtest.SecretKey,
		"P2P_BLOB_S3_PATH_STYLE=true",
	}
}

func p2pRun(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, env, &out, &errb)
	return code, out.String(), errb.String()
}

// TestBlobsMigrate copies a disk directory to S3 (gofakes3 over HTTP) through the command:
// every object with its bytes and content type, under the prefix, bookkeeping files left
// behind; a second run copies nothing; after an interruption (simulated by objects already in
// the bucket, one of them truncated) only the missing and the different-sized are copied.
func TestBlobsMigrate(t *testing.T) {
	ctx := context.Background()
	srv := blobtest.NewServer(t)
	dir := t.TempDir()
	disk, err := blob.NewDisk(dir)
	require.NoError(t, err)
	t.Cleanup(func() { disk.Close() })

	big := make([]byte, 9<<20) // more than one part of the S3 backend's multipart upload
	_, err = rand.Read(big)
	require.NoError(t, err)
	objects := map[string]struct {
		body []byte
		ct   string
	}{
		"avatars/o1/a.jpg":        {[]byte("jpeg bytes"), "image/jpeg"},
		"documents/o1/r.pdf":      {[]byte("%PDF-1.7"), "application/pdf"},
		"attachments/c1/empty":    {nil, "text/plain"},
		"videos/o2/v.mp4":         {big, "video/mp4"},
		"images/o3/x/y/card.webp": {[]byte("RIFF....WEBP"), "image/webp"},
	}
	for key, o := range objects {
		_, err := disk.Put(ctx, key, bytes.NewReader(o.body), o.ct, 0)
		require.NoError(t, err)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "avatars", ".tmp-leftover"), []byte("x"), 0o600))

	env := blobsEnv(srv, dir, "hub")
	code, out, errs := p2pRun(t, env, "blobs", "ensure-bucket")
	require.Equal(t, exitOK, code, "%s%s", out, errs)
	assert.Contains(t, out, "bucket "+blobtest.Bucket+" ready")

	code, out, errs = p2pRun(t, env, "blobs", "migrate", "--progress-every", "2", "--concurrency", "3")
	require.Equal(t, exitOK, code, "%s%s", out, errs)
	assert.Contains(t, out, "blobs: copying "+dir+" to s3://"+blobtest.Bucket+"/hub/")
	assert.Contains(t, out, "blobs: 2/5 (")
	assert.Contains(t, out, "blobs: 4/5 (")
	total := 0
	for _, o := range objects {
		total += len(o.body)
	}
	assert.Contains(t, out, "blobs: done: 5 objects: copied 5 ("+strconv.Itoa(total)+" bytes), skipped 0 already present, failed 0")
	assert.Empty(t, errs)

	dst := srv.NewS3(t, srv.Options("hub"))
	for key, o := range objects {
		info, err := dst.Stat(ctx, key)
		require.NoError(t, err, key)
		assert.Equal(t, o.ct, info.ContentType, key)
		rc, err := dst.Open(ctx, key)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(o.body, got), "%s: the same bytes", key)
	}
	list, err := dst.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(blobtest.Bucket)})
	require.NoError(t, err)
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	assert.ElementsMatch(t, []string{"hub/avatars/o1/a.jpg", "hub/documents/o1/r.pdf", "hub/attachments/c1/empty",
		"hub/videos/o2/v.mp4", "hub/images/o3/x/y/card.webp"}, keys, "under the prefix; no bookkeeping file")

	code, out, _ = p2pRun(t, env, "blobs", "migrate")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "copied 0 (0 bytes), skipped 5 already present", "a second run copies nothing")

	// Resume: a new upload since, and an object the first run left truncated.
	_, err = disk.Put(ctx, "avatars/o4/new.png", strings.NewReader("png"), "image/png", 0)
	require.NoError(t, err)
	_, err = dst.Put(ctx, "documents/o1/r.pdf", strings.NewReader("%PDF"), "application/pdf", 0)
	require.NoError(t, err)
	code, out, _ = p2pRun(t, env, "blobs", "migrate")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "6 objects: copied 2 (11 bytes), skipped 4 already present, failed 0")
	info, err := dst.Stat(ctx, "documents/o1/r.pdf")
	require.NoError(t, err)
	assert.EqualValues(t, len("%PDF-1.7"), info.Size, "the truncated copy was replaced")
}

// TestBlobsMigrateFailures: an object the server refuses is reported, the others are copied, and
// the command exits 1; without a bucket it is a usage error (exit 2).
func TestBlobsMigrateFailures(t *testing.T) {
	ctx := context.Background()
	srv := blobtest.NewServer(t)
	dir := t.TempDir()
	disk, err := blob.NewDisk(dir)
	require.NoError(t, err)
	t.Cleanup(func() { disk.Close() })
	_, err = disk.Put(ctx, "a/ok", strings.NewReader("ok"), "text/plain", 0)
	require.NoError(t, err)
	// A key longer than S3 allows once the prefix is added: the server refuses it.
	long := strings.TrimSuffix(strings.Repeat(strings.Repeat("k", 199)+"/", 6), "/")[:blob.MaxKeyLen-20]
	require.True(t, blob.ValidKey(long))
	_, err = disk.Put(ctx, long, strings.NewReader("x"), "text/plain", 0)
	require.NoError(t, err)

	env := blobsEnv(srv, dir, "a-prefix-that-makes-keys-too-long")
	code, out, errs := p2pRun(t, env, "blobs", "ensure-bucket")
	require.Equal(t, exitOK, code, "%s%s", out, errs)
	code, out, errs = p2pRun(t, env, "blobs", "migrate")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "2 objects: copied 1 (2 bytes), skipped 0 already present, failed 1")
	assert.Contains(t, errs, "blobs: "+long+":")
	assert.Contains(t, errs, "1 objects were not copied")

	code, _, errs = p2pRun(t, []string{"P2P_ENV=test", "P2P_BLOB_DIR=" + dir}, "blobs", "migrate")
	assert.Equal(t, exitConfig, code)
	assert.Contains(t, errs, "P2P_BLOB_S3_BUCKET (blob.s3_bucket): is required")
}

// TestEnsureBucketAllowsTheWebApp: ensure-bucket sets the bucket's CORS rules, so a page of the
// web app (app.website_domain, or each --cors-origin) passes the browser's preflight for a
// presigned PUT with its Content-Type and reads the answers; a page of any other site is refused.
func TestEnsureBucketAllowsTheWebApp(t *testing.T) {
	srv := blobtest.NewServer(t)
	preflight := func(origin, method, headers string) *http.Response {
		req, err := http.NewRequest(http.MethodOptions, srv.URL+"/"+blobtest.Bucket+"/uploads/org/file", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	const app = "https://app.p2p.test"
	assert.Equal(t, http.StatusForbidden, preflight(app, http.MethodPut, "content-type").StatusCode, "no rules yet: refused, as S3 does")

	env := append(blobsEnv(srv, t.TempDir(), ""), "P2P_APP_WEBSITE_DOMAIN="+app)
	code, out, errs := p2pRun(t, env, "blobs", "ensure-bucket")
	require.Equal(t, exitOK, code, "%s%s", out, errs)
	assert.Contains(t, out, "blobs: pages of "+app+" may upload to it and read from it (CORS)")

	res := preflight(app, http.MethodPut, "content-type,x-amz-server-side-encryption")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, app, res.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, res.Header.Get("Access-Control-Allow-Methods"), "PUT")
	assert.Equal(t, http.StatusOK, preflight(app, http.MethodGet, "").StatusCode)
	assert.Equal(t, http.StatusForbidden, preflight("https://evil.example", http.MethodPut, "content-type").StatusCode)
	assert.Equal(t, http.StatusForbidden, preflight(app, http.MethodDelete, "").StatusCode, "deleting is not the pages' business")
	assert.Equal(t, http.StatusForbidden, preflight(app, http.MethodPut, "authorization").StatusCode)

	// Other origins, named; the earlier rules are replaced.
	code, out, errs = p2pRun(t, env, "blobs", "ensure-bucket", "--cors-origin", "https://a.test", "--cors-origin", "https://b.test")
	require.Equal(t, exitOK, code, "%s%s", out, errs)
	assert.Equal(t, http.StatusOK, preflight("https://b.test", http.MethodPut, "content-type").StatusCode)
	assert.Equal(t, http.StatusForbidden, preflight(app, http.MethodPut, "content-type").StatusCode)
}
