// Package usecasetest holds the contract every implementation of usecase.Documents passes: the
// PostgreSQL one (usecasedocs) and the MongoDB one (usecasemongo, run against FerretDB here).
// One suite for both is what lets an operator choose the backend by configuration alone.
package usecasetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/usecase"
)

// Contract runs the suite; open returns an empty store, cleaned up by the test.
func Contract(t *testing.T, open func(t *testing.T) usecase.Documents) {
	cases := []struct {
		name string
		run  func(t *testing.T, ctx context.Context, d usecase.Documents)
	}{
		{"round trip of every field, Arabic included", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			id, c := ids.New(), Full(t)
			require.NoError(t, d.Put(ctx, id, 1, c))
			got, v, err := d.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, 1, v)
			assert.Equal(t, c, got)
		}},
		{"empty lists come back empty, not null", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			// What the service stores for a new draft: every list present and empty (the
			// frontend reads [] where a JSON null would break it).
			id := ids.New()
			c, err := usecase.Merge(usecase.Content{}, map[string]any{
				"title": "Draft", "tags": []any{}, "lessonsLearned": []any{},
				"businessChallenge":      map[string]any{"specificProblems": []any{}},
				"solution":               map[string]any{"selectionCriteria": []any{}, "technologyComponents": []any{}},
				"results":                map[string]any{"quantitativeMetrics": []any{}, "qualitativeImpacts": []any{}},
				"challengesAndSolutions": []any{},
			})
			require.NoError(t, err)
			require.NoError(t, d.Put(ctx, id, 1, c))
			got, _, err := d.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, c, got)
			assert.NotNil(t, got.Tags)
			assert.NotNil(t, got.Results.QuantitativeMetrics)
			assert.Nil(t, got.Location.Latitude, "no coordinates stay absent")
		}},
		{"what autosave accepts in a draft is stored", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			// A title of the most characters a field holds, and a category outside the form's
			// list: the form's rules bind only at submission.
			id := ids.New()
			c := usecase.Content{Title: strings.Repeat("ع", usecase.MaxFieldChars), Category: "Something else"}
			require.NoError(t, d.Put(ctx, id, 1, c))
			got, _, err := d.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, c, got)
		}},
		{"a version below 1 is refused", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			id := ids.New()
			require.Error(t, d.Put(ctx, id, 0, usecase.Content{Title: "zero"}))
			_, _, err := d.Get(ctx, id)
			assert.Equal(t, errs.NotFound, errs.CodeOf(err))
		}},
		{"an older or equal version changes nothing", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			id := ids.New()
			require.NoError(t, d.Put(ctx, id, 2, usecase.Content{Title: "two"}))
			require.NoError(t, d.Put(ctx, id, 2, usecase.Content{Title: "two again"}))
			require.NoError(t, d.Put(ctx, id, 1, usecase.Content{Title: "one"}))
			got, v, err := d.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, 2, v)
			assert.Equal(t, "two", got.Title)
		}},
		{"a newer version replaces the whole document", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			id := ids.New()
			require.NoError(t, d.Put(ctx, id, 1, Full(t)))
			next := usecase.Content{Title: "three", Tags: []string{"only"}}
			require.NoError(t, d.Put(ctx, id, 3, next))
			got, v, err := d.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, 3, v)
			assert.Equal(t, next, got, "no field of the older version is left behind")
		}},
		{"a retried Put after the relational side moved on", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			// The crash between stores: the relational row went 1 → 2 and its Put(2) was made;
			// the writer of version 1, which crashed before its Put, retries it late.
			id := ids.New()
			require.NoError(t, d.Put(ctx, id, 2, usecase.Content{Title: "second edit"}))
			require.NoError(t, d.Put(ctx, id, 1, usecase.Content{Title: "first edit, retried"}))
			got, v, err := d.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, 2, v)
			assert.Equal(t, "second edit", got.Title)

			// The other crash: the row is at 3 but the Put(3) never came; its retry heals it.
			require.NoError(t, d.Put(ctx, id, 3, usecase.Content{Title: "third edit"}))
			got, v, err = d.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, 3, v)
			assert.Equal(t, "third edit", got.Title)
		}},
		{"concurrent Puts of versions 1 to 20 end at 20", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			// Several ids, so that the first writers also race to create the document.
			for range 3 {
				id := ids.New()
				var wg sync.WaitGroup
				errc := make(chan error, 20)
				for v := 20; v >= 1; v-- {
					wg.Go(func() { errc <- d.Put(ctx, id, v, usecase.Content{Title: fmt.Sprintf("v%d", v)}) })
				}
				wg.Wait()
				close(errc)
				for err := range errc {
					require.NoError(t, err)
				}
				got, v, err := d.Get(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, 20, v)
				assert.Equal(t, "v20", got.Title)
			}
		}},
		{"Many leaves unknown ids out", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			a, b := ids.New(), ids.New()
			require.NoError(t, d.Put(ctx, a, 1, usecase.Content{Title: "a"}))
			require.NoError(t, d.Put(ctx, b, 4, usecase.Content{Title: "b", Tags: []string{"صناعة"}}))
			got, err := d.Many(ctx, []string{a, ids.New(), b, a})
			require.NoError(t, err)
			require.Len(t, got, 2)
			assert.Equal(t, "a", got[a].Title)
			assert.Equal(t, []string{"صناعة"}, got[b].Tags)

			none, err := d.Many(ctx, nil)
			require.NoError(t, err)
			assert.NotNil(t, none)
			assert.Empty(t, none)
			none, err = d.Many(ctx, []string{ids.New()})
			require.NoError(t, err)
			assert.Empty(t, none)
		}},
		{"NotFound for an unknown id", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			_, _, err := d.Get(ctx, ids.New())
			require.Error(t, err)
			assert.Equal(t, errs.NotFound, errs.CodeOf(err))
		}},
		{"Delete is idempotent", func(t *testing.T, ctx context.Context, d usecase.Documents) {
			id, other := ids.New(), ids.New()
			require.NoError(t, d.Delete(ctx, id), "absent is not an error")
			require.NoError(t, d.Put(ctx, id, 1, usecase.Content{Title: "gone soon"}))
			require.NoError(t, d.Put(ctx, other, 1, usecase.Content{Title: "stays"}))
			require.NoError(t, d.Delete(ctx, id))
			require.NoError(t, d.Delete(ctx, id))
			_, _, err := d.Get(ctx, id)
			assert.Equal(t, errs.NotFound, errs.CodeOf(err))
			_, _, err = d.Get(ctx, other)
			assert.NoError(t, err, "only the named document goes")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, context.Background(), open(t))
		})
	}
}

