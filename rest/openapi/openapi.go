// Package openapi builds and serves the OpenAPI 3.1 document. The document is written as YAML
// in parts: the base (base.yaml, in this package) with the operational endpoints and the shared
// components, and one fragment per area next to its handlers (app/*app/openapi.yaml). Assemble
// merges them into the JSON document; Mount serves it with a Redoc viewer at /docs.
//
// redoc.standalone.js is Redoc 2.1.5 (npm package redoc, bundles/redoc.standalone.js), which is
// MIT-licensed (REDOC-LICENSE). It is embedded so that /docs loads nothing from another origin.
package openapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"
)

//go:embed base.yaml
var base []byte

//go:embed redoc.standalone.js
var redocJS []byte

// Base returns the base YAML document: info, servers, default security, the operational
// endpoints and the components the areas share. It is the first argument of Assemble.
func Base() []byte { return slices.Clone(base) }

// fragmentKeys are the top-level keys an area's fragment may have.
var fragmentKeys = map[string]bool{"paths": true, "components": true, "tags": true}

// methods are the operations of an OpenAPI path item.
var methods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// Assemble merges the base YAML document (first) with the areas' fragments (YAML with only
// paths, components and tags) and returns the document as JSON. Paths merge per path and
// method, and the same operation twice is an error; components merge by kind and name, and the
// same name twice is an error unless both definitions are equal; tags are concatenated, the
// first of a name winning. Every "#/components/..." reference must resolve in the result.
func Assemble(fragments ...[]byte) ([]byte, error) {
	if len(fragments) == 0 {
		return nil, errors.New("openapi: no base document")
	}
	m := merger{
		ops:   map[string]string{},
		comps: map[string]string{},
		tags:  map[string]bool{},
	}
	for i, src := range fragments {
		part, err := decode(src)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", partName(i, nil), err)
		}
		if err := m.add(i, part); err != nil {
			return nil, fmt.Errorf("openapi: %w", err)
		}
	}
	addCommonResponses(m.doc)
	if missing := unresolved(m.doc); len(missing) > 0 {
		return nil, fmt.Errorf("openapi: unresolved references: %s", strings.Join(missing, ", "))
	}
	b, err := json.Marshal(m.doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return b, nil
}

// commonResponses are what any operation may answer before its handler runs, or whatever it
// does: a query or path with text no field takes (rest.cleanInput: 400 malformed, 422 naming the
// parameter) and a backing service out of reach (503). Assemble adds them where an operation
// does not document the status itself (and the base defines the response), so that the
// document says what the code does.
var commonResponses = map[string]string{"400": "BadRequest", "422": "Validation", "503": "Unavailable"}

func addCommonResponses(doc map[string]any) {
	comps, _ := doc["components"].(map[string]any)
	defined, _ := comps["responses"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			o, ok := op.(map[string]any)
			if !ok || !methods[method] {
				continue
			}
			responses, ok := o["responses"].(map[string]any)
			if !ok {
				continue
			}
			for status, name := range commonResponses {
				if _, ok := responses[status]; !ok && defined[name] != nil {
					responses[status] = map[string]any{"$ref": "#/components/responses/" + name}
				}
			}
		}
	}
}

// merger accumulates the document and remembers which part brought each operation and
// component, to name both sides of a clash.
type merger struct {
	doc   map[string]any
	ops   map[string]string // "GET /path" → part
	comps map[string]string // "schemas/Name" → part
	tags  map[string]bool
}

func (m *merger) add(i int, part map[string]any) error {
	name := partName(i, part)
	if i == 0 {
		m.doc = map[string]any{}
		for k, v := range part {
			if !fragmentKeys[k] {
				m.doc[k] = v
			}
		}
	} else {
		keys := make([]string, 0, len(part))
		for k := range part {
			if !fragmentKeys[k] {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			sort.Strings(keys)
			return fmt.Errorf("%s: top-level %s not allowed in a fragment (only paths, components and tags)",
				name, quoteAll(keys))
		}
	}
	if err := m.addPaths(name, part["paths"]); err != nil {
		return err
	}
	if err := m.addComponents(name, part["components"]); err != nil {
		return err
	}
	return m.addTags(name, part["tags"])
}

func (m *merger) addPaths(name string, v any) error {
	if v == nil {
		return nil
	}
	paths, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: paths is not a map", name)
	}
	all := child(m.doc, "paths")
	for _, p := range sortedKeys(paths) {
		item, ok := paths[p].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: path %s is not a map", name, p)
		}
		have, _ := all[p].(map[string]any)
		if have == nil {
			have = map[string]any{}
			all[p] = have
		}
		for _, k := range sortedKeys(item) {
			if methods[k] {
				op := strings.ToUpper(k) + " " + p
				if prev, dup := m.ops[op]; dup {
					return fmt.Errorf("%s is in both %s and %s", op, prev, name)
				}
				m.ops[op] = name
			} else if prev, dup := have[k]; dup && !reflect.DeepEqual(prev, item[k]) {
				return fmt.Errorf("%s: path %s: %s differs from an earlier part's", name, p, k)
			}
			have[k] = item[k]
		}
	}
	return nil
}

