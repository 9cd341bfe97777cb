package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"runtime"
	"sync"

	"github.com/gen2brain/webp"
	"golang.org/x/image/draw"
)

// Size is one responsive width of an image upload.
type Size struct {
	Name string
	Side int // longest side, in pixels; smaller images are never enlarged
}

// Sizes are the responsive sizes every image upload is rendered to, largest first (each is
// scaled from the one before, which is much cheaper than from the original and as sharp).
var Sizes = []Size{{"hero", 1600}, {"card", 800}, {"thumbnail", 320}}

// Output qualities: photos at these sizes look the same as at higher settings, at half the bytes.
const (
	variantJPEGQuality = 82
	variantWebPQuality = 78
	variantWebPMethod  = 2 // libwebp's speed/size trade-off; 4 (its default) costs twice the time for ~3% fewer bytes
)

// Encoded is one rendered variant before it is stored.
type Encoded struct {
	Variant
	Data []byte
}

// RenderSizes renders an image upload to every size of Sizes in WebP and JPEG. The output is
// encoded from pixels only: no metadata of the original (EXIF, GPS, XMP, ICC comments) can reach
// it. The EXIF orientation is applied. It refuses what is not a JPEG, PNG or WebP by its
// content, images over maxPixels (read from the header before anything is decoded, so a
// decompression bomb costs nothing) and damaged files.
func RenderSizes(b []byte, maxPixels int64) ([]Encoded, Meta, error) {
	f, ok := sniff(b)
	if !ok {
		return nil, Meta{}, refuse("the file is not a JPEG, PNG or WebP image (its content was checked, not its name)",
			"الملف ليس صورة JPEG أو PNG أو WebP (فُحص محتواه لا اسمه)")
	}
	cfg, err := f.decodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, Meta{}, refuse(fmt.Sprintf("the %s image's header is damaged", f.name),
			fmt.Sprintf("ترويسة صورة %s تالفة", f.name))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, Meta{}, refuse("the image declares no pixels", "الصورة لا تحتوي على أي بكسل")
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		mp := float64(cfg.Width) * float64(cfg.Height) / 1e6
		return nil, Meta{}, refuse(
			fmt.Sprintf("the image is %d×%d pixels (%.0f megapixels); at most %d megapixels are accepted", cfg.Width, cfg.Height, mp, maxPixels/1_000_000),
			fmt.Sprintf("أبعاد الصورة %d×%d بكسل (%.0f ميغابكسل)؛ الحد الأقصى %d ميغابكسل", cfg.Width, cfg.Height, mp, maxPixels/1_000_000))
	}
	src, err := f.decode(bytes.NewReader(b))
	if err != nil {
		return nil, Meta{}, refuse(fmt.Sprintf("the %s image could not be decoded; it is truncated or corrupt", f.name),
			fmt.Sprintf("تعذّر فك ترميز صورة %s؛ الملف مبتور أو تالف", f.name))
	}
	orientation := 1
	if f.contentType == "image/jpeg" {
		orientation = jpegOrientation(b)
	}
	out, meta, err := renderPixels(src, orientation)
	return out, meta, err
}

// renderPixels scales src to every size, orients each result and encodes it twice.
func renderPixels(src image.Image, orientation int) ([]Encoded, Meta, error) {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	swap := orientation >= 5 && orientation <= 8
	meta := Meta{Width: sw, Height: sh}
	if swap {
		meta.Width, meta.Height = sh, sw
	}
	opaque := opaque(src, sb)

	// Scale in the source's orientation, largest first, each from the previous.
	scaled := make([]*image.RGBA, len(Sizes))
	prev, prevRect := src, sb
	for i, s := range Sizes {
		w, h := fit(sw, sh, s.Side)
		dst := scaleTo(prev, prevRect, w, h)
		scaled[i] = dst
		prev, prevRect = dst, dst.Bounds()
	}

	// Orient and encode in parallel: the encoders are the expensive part.
	type job struct {
		i      int
		format string
	}
	jobs := make([]job, 0, 2*len(Sizes))
	for i := range Sizes {
		scaled[i] = orientAny(scaled[i], orientation)
		jobs = append(jobs, job{i, "webp"}, job{i, "jpeg"})
	}
	out := make([]Encoded, len(jobs))
	errList := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for k, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			img := scaled[j.i]
			var buf bytes.Buffer
			v := Variant{Name: Sizes[j.i].Name, Format: j.format, Width: img.Rect.Dx(), Height: img.Rect.Dy()}
			switch j.format {
			case "webp":
				v.ContentType = "image/webp"
				errList[k] = webp.Encode(&buf, img, webp.Options{Quality: variantWebPQuality, Method: variantWebPMethod})
			default:
				v.ContentType = "image/jpeg"
				var m image.Image = img
				if !opaque {
					m = onWhite(img) // JPEG has no alpha: flatten as a page would show it
				}
				errList[k] = jpeg.Encode(&buf, m, &jpeg.Options{Quality: variantJPEGQuality})
			}
			v.Size = int64(buf.Len())
			out[k] = Encoded{Variant: v, Data: buf.Bytes()}
		}()
	}
	wg.Wait()
	for _, err := range errList {
		if err != nil {
			return nil, meta, fmt.Errorf("media: encoding a variant: %w", err)
		}
	}
	return out, meta, nil
}

// fit returns w×h scaled so that its longest side is at most side, never enlarged.
func fit(w, h, side int) (int, int) {
	long := max(w, h)
	if long <= side {
		return w, h
	}
	return max(1, (w*side+long/2)/long), max(1, (h*side+long/2)/long)
}

func onWhite(img *image.RGBA) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	draw.Draw(out, out.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(out, out.Rect, img, img.Rect.Min, draw.Over)
	return out
}

// orientAny returns img as it should be displayed given an EXIF orientation (1–8); orientations
// 5–8 swap width and height.
func orientAny(img *image.RGBA, orientation int) *image.RGBA {
	if orientation < 2 || orientation > 8 {
		return img
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	ow, oh := w, h
	if orientation >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range oh {
		for x := range ow {
			var sx, sy int
			switch orientation {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			si, di := img.PixOffset(sx, sy), out.PixOffset(x, y)
			copy(out.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return out
}
