package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/media/mediatest"
)

func TestRenderSizesStripsMetadataAndOrients(t *testing.T) {
	src := mediatest.ExifJPEG(t, 2000, 1000, 6) // stored landscape, shown portrait (rotate 90° clockwise)
	require.Contains(t, string(src), mediatest.GPSMarker)
	out, meta, err := RenderSizes(src, DefaultLimits.ImagePixels)
	require.NoError(t, err)
	assert.Equal(t, Meta{Width: 1000, Height: 2000}, meta)
	want := map[string][2]int{"hero": {800, 1600}, "card": {400, 800}, "thumbnail": {160, 320}}
	require.Len(t, out, 6)
	for _, e := range out {
		assert.NotContains(t, string(e.Data), mediatest.GPSMarker, e.Name)
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

func TestRenderSizesRefusesHostileImages(t *testing.T) {
	photo := mediatest.ExifJPEG(t, 800, 600, 1)
	var pngBuf bytes.Buffer
	require.NoError(t, png.Encode(&pngBuf, image.NewRGBA(image.Rect(0, 0, 50, 50))))
	for _, tt := range []struct {
		name, data, reason string
	}{
		{"truncated JPEG", string(photo[:len(photo)*4/5]), "truncated or corrupt"},
		{"damaged header", "\xFF\xD8\xFF\xE0\x00", "header is damaged"},
		{"decompression bomb", string(mediatest.BombPNG(20000, 20000)), "400 megapixels"},
		{"bomb past the int range", string(mediatest.BombPNG(1<<31-1, 1<<31-1)), "header is damaged"},
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

func TestToolsVideoAndPDF(t *testing.T) {
	tools := Tools{Timeout: 30 * time.Second}
	ctx := context.Background()
	for _, ext := range []string{"mp4", "webm"} {
		t.Run("video "+ext, func(t *testing.T) {
			vs, meta, err := tools.RenderVideo(ctx, mediatest.Video(t, ext))
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
	t.Run("strip video metadata", func(t *testing.T) {
		in := mediatest.VideoWithLocation(t)
		out := filepath.Join(t.TempDir(), "stripped")
		require.NoError(t, tools.StripVideo(ctx, in, out, "video/quicktime"))
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(b, []byte(mediatest.Location)), "the place it was filmed leaked")
		assert.False(t, bytes.Contains(b, []byte(mediatest.GPSMarker)), "the title leaked")
		assert.False(t, bytes.Contains(b, []byte("\xa9xyz")), "a location atom is left")
		// Still the same video: the pipeline reads it as before.
		_, meta, err := tools.RenderVideo(ctx, out)
		require.NoError(t, err)
		assert.InDelta(t, 2.0, meta.DurationSeconds, 0.3)
		assert.Equal(t, 320, meta.Width)
	})
	t.Run("Matroska posing as WebM", func(t *testing.T) {
		// H.264 in Matroska sniffs as WebM (EBML) but WebM allows only VP8/VP9/AV1.
		mkv := filepath.Join(t.TempDir(), "clip.mkv")
		out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", mediatest.Video(t, "mp4"), "-c", "copy", mkv).CombinedOutput()
		require.NoError(t, err, string(out))
		err = tools.StripVideo(ctx, mkv, filepath.Join(t.TempDir(), "x"), "video/webm")
		var r *refusal
		require.True(t, errors.As(err, &r), "%v", err)
	})
	t.Run("truncated video", func(t *testing.T) {
		path := mediatest.Video(t, "mp4")
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b[:len(b)/3], 0o600))
		_, _, err = tools.RenderVideo(ctx, path)
		var r *refusal
		require.True(t, errors.As(err, &r), "%v", err)
		assert.Contains(t, r.EN, "not a playable MP4 or WebM video")
	})
	t.Run("pdf", func(t *testing.T) {
		mediatest.RequireTool(t, "pdfinfo")
		vs, meta, err := tools.RenderPDF(ctx, mediatest.PDF(t))
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
		_, _, err := Tools{Timeout: time.Millisecond}.RenderVideo(ctx, mediatest.Video(t, "mp4"))
		var r *refusal
		require.True(t, errors.As(err, &r), "%v", err)
		assert.Contains(t, r.EN, "took too long")
	})
}
