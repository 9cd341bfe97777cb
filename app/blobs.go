package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/rest"
)

// BlobsPath is where the hub serves the disk backend's presigned URLs. It lies outside /api/v1:
// these are not API resources but signed object URLs, reached without a session, like a bucket's.
const BlobsPath = "/blobs/"

// maxPresignedPut bounds one presigned upload to the disk backend (S3's single PUT limit); the
// signed size is enforced exactly below it.
const maxPresignedPut = 5 << 30

// OpenBlobs builds the file storage configuration chose. close releases it.
func OpenBlobs(ctx context.Context, cfg config.Config) (objs blob.Objects, close func(), err error) {
	switch cfg.Blob.Backend {
	case "s3":
		s, err := blob.NewS3(ctx, s3Options(cfg.Blob.S3))
		if err != nil {
			return nil, nil, err
		}
		return s, func() {}, nil
	default:
		d, err := OpenDisk(cfg)
		if err != nil {
			return nil, nil, err
		}
		return d, func() { _ = d.Close() }, nil
	}
}

// OpenDisk opens the disk backend with URL signing.
func OpenDisk(cfg config.Config) (*blob.Disk, error) {
	secret := []byte(cfg.Blob.PresignSecret)
	if len(secret) == 0 {
		// No shared secret: URLs signed by this process only (one node; lost on restart).
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("presign secret: %w", err)
		}
	}
	return blob.NewDisk(cfg.Blob.Dir, blob.WithURLSigning(strings.TrimSuffix(cfg.App.APIDomain, "/")+BlobsPath, secret))
}

func s3Options(c config.S3) blob.S3Options {
	return blob.S3Options{
		Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, Prefix: c.Prefix,
		AccessKey: c.AccessKey, SecretKey: c.SecretKey, PathStyle: c.PathStyle, SSE: c.SSE, KMSKeyID: c.KMSKeyID,
	}
}

// mountBlobs serves the disk backend's presigned URLs; an S3 backend's point at the bucket.
func mountBlobs(router *rest.Router, objs blob.Objects) {
	d, ok := objs.(*blob.Disk)
	if !ok {
		return
	}
	route := BlobsPath + "*key"
	router.LimitBody(route, maxPresignedPut)
	serve := func(c *gin.Context) {
		d.ServeSigned(c.Writer, c.Request, strings.TrimPrefix(c.Param("key"), "/"))
	}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut} {
		router.Handle(m, route, serve)
	}
}
