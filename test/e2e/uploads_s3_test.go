package e2e

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	_ "golang.org/x/image/webp"

	"github.com/p2psandbox/hub/domain/media/mediatest"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/blob/blobtest"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// s3Hub starts the binary with the S3 backend on an S3-protocol server inside this test process
// (gofakes3 behind blobtest's SigV4 check of presigned URLs), its bucket created beforehand as an
// operator would. The worker runs inside serve, so completed uploads are processed.
func s3Hub(t *testing.T) (*harness.Server, *blobtest.Server, *blob.S3) {
	t.Helper()
	s3srv := blobtest.NewServer(t)
	bucket := s3srv.NewS3(t, s3srv.Options(""))
	env := harness.NewEnv(t)
	srv := env.Start(t,
		"P2P_APP_API_DOMAIN="+apiDomain,
		"P2P_RUN_WORKER=true",
		"P2P_BLOB_BACKEND=s3",
		"P2P_BLOB_S3_ENDPOINT="+s3srv.URL,
		"P2P_BLOB_S3_REGION="+blobtest.Region,
		"P2P_BLOB_S3_BUCKET="+blobtest.Bucket,
		"P2P_BLOB_S3_ACCESS_KEY="+blobtest.AccessKey,
		"P2P_BLOB_S3_SECRET_KEY="+blobtest.SecretKey,
		"P2P_BLOB_S3_PATH_STYLE=true",
	)
	return srv, s3srv, bucket
}

// onBucket makes a presigned request as it was handed out. Unlike presigned (uploads_test.go), it
// does not point the URL at the hub: with S3 the signature binds the bucket's host.
func onBucket(t *testing.T, method, raw string, headers map[string]any, body []byte) ([]byte, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, raw, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v.(string))
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return b, res
}

// s3Upload asks for an upload and sends data by its presigned PUT, straight to the bucket.
func s3Upload(t *testing.T, s3srv *blobtest.Server, c *harness.Client, kind, contentType, name string, data []byte) string {
	t.Helper()
	res := c.Do(http.MethodPost, "/api/v1/uploads", map[string]any{
		"kind": kind, "contentType": contentType, "size": len(data), "name": name})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	body := res.JSON()
	up := body["upload"].(map[string]any)
	require.True(t, strings.HasPrefix(up["url"].(string), s3srv.URL+"/"+blobtest.Bucket+"/"), "the PUT goes to the bucket: %s", up["url"])
	headers, _ := up["headers"].(map[string]any)
	b, put := onBucket(t, up["method"].(string), up["url"].(string), headers, data)
	require.Equal(t, http.StatusOK, put.StatusCode, "presigned PUT: %s", b)
	return body["file"].(map[string]any)["id"].(string)
}

