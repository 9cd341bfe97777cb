package location

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func names(cs []City) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func TestSearch(t *testing.T) {
	g, err := New()
	require.NoError(t, err)
	tests := []struct {
		name, q string
		limit   int
		want    []string // the first answers, in order
	}{
		{"english prefix", "jed", 5, []string{"Jeddah"}},
		{"case and spaces", "  RIY ", 5, []string{"Riyadh"}},
		{"a word of a spelling", "khob", 5, []string{"Khobar"}},
		{"another spelling", "makkah", 5, []string{"Mecca"}},
		{"arabic", "جد", 5, []string{"Jeddah"}},
		{"arabic without the article", "خبر", 5, []string{"Khobar"}},
		{"arabic alef with hamza typed bare", "ابها", 5, []string{"Abha"}},
		{"arabic teh marbuta typed as heh", "جده", 5, []string{"Jeddah"}},
		{"diacritics ignored", "جُدَّة", 5, []string{"Jeddah"}},
		{"whole names, larger first", "al kh", 3, []string{"Al Kharj", "Khobar", "Al Khafji"}},
		{"accents folded", "sultanah", 1, []string{"Sultanah"}},
		{"nothing", "zzz", 5, nil},
		{"empty: the largest", "", 3, []string{"Riyadh", "Jeddah", "Mecca"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(g.Search(tt.q, nil, tt.limit))
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			require.GreaterOrEqual(t, len(got), len(tt.want), got)
			assert.Equal(t, tt.want, got[:len(tt.want)])
			assert.LessOrEqual(t, len(got), tt.limit)
		})
	}
}

func TestSearchNear(t *testing.T) {
	g, err := New()
	require.NoError(t, err)
	// From Dhahran's airport: Dhahran, Al Khobar and Dammam are the three nearest.
	got := g.Search("", &Point{26.2654, 50.1520}, 3)
	assert.ElementsMatch(t, []string{"Dhahran", "Khobar", "Dammam"}, names(got))
	for i := 1; i < len(got); i++ {
		assert.LessOrEqual(t, *got[i-1].DistanceKm, *got[i].DistanceKm)
	}
	// Riyadh to Jeddah is about 850 km as the crow flies.
	jed := g.Search("jeddah", &Point{24.7136, 46.6753}, 1)
	require.Len(t, jed, 1)
	assert.InDelta(t, 850, *jed[0].DistanceKm, 30)
}

func TestEveryCityHasBothNames(t *testing.T) {
	g, err := New()
	require.NoError(t, err)
	assert.Greater(t, len(g.cities), 90)
	seen := map[string]bool{}
	for _, c := range g.cities {
		assert.NotEmpty(t, c.NameAr, c.Name)
		assert.NotEmpty(t, c.RegionAr, c.Name)
		assert.False(t, seen[c.Name], "duplicate %s", c.Name)
		seen[c.Name] = true
		// Every city lies inside Saudi Arabia's bounding box.
		assert.True(t, c.Latitude > 16 && c.Latitude < 32.2 && c.Longitude > 34.5 && c.Longitude < 55.7, c.Name)
	}
}

func TestPointValid(t *testing.T) {
	assert.True(t, Point{24.7, 46.6}.Valid())
	assert.False(t, Point{91, 0}.Valid())
	assert.False(t, Point{0, 181}.Valid())
}
