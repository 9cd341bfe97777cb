// Package location answers the location pickers of the use case form and the library's "near me":
// Saudi cities by a prefix typed in English or Arabic, or by distance from a point.
//
// The list is small and changes with the map, not with the data, so it is embedded and searched
// in memory: no table, no round trip, the same answer on every node.
package location

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

//go:embed cities.csv
var citiesCSV []byte

//go:embed regions.csv
var regionsCSV []byte

// City is one place a use case can be located in.
type City struct {
	Name      string  `json:"name"`
	NameAr    string  `json:"nameAr"`
	Region    string  `json:"region"`
	RegionAr  string  `json:"regionAr"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	// DistanceKm is the distance from the point asked about, when one was.
	DistanceKm *float64 `json:"distanceKm,omitempty"`

	keys []string // normalised names and spellings, whole
	rank int      // position in the file: its order of importance
}

// Point is a place on the map.
type Point struct{ Latitude, Longitude float64 }

// Valid reports whether p is on the globe.
func (p Point) Valid() bool {
	return p.Latitude >= -90 && p.Latitude <= 90 && p.Longitude >= -180 && p.Longitude <= 180 &&
		!math.IsNaN(p.Latitude) && !math.IsNaN(p.Longitude)
}

// Gazetteer holds the cities.
type Gazetteer struct{ cities []City }

// New parses the embedded lists.
func New() (*Gazetteer, error) {
	regions := map[string][2]string{}
	rows, err := readCSV(regionsCSV, 3)
	if err != nil {
		return nil, fmt.Errorf("location: regions: %w", err)
	}
	for _, r := range rows {
		regions[r[0]] = [2]string{r[1], r[2]}
	}
	rows, err = readCSV(citiesCSV, 6)
	if err != nil {
		return nil, fmt.Errorf("location: cities: %w", err)
	}
	g := &Gazetteer{cities: make([]City, 0, len(rows))}
	for i, r := range rows {
		region, ok := regions[r[2]]
		if !ok {
			return nil, fmt.Errorf("location: city %q: unknown region %q", r[0], r[2])
		}
		lat, err1 := strconv.ParseFloat(r[3], 64)
		lon, err2 := strconv.ParseFloat(r[4], 64)
		if err1 != nil || err2 != nil || !(Point{lat, lon}).Valid() {
			return nil, fmt.Errorf("location: city %q: bad coordinates", r[0])
		}
		c := City{Name: r[0], NameAr: r[1], Region: region[0], RegionAr: region[1], Latitude: lat, Longitude: lon, rank: i}
		for _, n := range append([]string{r[0], r[1]}, strings.Split(r[5], "|")...) {
			if k := Normalize(n); k != "" {
				c.keys = append(c.keys, k)
			}
		}
		g.cities = append(g.cities, c)
	}
	return g, nil
}

func readCSV(b []byte, fields int) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	r.FieldsPerRecord = fields
	var rows [][]string
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
}

// Search returns up to limit cities whose name, in either language or another common spelling,
// or one of whose words, starts with q (compared after Normalize). With near, matches come
// nearest first and carry their distance; without, whole-name matches come before word matches,
// then the more important city first. An empty q matches every city (the nearest, or the most
// important).
func (g *Gazetteer) Search(q string, near *Point, limit int) []City {
	q = Normalize(q)
	type hit struct {
		c     City
		score int // 0 whole name, 1 word
		dist  float64
	}
	var hits []hit
	for _, c := range g.cities {
		score, ok := match(c.keys, q)
		if !ok {
			continue
		}
		h := hit{c: c, score: score}
		if near != nil {
			h.dist = distanceKm(*near, Point{c.Latitude, c.Longitude})
			d := math.Round(h.dist*10) / 10
			h.c.DistanceKm = &d
		}
		hits = append(hits, h)
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if near != nil {
			return hits[i].dist < hits[j].dist
		}
		if hits[i].score != hits[j].score {
			return hits[i].score < hits[j].score
		}
		return hits[i].c.rank < hits[j].c.rank
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]City, len(hits))
	for i, h := range hits {
		out[i] = h.c
	}
	return out
}

// match reports whether q starts one of keys (score 0) or one of their words (score 1). Arabic's
// article is a word of its own for this purpose: "خبر" finds "الخبر" as "khobar" finds "al khobar".
func match(keys []string, q string) (int, bool) {
	if q == "" {
		return 0, true
	}
	best, ok := 2, false
	for _, k := range keys {
		if strings.HasPrefix(k, q) {
			return 0, true
		}
		for _, w := range strings.Fields(k) {
			if strings.HasPrefix(w, q) || strings.HasPrefix(strings.TrimPrefix(w, "ال"), q) {
				best, ok = 1, true
			}
		}
	}
	return best, ok
}

// Normalize folds what people type differently into one form: lower case, punctuation as
// spaces, Arabic without diacritics and tatweel, its alef forms as bare alef, teh marbuta as
// heh and alef maksura as yeh (the forum's search folds Arabic the same way).
func Normalize(s string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 0x064B && r <= 0x065F, r == 0x0670, r == 0x0640, r == '\'', r == '’':
			continue
		case r == 'أ', r == 'إ', r == 'آ', r == 'ٱ':
			r = 'ا'
		case r == 'ة':
			r = 'ه'
		case r == 'ى':
			r = 'ي'
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSpace(b.String())
}

// distanceKm is the great-circle distance between a and b.
func distanceKm(a, b Point) float64 {
	const earthKm = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (b.Latitude-a.Latitude)*rad, (b.Longitude-a.Longitude)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Latitude*rad)*math.Cos(b.Latitude*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(h)))
}
