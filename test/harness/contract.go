package harness

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/p2psandbox/hub/app"
)

// The contract check: every response a test receives from a documented route must be described
// by the OpenAPI document, status and body alike; an /api/v1 route missing from the document
// fails the test.

const specURL = "https://p2p.local/openapi.json"

type contract struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	routes   []route
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

type route struct {
	template string
	pattern  *regexp.Regexp
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	spec, err := app.OpenAPI()
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(spec))
	if err != nil {
		return nil, err
	}
	c := &contract{doc: doc.(map[string]any), compiler: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}}
	c.compiler.DefaultDraft(jsonschema.Draft2020)
	c.compiler.AssertFormat()
	if err := c.compiler.AddResource(specURL, doc); err != nil {
		return nil, err
	}
	paramRE := regexp.MustCompile(`\{[^}]+\}`)
	for tmpl := range c.doc["paths"].(map[string]any) {
		// QuoteMeta escapes "{"; undo that so the parameters can be replaced.
		quoted := strings.ReplaceAll(regexp.QuoteMeta(tmpl), `\{`, "{")
		c.routes = append(c.routes, route{template: tmpl,
			pattern: regexp.MustCompile("^" + paramRE.ReplaceAllString(quoted, `[^/]+`) + "$")})
	}
	// Literal segments win over parameters (/users/current before /users/{id}).
	sort.Slice(c.routes, func(i, j int) bool {
		return strings.Count(c.routes[i].template, "{") < strings.Count(c.routes[j].template, "{")
	})
	return c, nil
})

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// resolve follows an OpenAPI $ref inside the document and returns the object and its pointer.
func (c *contract) resolve(obj map[string]any, ptr string) (map[string]any, string) {
	ref, ok := obj["$ref"].(string)
	if !ok || !strings.HasPrefix(ref, "#/") {
		return obj, ptr
	}
	var cur any = c.doc
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, _ := cur.(map[string]any)
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m, ref[1:]
}

// check validates one exchange. It reports through t and never stops the test.
func (c *contract) check(t testing.TB, method, path string, res *Response) {
	t.Helper()
	path, _, _ = strings.Cut(path, "?")
	var tmpl string
	for _, r := range c.routes {
		if r.pattern.MatchString(path) {
			tmpl = r.template
			break
		}
	}
	if tmpl == "" {
		if strings.HasPrefix(path, "/api/v1/") && res.Status != 404 && res.Status != 405 {
			t.Errorf("contract: %s %s answered %d but is not in the OpenAPI document", method, path, res.Status)
		}
		return
	}
	op, ok := c.doc["paths"].(map[string]any)[tmpl].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if !ok {
		if res.Status != 405 {
			t.Errorf("contract: %s %s answered %d but the document has no %s operation", method, tmpl, res.Status, method)
		}
		return
	}
	responses := op["responses"].(map[string]any)
	status := strconv.Itoa(res.Status)
	ptr := "/paths/" + pointerEscape(tmpl) + "/" + strings.ToLower(method) + "/responses/" + status
	raw, ok := responses[status].(map[string]any)
	if !ok {
		if raw, ok = responses["default"].(map[string]any); !ok {
			t.Errorf("contract: %s %s answered %d, which the document does not list: %s", method, tmpl, res.Status, res.Body)
			return
		}
		ptr = "/paths/" + pointerEscape(tmpl) + "/" + strings.ToLower(method) + "/responses/default"
	}
	resp, ptr := c.resolve(raw, ptr)
	content, _ := resp["content"].(map[string]any)
	if len(res.Body) == 0 || content == nil || string(bytes.TrimSpace(res.Body)) == "null" {
		return
	}
	mediaType, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	media, ok := content[mediaType].(map[string]any)
	if !ok { // media type ranges: "image/*", "*/*"
		major, _, _ := strings.Cut(mediaType, "/")
		if media, ok = content[major+"/*"].(map[string]any); !ok {
			media, ok = content["*/*"].(map[string]any)
		}
	}
	if !ok {
		t.Errorf("contract: %s %s %d answered %s, not one of the documented media types", method, tmpl, res.Status, mediaType)
		return
	}
	if _, ok := media["schema"]; !ok || !strings.HasSuffix(mediaType, "json") {
		return
	}
	loc := specURL + "#" + ptr + "/content/" + pointerEscape(mediaType) + "/schema"
	sch, err := c.schema(loc)
	if err != nil {
		t.Errorf("contract: compiling %s: %v", loc, err)
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.Body))
	if err != nil {
		t.Errorf("contract: %s %s %d: body is not JSON: %s", method, tmpl, res.Status, res.Body)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("contract: %s %s %d does not match the document: %v\nbody: %s", method, tmpl, res.Status, err, res.Body)
	}
}

func (c *contract) schema(loc string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[loc]; ok {
		return s, nil
	}
	s, err := c.compiler.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	c.schemas[loc] = s
	return s, nil
}
