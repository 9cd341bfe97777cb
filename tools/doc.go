// Package tools pins the development tools (staticcheck, and later the load and document-store
// test tools) in a module of their own, so their dependencies never mix with the service's.
// Run them with `go tool -modfile=tools/go.mod <tool>`.
package tools
