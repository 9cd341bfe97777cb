package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exifJPEG returns a JPEG of a w×h image (left half red, right half blue) carrying an EXIF APP1
// segment with an orientation and a GPS directory whose latitude reference and a marker string
// can be searched for in the output.
func exifJPEG(t testing.TB, w, h, orientation int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{220, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var enc bytes.Buffer
	require.NoError(t, jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}))
	// TIFF (little endian): IFD0 with Orientation and a GPS IFD pointer; the GPS IFD with
	// GPSLatitudeRef "N" and a GPSMapDatum ASCII string "RIYADH-SECRET-SPOT".
	le := binary.LittleEndian
	var t0 bytes.Buffer
	t0.WriteString("II")
	_ = binary.Write(&t0, le, uint16(42))
	_ = binary.Write(&t0, le, uint32(8))
	// IFD0 at 8: 2 entries.
	_ = binary.Write(&t0, le, uint16(2))
	entry := func(tag, typ uint16, count, value uint32) {
		_ = binary.Write(&t0, le, tag)
		_ = binary.Write(&t0, le, typ)
		_ = binary.Write(&t0, le, count)
		_ = binary.Write(&t0, le, value)
	}
	gpsIFD := uint32(8 + 2 + 2*12 + 4)
	entry(0x0112, 3, 1, uint32(orientation))
	entry(0x8825, 4, 1, gpsIFD)
	_ = binary.Write(&t0, le, uint32(0))
	datum := "RIYADH-SECRET-SPOT\x00"
	datumOff := gpsIFD + 2 + 2*12 + 4
	_ = binary.Write(&t0, le, uint16(2))
	entry(0x0001, 2, 2, uint32('N'))
	entry(0x0012, 2, uint32(len(datum)), datumOff)
	_ = binary.Write(&t0, le, uint32(0))
	t0.WriteString(datum)
	app1 := append([]byte("Exif\x00\x00"), t0.Bytes()...)
	var out bytes.Buffer
	out.Write(enc.Bytes()[:2])
	out.Write([]byte{0xFF, 0xE1})
	_ = binary.Write(&out, binary.BigEndian, uint16(len(app1)+2))
	out.Write(app1)
	out.Write(enc.Bytes()[2:])
	return out.Bytes()
}

func TestRenderSizesStripsMetadataAndOrients(t *testing.T) {
	src := exifJPEG(t, 2000, 1000, 6) // stored landscape, shown portrait (rotate 90° clockwise)
	require.Contains(t, string(src), "RIYADH-SECRET-SPOT")
	out, meta, err := RenderSizes(src, DefaultLimits.ImagePixels)
	require.NoError(t, err)
	assert.Equal(t, Meta{Width: 1000, Height: 2000}, meta)
	want := map[string][2]int{"hero": {800, 1600}, "card": {400, 800}, "thumbnail": {160, 320}}
	require.Len(t, out, 6)
	for _, e := range out {
		assert.NotContains(t, string(e.Data), "RIYADH", e.Name)
		assert.NotContains(t, string(e.Data), "Exif", e.Name)
		var cfg image.Config
		switch e.Format {
		case "jpeg":
			cfg, err = jpeg.DecodeConfig(bytes.NewReader(e.Data))
		case "webp":
			cfg, err = decodeWebPConfig(e.Data)
		}
		require.NoError(t, err, e.Name+" "+e.Format)
		assert.Equal(t, want[e.Name], [2]int{cfg.Width, cfg.Height}, e.Name+" "+e.Format)
		assert.Equal(t, [2]int{e.Width, e.Height}, want[e.Name])
		if e.Format == "jpeg" && e.Name == "card" {
			// Rotated clockwise: the source's left (red) half is now the top.
			img, err := jpeg.Decode(bytes.NewReader(e.Data))
			require.NoError(t, err)
			r, _, b, _ := img.At(200, 100).RGBA()
			assert.Greater(t, r, b, "top should be red")
			r, _, b, _ = img.At(200, 700).RGBA()
			assert.Greater(t, b, r, "bottom should be blue")
		}
	}
}

