// Package markdown renders what users write (CommonMark with tables, strikethrough, autolinks and
// task lists) to HTML that is safe to put in a page: goldmark renders (leaving raw HTML out), bluemonday's user-content
// policy removes what could run (scripts, event handlers, javascript: and data: links, SVG,
// styles) and marks links nofollow and new-tab. It also gives the plain text, for excerpts and
// search.
package markdown

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Renderer renders Markdown. It is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	text   *bluemonday.Policy
}

// New returns a renderer.
func New() *Renderer {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)).OnElements("code")
	p.AllowAttrs("type", "checked", "disabled").OnElements("input")
	// Raw HTML in the source is left out by goldmark (no WithUnsafe): the sanitizer is the second
	// line, for what Markdown itself produces (links and images with hostile URLs).
	return &Renderer{
		md:     goldmark.New(goldmark.WithExtensions(extension.GFM)),
		policy: p,
		text:   bluemonday.StrictPolicy(),
	}
}

// Render returns the sanitized HTML of src and its plain text.
func (r *Renderer) Render(src string) (htmlOut, text string, err error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		return "", "", fmt.Errorf("markdown: %w", err)
	}
	safe := r.policy.SanitizeBytes(buf.Bytes())
	plain := html.UnescapeString(r.text.Sanitize(string(safe)))
	return string(safe), strings.Join(strings.Fields(plain), " "), nil
}

// Excerpt is the first n characters of text, cut at a word where it can be, with "…" when cut.
func Excerpt(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	runes := []rune(text)[:n]
	cut := string(runes)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}
