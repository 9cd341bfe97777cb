package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Options configures an S3 store.
type S3Options struct {
	Endpoint  string // empty: AWS's endpoint for Region
	Region    string
	Bucket    string
	Prefix    string // prepended to every key ("prod/"); a key's first segment is its kind
	AccessKey string // empty: the SDK's default credential chain
	SecretKey string
	PathStyle bool   // bucket in the path, as self-hosted servers want
	SSE       string // "" | AES256 | aws:kms
	KMSKeyID  string
	// PartSize is the size of one part of a multipart upload, and so the memory one Put holds
	// (default 8 MiB; S3's minimum is 5 MiB).
	PartSize int64
}

// S3 is an Objects on an S3 bucket (AWS or an S3-compatible server). Objects live under
// Prefix+key with their content type; Put streams through one part-sized buffer, so its memory
// does not grow with the object; presigned URLs are SigV4 query signatures that the server
// checks itself.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	o       S3Options
}

var _ Objects = (*S3)(nil)

const defaultPartSize = 8 << 20

// NewS3 builds the client. It does not contact the server.
func NewS3(ctx context.Context, o S3Options) (*S3, error) {
	if o.Bucket == "" {
		return nil, errors.New("blob: s3: no bucket")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.PartSize == 0 {
		o.PartSize = defaultPartSize
	}
	if o.PartSize < 5<<20 {
		return nil, errors.New("blob: s3: the part size must be at least 5 MiB")
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	loads := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(o.Region)}
	if o.AccessKey != "" {
		loads = append(loads, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("blob: s3: loading the AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		// Checksums only where S3 requires them: the default (CRC32 in an aws-chunked trailer)
		// is not understood by every S3-compatible server, and it would enter presigned URLs.
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &S3{client: client, presign: s3.NewPresignClient(client), o: o}, nil
}

// Client is the underlying SDK client (tests and tools).
func (s *S3) Client() *s3.Client { return s.client }

// EnsureBucket creates the bucket when it does not exist (development and tests; production
// buckets are made by their operators, with their policies).
func (s *S3) EnsureBucket(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.o.Bucket}); err == nil {
		return nil
	}
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.o.Bucket})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("blob: s3: creating bucket %s: %w", s.o.Bucket, err)
	}
	return nil
}

// AllowBrowsers sets the bucket's CORS rules so that pages of origins may use the presigned URLs
// we hand out: PUT (direct uploads, with the Content-Type and x-amz-* headers signed into them),
// GET and HEAD (downloads, image tags that read pixels). The rules replace any the bucket had.
func (s *S3) AllowBrowsers(ctx context.Context, origins []string) error {
	if len(origins) == 0 {
		return errors.New("blob: s3: no origin to allow")
	}
	_, err := s.client.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket: &s.o.Bucket,
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedOrigins: origins,
			AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPut},
			AllowedHeaders: []string{"Content-Type", "x-amz-*"},
			ExposeHeaders:  []string{"ETag", "Content-Length"},
			MaxAgeSeconds:  aws.Int32(3600),
		}}},
	})
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NotImplemented" || ae.ErrorCode() == "MethodNotAllowed") {
		return fmt.Errorf("%w: %s", ErrNoBucketCORS, ae.ErrorCode())
	}
	if err != nil {
		return fmt.Errorf("blob: s3: setting the CORS rules of %s: %w", s.o.Bucket, err)
	}
	return nil
}

// ErrNoBucketCORS says the server takes no bucket CORS rules: some S3-compatible servers set CORS
// for every bucket in their own configuration instead (SeaweedFS's -s3.allowedOrigins).
var ErrNoBucketCORS = errors.New("blob: s3: the server takes no bucket CORS rules")

func (s *S3) name(key string) *string { return aws.String(s.o.Prefix + key) }

func (s *S3) sse() (types.ServerSideEncryption, *string) {
	if s.o.SSE == "" {
		return "", nil
	}
	var kms *string
	if s.o.SSE == string(types.ServerSideEncryptionAwsKms) && s.o.KMSKeyID != "" {
		kms = aws.String(s.o.KMSKeyID)
	}
	return types.ServerSideEncryption(s.o.SSE), kms
}