func (m *merger) addComponents(name string, v any) error {
	if v == nil {
		return nil
	}
	comps, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: components is not a map", name)
	}
	all := child(m.doc, "components")
	for _, kind := range sortedKeys(comps) {
		if comps[kind] == nil {
			continue
		}
		defs, ok := comps[kind].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: components.%s is not a map", name, kind)
		}
		have := child(all, kind)
		for _, key := range sortedKeys(defs) {
			ref := kind + "/" + key
			if prev, dup := have[key]; dup {
				if !reflect.DeepEqual(prev, defs[key]) {
					return fmt.Errorf("components.%s.%s differs between %s and %s", kind, key, m.comps[ref], name)
				}
				continue
			}
			have[key] = defs[key]
			m.comps[ref] = name
		}
	}
	return nil
}

func (m *merger) addTags(name string, v any) error {
	if v == nil {
		return nil
	}
	tags, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s: tags is not a list", name)
	}
	all, _ := m.doc["tags"].([]any)
	for _, t := range tags {
		tag, _ := t.(map[string]any)
		tn, _ := tag["name"].(string)
		if tn == "" {
			return fmt.Errorf("%s: a tag without a name", name)
		}
		if m.tags[tn] {
			continue
		}
		m.tags[tn] = true
		all = append(all, tag)
	}
	m.doc["tags"] = all
	return nil
}

// decode parses one YAML part into a map with string keys (what encoding/json can write).
func decode(src []byte) (map[string]any, error) {
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	part, ok := normalize(v).(map[string]any)
	if !ok {
		return nil, errors.New("not a YAML mapping")
	}
	return part, nil
}

// normalize turns the maps with non-string keys yaml.v3 may produce (`200:` unquoted) into maps
// with string keys.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	default:
		return v
	}
}

// partName names a part in errors: the base, or a fragment by position and tags.
func partName(i int, part map[string]any) string {
	if i == 0 {
		return "the base document"
	}
	name := "fragment " + strconv.Itoa(i)
	tags, _ := part["tags"].([]any)
	var names []string
	for _, t := range tags {
		if tag, ok := t.(map[string]any); ok {
			if tn, ok := tag["name"].(string); ok {
				names = append(names, tn)
			}
		}
	}
	if len(names) > 0 {
		name += " (tags " + strings.Join(names, ", ") + ")"
	}
	return name
}

// unresolved lists the "#/components/..." references that point nowhere in doc.
func unresolved(doc map[string]any) []string {
	seen := map[string]bool{}
	var missing []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/") && !seen[ref] {
				seen[ref] = true
				if !resolves(doc, ref) {
					missing = append(missing, ref)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	sort.Strings(missing)
	return missing
}

// resolves reports whether the local JSON pointer ref ("#/components/schemas/User") points at
// something in doc.
func resolves(doc map[string]any, ref string) bool {
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			next, ok := x[tok]
			if !ok {
				return false
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(x) {
				return false
			}
			cur = x[n]
		default:
			return false
		}
	}
	return true
}

// child returns m[key] as a map, creating it when absent.
func child(m map[string]any, key string) map[string]any {
	c, ok := m[key].(map[string]any)
	if !ok {
		c = map[string]any{}
		m[key] = c
	}
	return c
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	if len(q) == 1 {
		return "key " + q[0] + " is"
	}
	return "keys " + strings.Join(q, ", ") + " are"
}

// redocPath is where the embedded Redoc bundle is served.
const redocPath = "/docs/redoc.standalone.js"

// docsPage renders the document with the embedded Redoc. It loads nothing from another origin.
const docsPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>P2P Sandbox Hub API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style></head>
<body><redoc spec-url="/api/v1/openapi.json"></redoc>
<script src="` + redocPath + `"></script></body>
</html>`

// docsCSP is the /docs page's own Content-Security-Policy (the API's default allows nothing):
// Redoc's script from this origin, the styles it injects, its search worker (a blob: URL) and
// the fetch of the document. Redoc's "API docs by Redocly" logo comes from its CDN: the policy
// blocks it and Redoc hides it.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// redocCache lets browsers keep the bundle for a week; the ETag revalidates it after that (or
// after an upgrade of the embedded version).
const redocCache = "public, max-age=604800"

// Mount serves the JSON document doc at /api/v1/openapi.json, and the Redoc viewer at /docs
// with its bundle at /docs/redoc.standalone.js.
func Mount(e *gin.Engine, doc []byte) {
	sum := sha256.Sum256(redocJS)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`

	e.GET("/api/v1/openapi.json", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, "application/json", doc)
	})
	e.GET("/docs", func(c *gin.Context) {
		c.Header("Content-Security-Policy", docsCSP)
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsPage))
	})
	e.GET(redocPath, func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", redocCache)
		h.Set("ETag", etag)
		http.ServeContent(c.Writer, c.Request, "redoc.standalone.js", time.Time{}, bytes.NewReader(redocJS))
	})
}
