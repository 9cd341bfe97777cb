package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/media"
)

// photo is an opaque test image: a gradient, so that scaling has something to do.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 90, 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// transparent is a PNG with a transparent background around an opaque disc.
func transparent(t testing.TB, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if dx, dy := x-w/2, y-h/2; dx*dx+dy*dy < (min(w, h)/3)*(min(w, h)/3) {
				img.SetNRGBA(x, y, color.NRGBA{200, 30, 30, 255})
			}
		}
	}
	return encodePNG(t, img)
}

// pngHeader is a PNG that is nothing but a header declaring w×h pixels: the shape of a
// decompression bomb, which declares far more pixels than its bytes could sensibly hold.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func gifImage(t testing.TB) []byte {
	var b bytes.Buffer
	require.NoError(t, gif.Encode(&b, photo(20, 20), nil))
	return b.Bytes()
}

func codeOf(err error) errs.Code {
	if err == nil {
		return ""
	}
	return errs.CodeOf(err)
}

func TestInspect(t *testing.T) {
	okPNG := encodePNG(t, photo(64, 48))
	tests := []struct {
		name        string
		data        []byte
		code        errs.Code
		contentType string
		message     string
	}{
		{name: "jpeg", data: encodeJPEG(t, photo(64, 48)), contentType: "image/jpeg"},
		{name: "png", data: okPNG, contentType: "image/png"},
		{name: "lossy webp", data: fixture(t, "photo.webp"), contentType: "image/webp"},
		{name: "lossless webp with alpha", data: fixture(t, "alpha.webp"), contentType: "image/webp"},
		{name: "gif", data: gifImage(t), code: errs.Unsupported, message: "not a JPEG, PNG or WebP"},
		{name: "text named .png", data: []byte("just some text, renamed to avatar.png"), code: errs.Unsupported},
		{name: "html", data: []byte("<html><script>alert(1)</script></html>"), code: errs.Unsupported},
		{name: "svg", data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), code: errs.Unsupported},
		{name: "empty", data: nil, code: errs.Validation, message: "empty"},
		{name: "png signature only", data: okPNG[:12], code: errs.Validation, message: "header is damaged"},
		{name: "jpeg magic only", data: []byte{0xFF, 0xD8, 0xFF, 0xE0}, code: errs.Validation, message: "JPEG"},
		{name: "bomb 20000×20000", data: pngHeader(20000, 20000), code: errs.Validation, message: "at most 6000 pixels a side"},
		{name: "one side too long", data: pngHeader(6001, 10), code: errs.Validation, message: "6001×10"},
		{name: "too many pixels", data: pngHeader(5000, 5001), code: errs.Validation, message: "at most 25 megapixels"},
		{name: "largest accepted", data: pngHeader(5000, 5000), contentType: "image/png"},
		{name: "tall and thin", data: pngHeader(1, 6000), contentType: "image/png"},
		{name: "too large", data: make([]byte, media.MaxBytes+1), code: errs.TooLarge, message: "larger than 5 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := media.Inspect(tt.data)
			assert.Equal(t, tt.code, codeOf(err), "%v", err)
			if tt.code != "" {
				if tt.message != "" {
					assert.Contains(t, err.Error(), tt.message)
				}
				if tt.code == errs.Validation {
					e, _ := errs.As(err)
					require.Len(t, e.Fields, 1)
					assert.Equal(t, "file", e.Fields[0].Field)
				}
				return
			}
			assert.Equal(t, tt.contentType, img.ContentType)
			assert.Positive(t, img.Width)
		})
	}
}

type brokenReader struct{ err error }

func (r brokenReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadUpload(t *testing.T) {
	b, err := media.ReadUpload(bytes.NewReader(make([]byte, media.MaxBytes)))
	require.NoError(t, err, "exactly the limit is accepted")
	assert.Len(t, b, media.MaxBytes)

	_, err = media.ReadUpload(io.MultiReader(bytes.NewReader(make([]byte, media.MaxBytes)), strings.NewReader("x")))
	assert.Equal(t, errs.TooLarge, codeOf(err))

	// The transport's own limit stays recognisable through the domain error.
	cause := &http.MaxBytesError{Limit: 10}
	_, err = media.ReadUpload(brokenReader{cause})
	var mb *http.MaxBytesError
	assert.True(t, errors.As(err, &mb))
	assert.Equal(t, errs.Invalid, codeOf(err))
}

func decode(t testing.TB, r media.Rendered) image.Image {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(r.Data))
	require.NoError(t, err)
	assert.Equal(t, "image/"+format, r.ContentType)
	return img
}

func TestRender(t *testing.T) {
	truncated := encodePNG(t, photo(200, 200))
	truncated = truncated[:len(truncated)/2]
	tests := []struct {
		name        string
		data        []byte
		contentType string
		code        errs.Code
	}{
		{name: "jpeg photo", data: encodeJPEG(t, photo(640, 480)), contentType: "image/jpeg"},
		{name: "opaque png becomes jpeg", data: encodePNG(t, photo(300, 300)), contentType: "image/jpeg"},
		{name: "transparent png stays png", data: transparent(t, 300, 200), contentType: "image/png"},
		{name: "lossy webp", data: fixture(t, "photo.webp"), contentType: "image/jpeg"},
		{name: "webp with alpha", data: fixture(t, "alpha.webp"), contentType: "image/png"},
		{name: "tall", data: encodeJPEG(t, photo(90, 700)), contentType: "image/jpeg"},
		{name: "tiny is scaled up", data: encodePNG(t, photo(7, 5)), contentType: "image/jpeg"},
		{name: "truncated data", data: truncated, code: errs.Validation},
		{name: "bomb", data: pngHeader(20000, 20000), code: errs.Validation},
		{name: "gif", data: gifImage(t), code: errs.Unsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := media.Render(tt.data)
			assert.Equal(t, tt.code, codeOf(err), "%v", err)
			if tt.code != "" {
				return
			}
			assert.Equal(t, tt.contentType, out.ContentType)
			assert.Equal(t, map[string]string{"image/jpeg": ".jpg", "image/png": ".png"}[tt.contentType], out.Ext)
			img := decode(t, out)
			assert.Equal(t, image.Rect(0, 0, media.OutputSide, media.OutputSide), img.Bounds())
		})
	}
}