// notFound maps S3's answers for a missing object (404 NoSuchKey on GET, a bare 404 on HEAD).
func notFound(err error) error {
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound) ||
		(errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// Put implements Store. An object that fits one part goes up in one PutObject; a longer one as a
// multipart upload, one part-sized buffer at a time, completed only when all of it (and no more
// than maxSize) arrived, and aborted otherwise, so readers see the old object or the whole new one.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	buf := make([]byte, s.o.PartSize)
	n, last, err := readPart(r, buf)
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if maxSize > 0 && int64(n) > maxSize {
		return 0, fmt.Errorf("blob: put %s: %w (%d bytes)", key, ErrTooLarge, maxSize)
	}
	sse, kms := s.sse()
	if last {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.o.Bucket, Key: s.name(key), Body: bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)), ContentType: aws.String(contentType),
			ServerSideEncryption: sse, SSEKMSKeyId: kms,
		})
		if err != nil {
			return 0, fmt.Errorf("blob: put %s: %w", key, err)
		}
		return int64(n), nil
	}
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.o.Bucket, Key: s.name(key), ContentType: aws.String(contentType),
		ServerSideEncryption: sse, SSEKMSKeyId: kms,
	})
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: starting the upload: %w", key, err)
	}
	total, err := s.uploadParts(ctx, up.UploadId, key, r, buf, n, last, maxSize)
	if err != nil {
		// The parts uploaded so far are billed until aborted. The abort runs even when ctx ended.
		abort, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(abort, &s3.AbortMultipartUploadInput{Bucket: &s.o.Bucket, Key: s.name(key), UploadId: up.UploadId})
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	return total, nil
}

func (s *S3) uploadParts(ctx context.Context, id *string, key string, r io.Reader, buf []byte, n int, last bool, maxSize int64) (int64, error) {
	var (
		total int64
		parts []types.CompletedPart
	)
	for num := int32(1); ; num++ {
		total += int64(n)
		if maxSize > 0 && total > maxSize {
			return 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, maxSize)
		}
		if n > 0 || num == 1 {
			out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: &s.o.Bucket, Key: s.name(key), UploadId: id, PartNumber: aws.Int32(num),
				Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			})
			if err != nil {
				return 0, fmt.Errorf("part %d: %w", num, err)
			}
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		}
		if last {
			break
		}
		var err error
		if n, last, err = readPart(r, buf); err != nil {
			return 0, err
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.o.Bucket, Key: s.name(key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return 0, fmt.Errorf("completing the upload: %w", err)
	}
	return total, nil
}

// readPart fills buf from r; last reports that r ended.
func readPart(r io.Reader, buf []byte) (n int, last bool, err error) {
	n, err = io.ReadFull(r, buf)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	case err != nil:
		return 0, false, err
	}
	return n, false, nil
}

// Open implements Store. The body streams from the server.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.o.Bucket, Key: s.name(key)})
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, notFound(err))
	}
	return out.Body, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.o.Bucket, Key: s.name(key)})
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, notFound(err))
	}
	info := Info{Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType)}
	if out.LastModified != nil {
		info.ModTime = *out.LastModified
	}
	if info.ContentType == "" {
		info.ContentType = "application/octet-stream"
	}
	return info, nil
}

// Delete implements Store; S3 answers success for a missing key.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.o.Bucket, Key: s.name(key)}); err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, notFound(err))
	}
	return nil
}

// PresignPut implements Presigner: the content type and length are signed headers, so the
// server refuses a body of another size or type.
func (s *S3) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (Presigned, error) {
	if err := checkPresignPut(key, contentType, size, ttl); err != nil {
		return Presigned{}, fmt.Errorf("blob: presign put %s: %w", key, err)
	}
	sse, kms := s.sse()
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.o.Bucket, Key: s.name(key), ContentType: aws.String(contentType),
		ContentLength: aws.Int64(size), ServerSideEncryption: sse, SSEKMSKeyId: kms,
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return Presigned{}, fmt.Errorf("blob: presign put %s: %w", key, err)
	}
	return presigned(req.Method, req.URL, req.SignedHeader, ttl), nil
}

// PresignGet implements Presigner.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (Presigned, error) {
	if err := checkPresign(key, ttl); err != nil {
		return Presigned{}, fmt.Errorf("blob: presign get %s: %w", key, err)
	}
	if err := checkFilename(filename); err != nil {
		return Presigned{}, fmt.Errorf("blob: presign get %s: %w", key, err)
	}
	in := &s3.GetObjectInput{Bucket: &s.o.Bucket, Key: s.name(key)}
	if filename != "" {
		in.ResponseContentDisposition = aws.String(attachment(filename))
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return Presigned{}, fmt.Errorf("blob: presign get %s: %w", key, err)
	}
	return presigned(req.Method, req.URL, req.SignedHeader, ttl), nil
}

// presigned keeps the signed headers a client must send itself (not Host, which its HTTP client
// sets from the URL).
func presigned(method, url string, signed http.Header, ttl time.Duration) Presigned {
	p := Presigned{Method: method, URL: url, ExpiresAt: time.Now().Add(ttl).Truncate(time.Second)}
	names := make([]string, 0, len(signed))
	for name := range signed {
		if !strings.EqualFold(name, "Host") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if p.Headers == nil {
			p.Headers = map[string]string{}
		}
		p.Headers[http.CanonicalHeaderKey(name)] = signed.Get(name)
	}
	return p
}
