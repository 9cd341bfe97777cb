// Package migrations holds the SQL migrations of the system of record, embedded in the binary.
// Files are goose migrations: NNNNN_name.sql with "-- +goose Up" and "-- +goose Down" sections.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
