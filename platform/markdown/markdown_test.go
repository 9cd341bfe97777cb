package markdown

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	r := New()
	tests := []struct {
		name, src      string
		want, wantText string
		mustNotContain []string
	}{
		{"emphasis and lists", "**bold** and _it_\n\n- a\n- b", "<strong>bold</strong>", "bold and it a b", nil},
		{"Arabic text stays as written", "خط **الإنتاج** رقم ٤", "<strong>الإنتاج</strong>", "خط الإنتاج رقم ٤", nil},
		{"raw HTML tags are left out", "before <script>alert(1)</script> after", "before", "before alert(1) after", []string{"<script"}},
		{"javascript links lose their href", "[x](javascript:alert(1))", "x", "x", []string{"javascript:"}},
		{"links are nofollow", "[ok](https://example.com)", `rel="nofollow`, "ok", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			html, text, err := r.Render(tt.src)
			require.NoError(t, err)
			assert.Contains(t, html, tt.want)
			assert.Equal(t, tt.wantText, text)
			for _, bad := range tt.mustNotContain {
				assert.NotContains(t, strings.ToLower(html), bad)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	assert.Equal(t, "short", Excerpt("short", 10))
	assert.Equal(t, "one two…", Excerpt("one two three four", 12), "cut at a word")
	assert.Equal(t, "مرحبا بكم…", Excerpt("مرحبا بكم في المنتدى", 12), "counted in characters, not bytes")
}