func TestRenderKeepsTransparency(t *testing.T) {
	out, err := media.Render(transparent(t, 300, 300))
	require.NoError(t, err)
	img := decode(t, out)
	_, _, _, corner := img.At(0, 0).RGBA()
	_, _, _, centre := img.At(128, 128).RGBA()
	assert.Zero(t, corner, "the corner stays transparent")
	assert.EqualValues(t, 0xffff, centre)
}

// TestRenderCropsTheCentre renders a wide image whose centre square is green between red bands:
// only green survives the crop.
func TestRenderCropsTheCentre(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 100))
	for y := range 100 {
		for x := range 300 {
			c := color.RGBA{0, 200, 0, 255}
			if x < 100 || x >= 200 {
				c = color.RGBA{220, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	out, err := media.Render(encodePNG(t, img))
	require.NoError(t, err)
	got := decode(t, out)
	for _, p := range []image.Point{{2, 2}, {253, 128}, {128, 128}, {2, 253}} {
		r, g, _, _ := got.At(p.X, p.Y).RGBA()
		assert.Greater(t, g>>8, uint32(150), "green at %v", p)
		assert.Less(t, r>>8, uint32(60), "no red at %v", p)
	}
}

// withOrientation inserts an EXIF APP1 segment carrying orientation o after the JPEG's SOI, as
// a phone camera writes it. bigEndian picks the TIFF byte order ("MM" or "II").
func withOrientation(jpg []byte, o uint16, bigEndian bool) []byte {
	var bo interface {
		AppendUint16([]byte, uint16) []byte
		AppendUint32([]byte, uint32) []byte
	} = binary.LittleEndian
	tiff := []byte("II")
	if bigEndian {
		bo, tiff = binary.BigEndian, []byte("MM")
	}
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8) // IFD0 right after the header
	tiff = bo.AppendUint16(tiff, 2) // two entries: one that is not the orientation, then it
	tiff = bo.AppendUint16(tiff, 0x010F)
	tiff = bo.AppendUint16(tiff, 2)
	tiff = bo.AppendUint32(tiff, 4)
	tiff = append(tiff, 'A', 'C', 'M', 0)
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0)
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1}
	app1 = binary.BigEndian.AppendUint16(app1, uint16(len(seg)+2))
	app1 = append(app1, seg...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	return append(out, jpg[2:]...)
}

// TestRenderAppliesEXIFOrientation stores a square whose top-left quadrant is red, tagged with
// each orientation, and checks where the red quadrant is displayed.
func TestRenderAppliesEXIFOrientation(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			c := color.RGBA{40, 40, 200, 255}
			if x < 100 && y < 100 {
				c = color.RGBA{230, 20, 20, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	jpg := encodeJPEG(t, src)
	const lo, hi = 40, 215 // inside each quadrant of the 256 px output
	tests := []struct {
		orientation uint16
		red         image.Point // where the stored top-left quadrant is shown
	}{
		{1, image.Pt(lo, lo)},
		{2, image.Pt(hi, lo)},
		{3, image.Pt(hi, hi)},
		{4, image.Pt(lo, hi)},
		{5, image.Pt(lo, lo)},
		{6, image.Pt(hi, lo)},
		{7, image.Pt(hi, hi)},
		{8, image.Pt(lo, hi)},
		{9, image.Pt(lo, lo)}, // out of range: ignored
	}
	for _, tt := range tests {
		for _, big := range []bool{false, true} {
			out, err := media.Render(withOrientation(jpg, tt.orientation, big))
			require.NoError(t, err)
			img := decode(t, out)
			for _, p := range []image.Point{{lo, lo}, {hi, lo}, {lo, hi}, {hi, hi}} {
				r, _, b, _ := img.At(p.X, p.Y).RGBA()
				assert.Equal(t, p == tt.red, r > b, "orientation %d (big endian %v): red at %v?", tt.orientation, big, p)
			}
		}
	}
}

// FuzzInspect: whatever the bytes, Inspect answers without panicking, and anything it accepts
// declares dimensions within the limits.
func FuzzInspect(f *testing.F) {
	f.Add(pngHeader(10, 10))
	f.Add(pngHeader(20000, 20000))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := media.Inspect(b)
		if err == nil {
			assert.LessOrEqual(t, img.Width, media.MaxSide)
			assert.LessOrEqual(t, img.Height, media.MaxSide)
		}
	})
}

// FuzzRender: whatever passes Inspect either renders to a 256×256 image or is refused with a
// domain error; nothing panics (the EXIF walk included).
func FuzzRender(f *testing.F) {
	f.Add(encodePNG(f, photo(9, 7)))
	f.Add(withOrientation(encodeJPEG(f, photo(8, 8)), 6, true))
	f.Add(fixture(f, "alpha.webp"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := media.Render(b)
		if err != nil {
			_, ok := errs.As(err)
			assert.True(t, ok, "refusals are domain errors: %v", err)
			return
		}
		assert.NotEmpty(t, out.Data)
	})
}
