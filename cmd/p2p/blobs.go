package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/config"
)

// blobsCmd holds the file storage's operator commands: moving the disk backend's objects to S3
// and creating the bucket.
func blobsCmd(load func() (*setup, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "blobs migrate|ensure-bucket",
		Short: "File storage: copy the disk backend's objects to S3, create the S3 bucket",
	}
	var every, workers int
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Copy every object of blob.dir to the blob.s3_* bucket (resumable: objects already there with the same size are skipped)",
		Long: `Copies every object of the disk backend (blob.dir) to the S3 bucket configured by the
blob.s3_* keys, under blob.s3_prefix, with its content type. It can be stopped and run again at
any time: an object already in the bucket with the same size is skipped, so a second run copies
only what the first did not. Nothing is deleted on either side. Run it before switching
blob.backend to s3, and once more after the switch while the hubs are stopped (or read-only) to
catch uploads made in between.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			src, dst, err := openMigration(cmd.Context(), a.cfg)
			if err != nil {
				return err
			}
			defer src.Close()
			prefix := a.cfg.Blob.S3.Prefix
			if prefix != "" && !strings.HasSuffix(prefix, "/") {
				prefix += "/"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "blobs: copying %s to s3://%s/%s\n", a.cfg.Blob.Dir, a.cfg.Blob.S3.Bucket, prefix)
			st, err := migrateBlobs(cmd.Context(), src, dst, cmd.OutOrStdout(), cmd.ErrOrStderr(), every, workers)
			if err != nil {
				return err
			}
			if st.failed > 0 {
				return fmt.Errorf("blobs: %d objects were not copied (listed above); run the command again", st.failed)
			}
			return nil
		},
	}
	migrate.Flags().IntVar(&every, "progress-every", 100, "print progress after this many objects")
	migrate.Flags().IntVar(&workers, "concurrency", 4, "objects copied at the same time")

	var (
		wait    time.Duration
		origins []string
		noCORS  bool
	)
	ensure := &cobra.Command{
		Use: "ensure-bucket",
		Short: "Create the blob.s3_bucket bucket if it does not exist (retrying while the server starts) and " +
			"let the web app's pages use its presigned URLs (CORS)",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			s3, err := openS3(cmd.Context(), a.cfg)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), wait)
			defer cancel()
			for {
				err = s3.EnsureBucket(ctx)
				if err == nil && !noCORS {
					if len(origins) == 0 {
						origins = []string{a.cfg.App.WebsiteDomain}
					}
					err = s3.AllowBrowsers(ctx, origins)
					if errors.Is(err, blob.ErrNoBucketCORS) {
						fmt.Fprintf(cmd.ErrOrStderr(), "blobs: %v; allow %s in the server's own CORS settings\n", err, strings.Join(origins, ", "))
						noCORS, err = true, nil
					}
				}
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "blobs: bucket %s ready\n", a.cfg.Blob.S3.Bucket)
					if !noCORS {
						fmt.Fprintf(cmd.OutOrStdout(), "blobs: pages of %s may upload to it and read from it (CORS)\n", strings.Join(origins, ", "))
					}
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("blobs: bucket %s not ready after %s: %w", a.cfg.Blob.S3.Bucket, wait, err)
				case <-time.After(time.Second):
				}
			}
		},
	}
	ensure.Flags().DurationVar(&wait, "wait", time.Minute, "how long to retry while the S3 server is not answering")
	ensure.Flags().StringSliceVar(&origins, "cors-origin", nil,
		"an origin whose pages may use the presigned URLs (repeatable; default app.website_domain)")
	ensure.Flags().BoolVar(&noCORS, "no-cors", false, "leave the bucket's CORS rules as they are (the operator manages them)")
	cmd.AddCommand(migrate, ensure)
	return cmd
}

func openS3(ctx context.Context, cfg config.Config) (*blob.S3, error) {
	c := cfg.Blob.S3
	if c.Bucket == "" {
		return nil, usageError{errors.New(config.EnvName("blob.s3_bucket") + " (blob.s3_bucket): is required")}
	}
	return blob.NewS3(ctx, blob.S3Options{
		Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, Prefix: c.Prefix,
		AccessKey: c.AccessKey, SecretKey: c.SecretKey, PathStyle: c.PathStyle, SSE: c.SSE, KMSKeyID: c.KMSKeyID,
	})
}

// openMigration opens the disk backend (without URL signing: nothing is presigned here) and the
// S3 one, whichever blob.backend names.
func openMigration(ctx context.Context, cfg config.Config) (*blob.Disk, blob.Store, error) {
	dst, err := openS3(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	src, err := blob.NewDisk(cfg.Blob.Dir)
	if err != nil {
		return nil, nil, err
	}
	return src, dst, nil
}

type migrationStats struct {
	total, copied, skipped, failed int
	bytes                          int64
}

func (s migrationStats) String() string {
	return fmt.Sprintf("%d objects: copied %d (%d bytes), skipped %d already present, failed %d",
		s.total, s.copied, s.bytes, s.skipped, s.failed)
}

// migrateBlobs copies every object of src that dst lacks (or holds with another size), with
// `workers` copies in flight, printing progress every `every` objects and a summary. An object
// that fails is reported on errw and counted; the others still go. The returned error is for what
// stops the whole run (the listing failed, the context ended).
func migrateBlobs(ctx context.Context, src *blob.Disk, dst blob.Store, out, errw io.Writer, every, workers int) (migrationStats, error) {
	var keys []string
	if err := src.Walk(ctx, func(key string) error { keys = append(keys, key); return nil }); err != nil {
		return migrationStats{}, err
	}
	workers = max(1, min(workers, len(keys)))
	st := migrationStats{total: len(keys)}
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	next := make(chan string)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range next {
				copied, n, err := copyBlob(ctx, src, dst, key)
				mu.Lock()
				done++
				switch {
				case err != nil:
					st.failed++
					fmt.Fprintf(errw, "blobs: %s: %v\n", key, err)
				case copied:
					st.copied++
					st.bytes += n
				default:
					st.skipped++
				}
				if every > 0 && done%every == 0 && done < len(keys) {
					fmt.Fprintf(out, "blobs: %d/%d (copied %d, skipped %d, failed %d)\n", done, len(keys), st.copied, st.skipped, st.failed)
				}
				mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for _, key := range keys {
		select {
		case next <- key:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		fmt.Fprintf(out, "blobs: interrupted after %d of %d; run again to resume\n", done, len(keys))
		return st, err
	}
	fmt.Fprintf(out, "blobs: done: %s\n", st)
	return st, nil
}

// copyBlob copies one object unless dst already has it with the same size.
func copyBlob(ctx context.Context, src *blob.Disk, dst blob.Store, key string) (copied bool, n int64, err error) {
	info, err := src.Stat(ctx, key)
	if err != nil {
		return false, 0, err
	}
	have, err := dst.Stat(ctx, key)
	switch {
	case err == nil && have.Size == info.Size:
		return false, 0, nil
	case err != nil && !errors.Is(err, blob.ErrNotFound):
		return false, 0, err
	}
	rc, err := src.Open(ctx, key)
	if err != nil {
		return false, 0, err
	}
	defer rc.Close()
	n, err = dst.Put(ctx, key, rc, info.ContentType, 0)
	if err != nil {
		return false, 0, err
	}
	if n != info.Size {
		return false, 0, fmt.Errorf("copied %d bytes of %d: the file changed during the copy; run again", n, info.Size)
	}
	return true, n, nil
}
