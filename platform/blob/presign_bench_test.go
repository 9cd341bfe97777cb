package blob_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/blob/blobtest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkPresign: a presigned upload and a presigned download of one object, with the disk
// backend's HMAC signing and the S3 backend's SigV4 (the AWS SDK's presigner; signing is local,
// no request is made), as POST /uploads and GET /files/{id} ask for them:
//
//	go test ./platform/blob/ -run '^$' -bench Presign -benchtime 20000x -count 3
func BenchmarkPresign(b *testing.B) {
	ctx := context.Background()
	disk, err := blob.NewDisk(b.TempDir(), blob.WithURLSigning("http://hub.local/blobs/", bytes.Repeat([]byte("k"), 32)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { disk.Close() })
	srv := blobtest.NewServer(b)
	backends := map[string]blob.Presigner{"disk": disk, "s3": srv.NewS3(b, srv.Options("uploads/"))}
	for name, p := range backends {
		b.Run(name+"/put", func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				_, err := p.PresignPut(ctx, "org/0193/file-original.jpg", "image/jpeg", 12<<20, 15*time.Minute)
				return err
			})
		})
		b.Run(name+"/get", func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				_, err := p.PresignGet(ctx, "org/0193/file-card.webp", 15*time.Minute, "report.pdf")
				return err
			})
		})
	}
}
