package usecase_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/usecase"
)

// complete is a use case that passes every step, as the frontend's form would send it
// (testdata/complete.json, which the store and e2e tests read too).
func complete(t *testing.T) usecase.Content {
	t.Helper()
	b, err := os.ReadFile("testdata/complete.json")
	require.NoError(t, err)
	c, err := usecase.Decode(b)
	require.NoError(t, err)
	return c
}

func fields(bad []errs.FieldError) map[string]string {
	out := map[string]string{}
	for _, f := range bad {
		out[f.Field] = f.Message
	}
	return out
}

func TestCheckStep(t *testing.T) {
	c := complete(t)
	for step := 1; step <= usecase.Steps; step++ {
		assert.Empty(t, usecase.CheckStep(c, step, "en"), "step %d", step)
	}

	c.Results.QuantitativeMetrics[1].Baseline = "x"
	c.Title = "Short"
	c.Category = "Cooking"
	c.Solution.TechnologyComponents = nil
	c.Location.Latitude = nil
	c.Location.Longitude = new(float64)
	*c.Location.Longitude = 200
	assert.Equal(t, map[string]string{"title": "must be 10 to 100 characters", "category": "must be one of the nine categories"},
		fields(usecase.CheckStep(c, 1, "en")))
	assert.Equal(t, map[string]string{"solution.technologyComponents": "must have 1 to 4 items"}, fields(usecase.CheckStep(c, 3, "")))
	assert.Equal(t, map[string]string{"results.quantitativeMetrics[1].baseline": "must be at least 2 characters"}, fields(usecase.CheckStep(c, 4, "en")))
	assert.Equal(t, map[string]string{"location.latitude": "is required", "location.longitude": "must be a number from -180 to 180"},
		fields(usecase.CheckStep(c, 5, "en")))
	all := fields(usecase.CheckStep(c, usecase.Steps, "ar-SA"))
	assert.Len(t, all, 6, "the review step checks every step")
	assert.Equal(t, "يجب ألا يقل عن 2 أحرف", all["results.quantitativeMetrics[1].baseline"])
	assert.Equal(t, "مطلوب", all["location.latitude"])

	var empty usecase.Content
	bad := fields(usecase.CheckStep(empty, 2, "en"))
	assert.Equal(t, "is required", bad["businessChallenge.industryContext"])
	assert.Equal(t, "must have 2 to 5 items", bad["businessChallenge.specificProblems"])
}

func TestMerge(t *testing.T) {
	c := complete(t)
	var patch map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"title": "A new title here", "results": {"roiPercentage": null},
		"location": {"city": "Jeddah"}, "tags": ["IoT"]}`), &patch))
	got, err := usecase.Merge(c, patch)
	require.NoError(t, err)
	assert.Equal(t, "A new title here", got.Title)
	assert.Equal(t, "", got.Results.RoiPercentage, "null removes")
	assert.Len(t, got.Results.QuantitativeMetrics, 2, "objects merge")
	assert.Equal(t, "Jeddah", got.Location.City)
	assert.InDelta(t, 24.7136, *got.Location.Latitude, 1e-9)
	assert.Equal(t, []string{"IoT"}, got.Tags, "lists replace")

	_, err = usecase.Merge(c, map[string]any{"results": map[string]any{"quantitativeMetrics": []any{map[string]any{"baseline": 5.0}}}})
	e, ok := errs.As(err)
	require.True(t, ok)
	assert.Equal(t, errs.Validation, e.Code)
	assert.Equal(t, "results.quantitativeMetrics.baseline", e.Fields[0].Field)
	_, err = usecase.Merge(c, map[string]any{"colour": "red"})
	assert.Equal(t, errs.Invalid, errs.CodeOf(err))
	_, err = usecase.Merge(c, map[string]any{"location": "Riyadh"})
	assert.Equal(t, errs.Validation, errs.CodeOf(err))
}

func TestROI(t *testing.T) {
	assert.InDelta(t, 250.0, *usecase.ROI("250% ROI in first year"), 1e-9)
	assert.InDelta(t, 2315.5, *usecase.ROI(" 2,315.5%"), 1e-9)
	assert.Nil(t, usecase.ROI("high"))
}