// Full is ../testdata/complete.json with every field it leaves empty filled with Arabic text or a
// list of one item, so that a round trip covers every nested field of Content.
func Full(t testing.TB) usecase.Content {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "testdata", "complete.json"))
	require.NoError(t, err)
	c, err := usecase.Decode(b)
	require.NoError(t, err)
	fill(reflect.ValueOf(&c).Elem(), "")
	// Every field now holds something: a field added to Content later is covered or fails here.
	b, err = json.Marshal(c)
	require.NoError(t, err)
	var generic any
	require.NoError(t, json.Unmarshal(b, &generic))
	assertNoEmpty(t, generic, "")
	return c
}

// arabic is text in the script the product serves, with the diacritics, digits and punctuation
// that an encoding slip would damage.
const arabic = "نظامُ فحصِ الجودة بالذكاء الاصطناعي، ٨٥٪ أقل عيوباً — الرياض"

func fill(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			v.SetString(arabic + " (" + path + ")")
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
		}
		for i := range v.Len() {
			fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Pointer:
		if v.IsNil() {
			f := 21.4858 // a coordinate's worth of digits
			v.Set(reflect.ValueOf(&f))
		}
	}
}

func assertNoEmpty(t testing.TB, v any, path string) {
	switch x := v.(type) {
	case nil:
		t.Errorf("usecasetest: %s is null", path)
	case string:
		assert.NotEmpty(t, x, path)
	case []any:
		assert.NotEmpty(t, x, path)
		for i, e := range x {
			assertNoEmpty(t, e, fmt.Sprintf("%s[%d]", path, i))
		}
	case map[string]any:
		for k, e := range x {
			assertNoEmpty(t, e, path+"."+k)
		}
	}
}
