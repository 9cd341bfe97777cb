package usecase_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasetest"
)

func TestProject(t *testing.T) {
	full := usecasetest.Full(t) // every field of Content filled
	p := usecase.Project(full)

	cases := []struct {
		field string
		of    func(usecase.Content) any
		kept  bool // the relational side reads it: the projection keeps it as it is
	}{
		{"title", func(c usecase.Content) any { return c.Title }, true},
		{"subtitle", func(c usecase.Content) any { return c.Subtitle }, true},
		{"description", func(c usecase.Content) any { return c.Description }, true},
		{"category", func(c usecase.Content) any { return c.Category }, true},
		{"industry", func(c usecase.Content) any { return c.Industry }, true},
		{"factoryName", func(c usecase.Content) any { return c.FactoryName }, true},
		{"tags", func(c usecase.Content) any { return c.Tags }, true},
		{"imageIds", func(c usecase.Content) any { return c.ImageIDs }, true},
		{"location", func(c usecase.Content) any { return c.Location }, true},
		{"contactPerson", func(c usecase.Content) any { return c.ContactPerson }, true},
		{"contactTitle", func(c usecase.Content) any { return c.ContactTitle }, true},
		{"implementation.implementationTime", func(c usecase.Content) any { return c.Implementation.ImplementationTime }, true},
		{"results.roiPercentage", func(c usecase.Content) any { return c.Results.RoiPercentage }, true},
		{"results.quantitativeMetrics", func(c usecase.Content) any { return c.Results.QuantitativeMetrics }, true},
		{"businessChallenge", func(c usecase.Content) any { return c.BusinessChallenge }, false},
		{"solution.selectionCriteria", func(c usecase.Content) any { return c.Solution.SelectionCriteria }, false},
		{"solution.selectedVendor", func(c usecase.Content) any { return c.Solution.SelectedVendor }, false},
		{"implementation.methodology", func(c usecase.Content) any { return c.Implementation.Methodology }, false},
		{"implementation.totalBudget", func(c usecase.Content) any { return c.Implementation.TotalBudget }, false},
		{"challengesAndSolutions", func(c usecase.Content) any { return c.ChallengesAndSolutions }, false},
		{"results.qualitativeImpacts", func(c usecase.Content) any { return c.Results.QualitativeImpacts }, false},
		{"results.roiAnalysis", func(c usecase.Content) any { return c.Results.RoiAnalysis }, false},
		{"lessonsLearned", func(c usecase.Content) any { return c.LessonsLearned }, false},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			if tc.kept {
				assert.Equal(t, tc.of(full), tc.of(p))
			} else {
				assert.Empty(t, tc.of(p), "the projection leaves it to the document")
			}
		})
	}

	t.Run("technology components keep their names only", func(t *testing.T) {
		require.Len(t, p.Solution.TechnologyComponents, len(full.Solution.TechnologyComponents))
		for i, x := range full.Solution.TechnologyComponents {
			assert.Equal(t, usecase.Component{Component: x.Component}, p.Solution.TechnologyComponents[i])
		}
	})
	t.Run("every field of Content is named above", func(t *testing.T) {
		// A field added to Content later must be placed on one side or the other here.
		b, err := json.Marshal(full)
		require.NoError(t, err)
		var top map[string]any
		require.NoError(t, json.Unmarshal(b, &top))
		named := map[string]bool{"solution": true, "implementation": true, "results": true}
		for _, tc := range cases {
			named[tc.field] = true
		}
		for k := range top {
			assert.True(t, named[k], "Content.%s is not in the table", k)
		}
	})
	t.Run("empty lists stay empty, absent ones absent", func(t *testing.T) {
		c := usecase.Content{Tags: []string{}, Results: usecase.Results{QuantitativeMetrics: []usecase.Metric{}}}
		got := usecase.Project(c)
		assert.NotNil(t, got.Tags)
		assert.NotNil(t, got.Results.QuantitativeMetrics)
		assert.Nil(t, got.Solution.TechnologyComponents)
		assert.Equal(t, c, usecase.Project(got), "projecting twice changes nothing")
	})
	t.Run("a projection of a projection is itself", func(t *testing.T) {
		assert.Equal(t, p, usecase.Project(p))
	})
}
