package media

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"github.com/p2psandbox/hub/domain/errs"
)

// format is one accepted image format. Decoders are called directly rather than through
// image.Decode's registry, so that what is accepted is exactly this list and nothing another
// package registers.
type format struct {
	contentType  string
	name         string
	magic        func([]byte) bool
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var formats = []format{
	{
		contentType: "image/jpeg", name: "JPEG",
		magic:        func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) },
		decodeConfig: jpeg.DecodeConfig, decode: jpeg.Decode,
	},
	{
		contentType: "image/png", name: "PNG",
		magic:        func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
		decodeConfig: png.DecodeConfig, decode: png.Decode,
	},
	{
		contentType: "image/webp", name: "WebP",
		magic: func(b []byte) bool {
			return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
		},
		decodeConfig: webp.DecodeConfig, decode: webp.Decode,
	},
}

// sniff returns the format the content is in, judged by its first bytes only: the client's
// Content-Type and file name are never consulted.
func sniff(b []byte) (format, bool) {
	for _, f := range formats {
		if f.magic(b) {
			return f, true
		}
	}
	return format{}, false
}

// Image is what Inspect learns about an upload.
type Image struct {
	ContentType string
	Width       int
	Height      int
}

// ReadUpload reads an upload of at most MaxBytes. It reads one byte more than that, so an upload
// that is too large is recognised without reading it all.
func ReadUpload(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		// The cause (a body over the transport's limit, a client that went away) stays in the
		// chain for the transport to recognise.
		return nil, &errs.Error{Code: errs.Invalid, Message: "the upload could not be read", Err: err}
	}
	if len(b) > MaxBytes {
		return nil, errs.E(errs.TooLarge, "the image is larger than %d MB", MaxBytes>>20)
	}
	return b, nil
}

// invalid is a refusal of the file field's content.
func invalid(format string, args ...any) *errs.Error {
	msg := fmt.Sprintf(format, args...)
	return &errs.Error{Code: errs.Validation, Message: msg, Fields: []errs.FieldError{{Field: "file", Message: msg}}}
}

// Inspect applies the upload rules to b without decoding the pixels: the type is sniffed from the
// content, and the dimensions come from the header alone (image.DecodeConfig), so a
// decompression bomb, a small file that declares a huge image, is refused before it costs any
// memory.
func Inspect(b []byte) (Image, error) {
	if len(b) > MaxBytes {
		return Image{}, errs.E(errs.TooLarge, "the image is larger than %d MB", MaxBytes>>20)
	}
	if len(b) == 0 {
		return Image{}, invalid("the file is empty")
	}
	f, ok := sniff(b)
	if !ok {
		return Image{}, errs.E(errs.Unsupported,
			"the file is not a JPEG, PNG or WebP image (its content was checked, not its name or declared type)")
	}
	cfg, err := f.decodeConfig(bytes.NewReader(b))
	if err != nil {
		return Image{}, invalid("the file looks like a %s image but its header is damaged: %v", f.name, err)
	}
	if err := checkDimensions(cfg.Width, cfg.Height); err != nil {
		return Image{}, err
	}
	return Image{ContentType: f.contentType, Width: cfg.Width, Height: cfg.Height}, nil
}

func checkDimensions(w, h int) error {
	switch {
	case w <= 0 || h <= 0:
		return invalid("the image declares no pixels (%d×%d)", w, h)
	case w > MaxSide || h > MaxSide:
		return invalid("the image is %d×%d pixels; at most %d pixels a side are accepted", w, h, MaxSide)
	case int64(w)*int64(h) > MaxPixels:
		return invalid("the image is %d×%d pixels (%.1f megapixels); at most %d megapixels are accepted",
			w, h, float64(w)*float64(h)/1e6, MaxPixels/1_000_000)
	}
	return nil
}
