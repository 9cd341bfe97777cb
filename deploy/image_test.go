package deploy_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImageCarriesTheWorkersTools: the media worker runs ffprobe, ffmpeg, pdfinfo and pdftoppm,
// and the export worker a headless Chromium with Arabic glyphs; the runtime image must install
// them (a static distroless image cannot), and still run as the non-root user.
func TestImageCarriesTheWorkersTools(t *testing.T) {
	dockerfile, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	s := string(dockerfile)
	for _, pkg := range []string{"ffmpeg", "poppler-utils", "chromium", "fonts-noto-core", "ca-certificates"} {
		assert.Regexp(t, `apt-get install[^\n]*(\\\n[^\n]*)*\b`+pkg+`\b`, s, "the runtime image installs %s", pkg)
	}
	assert.NotContains(t, s, "distroless/static", "a static image has no ffmpeg, poppler or Chromium")
	assert.Contains(t, s, "USER nonroot:nonroot")
}
