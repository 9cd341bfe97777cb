package usecase_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/domain/usecase"
)

// TestFieldPaths: a comment may name every field, section, list and item of the use case as it
// stands, by the paths step validation uses, and nothing else.
func TestFieldPaths(t *testing.T) {
	c := complete(t)
	paths := usecase.FieldPaths(c)
	for _, p := range []string{
		"title", "businessChallenge", "businessChallenge.businessImpact.financialLoss", "businessChallenge.specificProblems[1]",
		"solution.technologyComponents", "solution.technologyComponents[0].details", "results.quantitativeMetrics[1].baseline",
		"results.roiAnalysis.paybackPeriod", "location.latitude", "lessonsLearned", "challengesAndSolutions[0].outcome",
	} {
		assert.True(t, paths[p], p)
	}
	n := len(c.Results.QuantitativeMetrics)
	for _, p := range []string{
		"", "Title", "title.x", "results.quantitativeMetrics[" + string(rune('0'+n)) + "].baseline", "results.quantitativeMetrics[-1]",
		"results.quantitativeMetrics.baseline", "results..roiPercentage", "location.latitude.x", "../title", "id", "status", "review",
	} {
		assert.False(t, paths[p], p)
	}
	var empty usecase.Content
	assert.True(t, usecase.FieldPaths(empty)["location.latitude"], "a field not yet filled in is still a field")
	assert.False(t, usecase.FieldPaths(empty)["results.quantitativeMetrics[0]"], "an item that does not exist is not")
}
