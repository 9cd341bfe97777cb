package media

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// photo12MP is a 4000×3000 JPEG with enough detail (gradients and noise) to cost what a camera's
// photo costs to decode and encode.
func photo12MP(tb testing.TB) []byte {
	tb.Helper()
	const w, h = 4000, 3000
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			img.Y[y*img.YStride+x] = uint8((x*255/w+y*255/h)/2) + uint8(r.IntN(24))
		}
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(100 + r.IntN(40))
		img.Cr[i] = uint8(120 + r.IntN(40))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRenderSizes12MP: a 12-megapixel JPEG to every size in WebP and JPEG (target < 1.5 s).
//
//	go test ./domain/media/ -run '^$' -bench RenderSizes12MP -benchtime 3x -count 3
func BenchmarkRenderSizes12MP(b *testing.B) {
	photo := photo12MP(b)
	b.SetBytes(int64(len(photo)))
	if _, _, err := RenderSizes(photo, DefaultLimits.ImagePixels); err != nil { // compiles the WebP encoder once
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		out, _, err := RenderSizes(photo, DefaultLimits.ImagePixels)
		if err != nil || len(out) != 2*len(Sizes) {
			b.Fatal(err, len(out))
		}
	}
}