func decodeWebPConfig(b []byte) (image.Config, error) {
	f, ok := sniff(b)
	if !ok || f.name != "WebP" {
		return image.Config{}, errors.New("not a WebP")
	}
	return f.decodeConfig(bytes.NewReader(b))
}

// bomb is a PNG whose header declares w×h pixels and which holds no pixel data.
func bomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.WriteString("IHDR")
	b.Write(ihdr)
	_ = binary.Write(&b, binary.BigEndian, crc(append([]byte("IHDR"), ihdr...)))
	return b.Bytes()
}

func crc(b []byte) uint32 {
	var table [256]uint32
	for i := range table {
		c := uint32(i)
		for range 8 {
			if c&1 == 1 {
				c = 0xEDB88320 ^ (c >> 1)
			} else {
				c >>= 1
			}
		}
		table[i] = c
	}
	c := ^uint32(0)
	for _, x := range b {
		c = table[byte(c)^x] ^ (c >> 8)
	}
	return ^c
}

func TestRenderSizesRefusesHostileImages(t *testing.T) {
	photo := exifJPEG(t, 800, 600, 1)
	var pngBuf bytes.Buffer
	require.NoError(t, png.Encode(&pngBuf, image.NewRGBA(image.Rect(0, 0, 50, 50))))
	for _, tt := range []struct {
		name, data, reason string
	}{
		{"truncated JPEG", string(photo[:len(photo)*4/5]), "truncated or corrupt"},
		{"damaged header", "\xFF\xD8\xFF\xE0\x00", "header is damaged"},
		{"decompression bomb", string(bomb(20000, 20000)), "400 megapixels"},
		{"bomb past the int range", string(bomb(1<<31-1, 1<<31-1)), "header is damaged"},
		{"HTML", "<!doctype html><script>alert(1)</script>", "not a JPEG, PNG or WebP"},
		{"truncated PNG", pngBuf.String()[:40], "could not be decoded"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := RenderSizes([]byte(tt.data), DefaultLimits.ImagePixels)
			var r *refusal
			require.True(t, errors.As(err, &r), "%v", err)
			assert.Contains(t, r.EN, tt.reason)
			assert.NotEmpty(t, r.AR)
		})
	}
}

func TestSniffUpload(t *testing.T) {
	for _, tt := range []struct {
		name, data, contentType, refused string
	}{
		{"JPEG", "\xFF\xD8\xFF\xE0rest", "image/jpeg", ""},
		{"PDF", "%PDF-1.7\n", "application/pdf", ""},
		{"MP4", "\x00\x00\x00\x18ftypisom\x00\x00", "video/mp4", ""},
		{"WebM", "\x1A\x45\xDF\xA3\x9f", "video/webm", ""},
		{"HTML named .png", "<!DOCTYPE html><html><body>hi</body></html>", "", "an HTML page"},
		{"HTML fragment", "  <script>alert(1)</script>", "", "an HTML page"},
		{"SVG with script", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "", "an SVG image"},
		{"SVG without script", `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`, "", "an SVG image"},
		{"Windows executable", "MZ\x90\x00\x03", "", "an executable program"},
		{"ELF", "\x7fELF\x02\x01\x01", "", "an executable program"},
		{"script", "#!/bin/sh\nrm -rf /\n", "", "an executable program"},
		{"empty", "", "", "could not be recognised"},
		{"NUL bytes", "\x00\x00\x00\x00", "", "could not be recognised"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ct, refused := SniffUpload([]byte(tt.data))
			assert.Equal(t, tt.contentType, ct)
			if tt.refused == "" {
				assert.Empty(t, refused)
			} else {
				assert.Contains(t, refused, tt.refused)
			}
		})
	}
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: run scripts/services.sh (ensure_media_tools)", name)
	}
}

