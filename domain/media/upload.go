package media

import (
	"bytes"
	"context"
	"time"
)

// Kinds of direct uploads (POST /uploads): the bytes go straight to object storage by a presigned
// PUT and are verified and processed afterwards.
const (
	KindImage    Kind = "image"    // a photo or picture: responsive sizes in WebP and JPEG
	KindVideo    Kind = "video"    // MP4 or WebM: duration, poster frame and preview image
	KindDocument Kind = "document" // PDF: page count and first-page thumbnail
)

// Uploading is the state of a direct upload whose bytes have not been confirmed yet.
const Uploading Status = "uploading"

// UploadKinds are the kinds POST /uploads accepts.
var UploadKinds = []Kind{KindImage, KindVideo, KindDocument}

// IsUpload reports whether k is a direct upload's kind (not an avatar or logo).
func IsUpload(k Kind) bool { return k == KindImage || k == KindVideo || k == KindDocument }

// Limits are the largest uploads per kind (bytes) and the processing budgets.
type Limits struct {
	ImageBytes    int64
	VideoBytes    int64
	DocumentBytes int64
	// ImagePixels is the largest decoded area accepted (read from the header before decoding).
	ImagePixels int64
	// ToolTimeout bounds one run of ffprobe, ffmpeg, pdfinfo or pdftoppm.
	ToolTimeout time.Duration
	// UnattachedTTL is how long an upload may stay attached to nothing before it is swept.
	UnattachedTTL time.Duration
	// URLTTL is the life of presigned PUT and GET URLs.
	URLTTL time.Duration
	// Retention is how long the files of deleted content are kept (an operator may still undo the
	// deletion) before the sweep deletes them.
	Retention time.Duration
}

// DefaultLimits are the limits when the configuration says nothing.
var DefaultLimits = Limits{
	ImageBytes: 20 << 20, VideoBytes: 200 << 20, DocumentBytes: 50 << 20,
	ImagePixels: 50_000_000, ToolTimeout: 60 * time.Second,
	UnattachedTTL: 24 * time.Hour, URLTTL: 15 * time.Minute, Retention: 30 * 24 * time.Hour,
}

func (l Limits) maxBytes(k Kind) int64 {
	switch k {
	case KindImage:
		return l.ImageBytes
	case KindVideo:
		return l.VideoBytes
	case KindDocument:
		return l.DocumentBytes
	}
	return 0
}

// allowedTypes are the content types a client may declare for each kind; what arrives is sniffed
// and must be one of them too.
var allowedTypes = map[Kind][]string{
	KindImage:    {"image/jpeg", "image/png", "image/webp"},
	KindVideo:    {"video/mp4", "video/webm", "video/quicktime"},
	KindDocument: {"application/pdf"},
}

func allowed(k Kind, contentType string) bool {
	for _, t := range allowedTypes[k] {
		if t == contentType {
			return true
		}
	}
	return false
}

// SniffLen is how many leading bytes SniffUpload looks at.
const SniffLen = 512

// SniffUpload names the content type of an upload from its first bytes only, and for a refused
// content says what it is ("an HTML page", "an SVG image", "an executable program"). The name
// and the declared type are never consulted: an HTML page named photo.png is an HTML page.
func SniffUpload(b []byte) (contentType, refused string) {
	if f, ok := sniff(b); ok {
		return f.contentType, ""
	}
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf", ""
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		if string(b[8:10]) == "qt" {
			return "video/quicktime", ""
		}
		return "video/mp4", ""
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return "video/webm", "" // EBML: WebM or Matroska, told apart by ffprobe later
	case bytes.HasPrefix(b, []byte("MZ")), bytes.HasPrefix(b, []byte("\x7fELF")),
		bytes.HasPrefix(b, []byte("#!")), bytes.HasPrefix(b, []byte{0xCF, 0xFA, 0xED, 0xFE}),
		bytes.HasPrefix(b, []byte{0xCE, 0xFA, 0xED, 0xFE}), bytes.HasPrefix(b, []byte{0xCA, 0xFE, 0xBA, 0xBE}):
		return "", "an executable program"
	}
	lower := bytes.ToLower(bytes.TrimLeft(b, "\xef\xbb\xbf \t\r\n"))
	switch {
	case bytes.Contains(lower, []byte("<svg")):
		return "", "an SVG image (SVG can carry scripts and is not accepted)"
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")),
		bytes.Contains(lower, []byte("<script")), bytes.Contains(lower, []byte("<body")), bytes.Contains(lower, []byte("<head")):
		return "", "an HTML page"
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return "", "an XML document"
	}
	return "", "of a type that could not be recognised"
}

// Variant is one stored rendition of an upload.
type Variant struct {
	Name        string `json:"name"`   // thumbnail, card, hero, poster, preview, page1, original
	Format      string `json:"format"` // webp, jpeg, mp4, webm, pdf
	ContentType string `json:"contentType"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Size        int64  `json:"size"`
	Key         string `json:"key,omitempty"`
	// URL is a signed GET URL, filled in when a file is shown to its owner.
	URL       string     `json:"url,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Meta is what processing learned about an upload.
type Meta struct {
	Width           int     `json:"width,omitempty"`
	Height          int     `json:"height,omitempty"`
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
	Pages           int     `json:"pages,omitempty"`
}

// Reason is why a file failed, in English and Arabic.
type Reason struct {
	EN string
	AR string
}

// refusal is a file that processing refuses for good (as opposed to an error a retry may cure).
type refusal struct{ Reason }

func (r *refusal) Error() string { return "media: refused: " + r.EN }

func refuse(en, ar string) error { return &refusal{Reason{EN: en, AR: ar}} }

// Presigned is a URL that allows one request on one object until ExpiresAt.
type Presigned struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Signer presigns requests on stored objects (platform/blob's Presigner, adapted).
type Signer interface {
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (Presigned, error)
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (Presigned, error)
}

// Events tells the uploader that processing ended (media:ready / media:failed on their sockets).
type Events interface {
	FileProcessed(ctx context.Context, f File) error
}
