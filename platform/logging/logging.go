// Package logging builds the process logger on log/slog.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing format ("json" or "text") at level to w.
func New(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Discard is a logger that drops everything, for tests that do not look at logs.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