// testVideo makes a 2-second 320×240 clip with ffmpeg's test pattern.
func testVideo(t *testing.T, ext string) string {
	t.Helper()
	requireTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "clip."+ext)
	args := []string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10"}
	if ext == "webm" {
		args = append(args, "-c:v", "libvpx", "-b:v", "200k")
	} else {
		args = append(args, "-pix_fmt", "yuv420p")
	}
	out, err := exec.Command("ffmpeg", append(args, path)...).CombinedOutput()
	require.NoError(t, err, string(out))
	return path
}

// testPDF writes a two-page PDF (hand-written objects; poppler rebuilds the cross-reference
// table it lacks, as it does for many real files).
func testPDF(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Contents 5 0 R >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] >>",
		"<< /Length 35 >>\nstream\n0 0 1 rg 50 50 200 300 re f\nendstream",
	}
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		b.WriteString(strings.Join([]string{itoa(i + 1), " 0 obj\n", o, "\nendobj\n"}, ""))
	}
	xref := b.Len()
	b.WriteString("xref\n0 " + itoa(len(objs)+1) + "\n0000000000 65535 f \n")
	for _, off := range offsets {
		s := itoa(off)
		b.WriteString(strings.Repeat("0", 10-len(s)) + s + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size " + itoa(len(objs)+1) + " /Root 1 0 R >>\nstartxref\n" + itoa(xref) + "\n%%EOF\n")
	path := filepath.Join(t.TempDir(), "doc.pdf")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestToolsVideoAndPDF(t *testing.T) {
	tools := Tools{Timeout: 30 * time.Second}
	ctx := context.Background()
	for _, ext := range []string{"mp4", "webm"} {
		t.Run("video "+ext, func(t *testing.T) {
			vs, meta, err := tools.RenderVideo(ctx, testVideo(t, ext))
			require.NoError(t, err)
			assert.InDelta(t, 2.0, meta.DurationSeconds, 0.3)
			assert.Equal(t, 320, meta.Width)
			names := map[string]bool{}
			for _, v := range vs {
				names[v.Name+"."+v.Format] = true
				assert.NotEmpty(t, v.Data)
			}
			assert.Equal(t, map[string]bool{"poster.webp": true, "poster.jpeg": true, "preview.jpeg": true}, names)
		})
	}
	t.Run("truncated video", func(t *testing.T) {
		path := testVideo(t, "mp4")
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b[:len(b)/3], 0o600))
		_, _, err = tools.RenderVideo(ctx, path)
		var r *refusal
		require.True(t, errors.As(err, &r), "%v", err)
		assert.Contains(t, r.EN, "not a playable MP4 or WebM video")
	})
	t.Run("pdf", func(t *testing.T) {
		requireTool(t, "pdfinfo")
		vs, meta, err := tools.RenderPDF(ctx, testPDF(t))
		require.NoError(t, err)
		assert.Equal(t, 2, meta.Pages)
		require.Len(t, vs, 4)
		for _, v := range vs {
			assert.True(t, strings.HasPrefix(v.Name, "page1-"), v.Name)
			if v.Name == "page1-card" && v.Format == "jpeg" {
				img, err := jpeg.Decode(bytes.NewReader(v.Data))
				require.NoError(t, err)
				// The page's blue rectangle is in the middle of a white page.
				r, _, bl, _ := img.At(img.Bounds().Dx()/2, img.Bounds().Dy()/2).RGBA()
				assert.Greater(t, bl, r)
			}
		}
	})
	t.Run("not a pdf", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.pdf")
		require.NoError(t, os.WriteFile(path, []byte("%PDF-1.4\ngarbage"), 0o600))
		_, _, err := tools.RenderPDF(ctx, path)
		var r *refusal
		require.True(t, errors.As(err, &r), "%v", err)
		assert.Contains(t, r.EN, "not a readable PDF")
	})
	t.Run("timeout", func(t *testing.T) {
		_, _, err := Tools{Timeout: time.Millisecond}.RenderVideo(ctx, testVideo(t, "mp4"))
		var r *refusal
		require.True(t, errors.As(err, &r), "%v", err)
		assert.Contains(t, r.EN, "took too long")
	})
}