// objectsOf lists the bucket's keys that name the file id.
func objectsOf(t *testing.T, bucket *blob.S3, id string) []string {
	t.Helper()
	out, err := bucket.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(blobtest.Bucket)})
	require.NoError(t, err)
	var keys []string
	for _, o := range out.Contents {
		if strings.Contains(aws.ToString(o.Key), id) {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// TestDirectUploadsS3: the upload journey on the S3 backend. A photo with GPS goes up by a
// presigned PUT to the bucket, is verified at complete and processed by the worker; its sizes are
// read back by their presigned GETs from the bucket, decode, and carry no GPS; the original with
// the camera's metadata is gone from the bucket. HTML declared as a PNG is refused with its
// reason and nothing of it stays. A presigned GET stops working once its lifetime has passed.
func TestDirectUploadsS3(t *testing.T) {
	srv, s3srv, bucket := s3Hub(t)
	alice := seed.Founder(t, srv, "s3uploader")

	photo := mediatest.ExifJPEG(t, 2400, 1200, 6)
	require.Contains(t, string(photo), mediatest.GPSMarker, "the fixture carries GPS")
	id := s3Upload(t, s3srv, alice.Client, "image", "image/jpeg", "photo.jpg", photo)
	res := alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil)
	require.Equal(t, http.StatusAccepted, res.Status, res.String())

	f := awaitUpload(t, alice.Client, id)
	require.Equal(t, "ready", f["status"], f)
	assert.Equal(t, map[string]any{"width": 1200.0, "height": 2400.0}, f["meta"])
	vs := variantsOf(t, f)
	require.Len(t, vs, 6, vs)
	for key, v := range vs {
		raw := v["url"].(string)
		require.True(t, strings.HasPrefix(raw, s3srv.URL+"/"), "%s is served by the bucket: %s", key, raw)
		b, res := onBucket(t, http.MethodGet, raw, nil, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", key, b)
		assert.Equal(t, v["contentType"], res.Header.Get("Content-Type"), key)
		assert.Equal(t, v["size"], float64(len(b)), key)
		img, format, err := image.Decode(bytes.NewReader(b))
		require.NoError(t, err, key)
		assert.Equal(t, v["format"], format, key)
		assert.Equal(t, v["width"], float64(img.Bounds().Dx()), key)
		assert.Greater(t, img.Bounds().Dy(), img.Bounds().Dx(), "%s: orientation applied", key)
		// The EXIF block and its GPS IFD (whose datum is GPSMarker) are not re-encoded.
		assert.NotContains(t, string(b), mediatest.GPSMarker, "GPS leaked in "+key)
		assert.NotContains(t, string(b), "Exif", key)
	}
	stored := objectsOf(t, bucket, id)
	assert.Len(t, stored, 6, "the sizes, and not the original with its GPS: %v", stored)
	for _, k := range stored {
		assert.True(t, strings.HasPrefix(k, "files/"), "only processed sizes stay: %s", k)
	}

	t.Run("HTML declared as a PNG", func(t *testing.T) {
		page := []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>")
		id := s3Upload(t, s3srv, alice.Client, "image", "image/png", "cat.png", page)
		require.NotEmpty(t, objectsOf(t, bucket, id), "the PUT stored it")
		res := alice.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil)
		require.Equal(t, http.StatusUnsupportedMediaType, res.Status, res.String())
		assert.Contains(t, res.String(), "an HTML page")
		f := awaitUpload(t, alice.Client, id)
		require.Equal(t, "failed", f["status"])
		assert.Contains(t, f["error"], "an HTML page")
		assert.NotEmpty(t, f["errorAr"])
		assert.Empty(t, f["variants"])
		assert.Empty(t, objectsOf(t, bucket, id), "bytes of a refused file stayed in the bucket")
	})

	t.Run("a presigned GET expires", func(t *testing.T) {
		hero := vs["hero.jpeg"]
		raw := hero["url"].(string)
		expiresAt, err := time.Parse(time.RFC3339, hero["expiresAt"].(string))
		require.NoError(t, err)
		u, err := url.Parse(raw)
		require.NoError(t, err)
		lifetime, err := strconv.Atoi(u.Query().Get("X-Amz-Expires"))
		require.NoError(t, err)
		assert.WithinDuration(t, time.Now().Add(time.Duration(lifetime)*time.Second), expiresAt, time.Minute,
			"expiresAt is what the signature says")

		// The lifetime is signed: a URL that claims a longer one is refused.
		q := u.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(7*24*3600))
		longer := *u
		longer.RawQuery = q.Encode()
		b, res := onBucket(t, http.MethodGet, longer.String(), nil, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Contains(t, string(b), "SignatureDoesNotMatch")

		// The URL as handed out, a second after its lifetime.
		b, res = onBucket(t, http.MethodGet, raw, nil, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
		s3srv.Advance(time.Until(expiresAt) + 2*time.Second)
		b, res = onBucket(t, http.MethodGet, raw, nil, nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Contains(t, string(b), "Request has expired")
	})
}

// TestExportLinkS3: an export's download link hands over a presigned GET of the bucket (the bytes
// never pass through the hub), which serves the file as an attachment until its two minutes
// pass, then is refused.
func TestExportLinkS3(t *testing.T) {
	srv, s3srv, _ := s3Hub(t)
	admin := seed.Founder(t, srv, "s3exporter")
	st := exportReady(t, admin, map[string]any{"kind": "members-xlsx"})
	fromBucket := func(loc string) string {
		require.True(t, strings.HasPrefix(loc, s3srv.URL+"/"+blobtest.Bucket+"/"), "the link leads to the bucket: %s", loc)
		return loc
	}
	book, err := excelize.OpenReader(bytes.NewReader(download(t, admin, st, fromBucket)))
	require.NoError(t, err)
	rows, err := book.GetRows(book.GetSheetName(0))
	require.NoError(t, err)
	assert.Len(t, rows, 2, "a header and the founder")

	res := admin.NoRedirects().Do(http.MethodGet, st["downloadUrl"].(string), nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.String())
	loc := res.Header.Get("Location")
	s3srv.Advance(3 * time.Minute)
	b, got := onBucket(t, http.MethodGet, loc, nil, nil)
	assert.Equal(t, http.StatusForbidden, got.StatusCode, "an expired handoff is refused: %s", b)
}
