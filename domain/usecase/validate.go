package usecase

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/ids"
)

// Steps of the submission form: basic information, business challenge, solution and
// implementation, results and challenges, location and contact, review (all of them).
const Steps = 6

// Sizes autosave holds a draft to, whatever the rules of the steps say.
const (
	maxShort   = 100    // a filter's value
	maxText    = 5000   // characters of any one field
	maxItems   = 20     // items of any one list
	maxContent = 200000 // bytes of the whole content as JSON
)

// Merge applies a JSON merge patch (RFC 7396) to c: objects merge, null removes, anything else
// replaces. Unknown fields are errs.Invalid; wrong types a validation error naming the field.
func Merge(c Content, patch map[string]any) (Content, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return Content{}, fmt.Errorf("encoding content: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return Content{}, fmt.Errorf("decoding content: %w", err)
	}
	mergeInto(doc, patch)
	b, err = json.Marshal(doc)
	if err != nil {
		return Content{}, fmt.Errorf("encoding content: %w", err)
	}
	return Decode(b)
}

// Decode reads content from JSON, refusing unknown fields and wrong types as Merge does.
func Decode(b []byte) (Content, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var out Content
	err := dec.Decode(&out)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &typeErr):
		return Content{}, errs.Fields(errs.FieldError{Field: typeErr.Field, Message: "must be " + kindOf(typeErr.Type) + ", not " + typeErr.Value})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return Content{}, errs.E(errs.Invalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return Content{}, errs.E(errs.Invalid, "the content cannot be read")
}

func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Float64, reflect.Int:
		return "a number"
	case reflect.Pointer:
		return kindOf(t.Elem())
	}
	return t.Kind().String()
}

func mergeInto(doc, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			if dv, ok := doc[k].(map[string]any); ok {
				mergeInto(dv, pv)
				continue
			}
			fresh := map[string]any{}
			mergeInto(fresh, pv)
			doc[k] = fresh
		default:
			doc[k] = v
		}
	}
}

// checkSizes holds content to the sizes a draft may have.
func checkSizes(c Content) error {
	if b, _ := json.Marshal(c); len(b) > maxContent {
		return errs.E(errs.TooLarge, "a use case holds at most %d bytes of text", maxContent)
	}
	var bad []errs.FieldError
	walk(reflect.ValueOf(c), "", func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if utf8.RuneCountInString(v.String()) > maxText {
				bad = append(bad, errs.FieldError{Field: path, Message: "must be at most " + strconv.Itoa(maxText) + " characters"})
			}
		case reflect.Slice:
			if v.Len() > maxItems {
				bad = append(bad, errs.FieldError{Field: path, Message: "must have at most " + strconv.Itoa(maxItems) + " items"})
			}
		case reflect.Float64:
			f := v.Float()
			if f != f || f > 1e300 || f < -1e300 {
				bad = append(bad, errs.FieldError{Field: path, Message: "must be a finite number"})
			}
		}
	})
	bad = append(bad, checkImages(c.ImageIDs)...)
	if len(bad) > 0 {
		return errs.Fields(bad...)
	}
	return nil
}

// MaxImages is how many images a use case shows (the submission form's limit).
const MaxImages = 5

func checkImages(list []string) []errs.FieldError {
	return ids.CheckList("imageIds", list, MaxImages)
}

// walk calls fn for every field, item and leaf of v with its path (a.b[1].c).
func walk(v reflect.Value, path string, fn func(string, reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walk(v.Elem(), path, fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			p := name
			if path != "" {
				p = path + "." + name
			}
			walk(v.Field(i), p, fn)
		}
	case reflect.Slice:
		fn(path, v)
		for i := range v.Len() {
			walk(v.Index(i), path+"["+strconv.Itoa(i)+"]", fn)
		}
	default:
		fn(path, v)
	}
}

// tidy gives lists that are absent an empty value, so every use case has the same shape.
func tidy(c Content) Content {
	for _, l := range []*[]string{&c.Tags, &c.BusinessChallenge.SpecificProblems, &c.Solution.SelectionCriteria, &c.Results.QualitativeImpacts} {
		if *l == nil {
			*l = []string{}
		}
	}
	if c.Solution.TechnologyComponents == nil {
		c.Solution.TechnologyComponents = []Component{}
	}
	if c.ChallengesAndSolutions == nil {
		c.ChallengesAndSolutions = []ChallengeSolution{}
	}
	if c.Results.QuantitativeMetrics == nil {
		c.Results.QuantitativeMetrics = []Metric{}
	}
	if c.LessonsLearned == nil {
		c.LessonsLearned = []Lesson{}
	}
	return c
}

// messages are the rules' messages in one language.
type messages struct{ ar bool }

func msg(lang string) messages {
	return messages{ar: strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "ar")}
}

func (m messages) required() string {
	if m.ar {
		return "مطلوب"
	}
	return "is required"
}

func (m messages) between(lo, hi int) string {
	if m.ar {
		return fmt.Sprintf("يجب أن يكون من %d إلى %d حرفًا", lo, hi)
	}
	return fmt.Sprintf("must be %d to %d characters", lo, hi)
}

func (m messages) atLeast(lo int) string {
	if m.ar {
		return fmt.Sprintf("يجب ألا يقل عن %d أحرف", lo)
	}
	return fmt.Sprintf("must be at least %d characters", lo)
}

func (m messages) items(lo, hi int) string {
	if m.ar {
		return fmt.Sprintf("يجب أن يحتوي على %d إلى %d عناصر", lo, hi)
	}
	return fmt.Sprintf("must have %d to %d items", lo, hi)
}

func (m messages) number(lo, hi float64) string {
	if m.ar {
		return fmt.Sprintf("يجب أن يكون رقمًا بين %g و %g", lo, hi)
	}
	return fmt.Sprintf("must be a number from %g to %g", lo, hi)
}

func (m messages) category() string {
	if m.ar {
		return "يجب أن تكون إحدى الفئات التسع"
	}
	return "must be one of the nine categories"
}

// checker collects the field errors of one step.
type checker struct {
	m   messages
	bad []errs.FieldError
}

func (c *checker) add(field, message string) {
	c.bad = append(c.bad, errs.FieldError{Field: field, Message: message})
}

func runes(s string) int { return utf8.RuneCountInString(strings.TrimSpace(s)) }

// length: lo to hi characters (hi 0: no upper bound), and required.
func (c *checker) length(field, s string, lo, hi int) {
	n := runes(s)
	switch {
	case n == 0:
		c.add(field, c.m.required())
	case hi > 0 && (n < lo || n > hi):
		c.add(field, c.m.between(lo, hi))
	case hi == 0 && n < lo:
		c.add(field, c.m.atLeast(lo))
	}
}

// list: lo to hi items, each at least each characters.
func (c *checker) list(field string, items []string, lo, hi, each int) {
	if len(items) < lo || len(items) > hi {
		c.add(field, c.m.items(lo, hi))
	}
	for i, s := range items {
		c.length(field+"["+strconv.Itoa(i)+"]", s, each, 0)
	}
}

func (c *checker) count(field string, n, lo, hi int) {
	if n < lo || n > hi {
		c.add(field, c.m.items(lo, hi))
	}
}

func (c *checker) coordinate(field string, f *float64, limit float64) {
	switch {
	case f == nil:
		c.add(field, c.m.required())
	case *f < -limit || *f > limit:
		c.add(field, c.m.number(-limit, limit))
	}
}

// CheckStep checks the content against the rules of the frontend's form (its zod schema, §2.5 d
// of the frontend contract) for one step, 1 to 5; Steps checks them all. Messages are in lang.
// Images (1 to 5) are not checked yet: they come with the media of use cases.
func CheckStep(u Content, step int, lang string) []errs.FieldError {
	c := &checker{m: msg(lang)}
	all := step == Steps
	if step == 1 || all {
		c.length("title", u.Title, 10, 100)
		c.length("subtitle", u.Subtitle, 10, 150)
		c.length("description", u.Description, 50, 500)
		if strings.TrimSpace(u.Category) == "" {
			c.add("category", c.m.required())
		} else if !slices.Contains(Categories, u.Category) {
			c.add("category", c.m.category())
		}
		c.length("factoryName", u.FactoryName, 2, 80)
		if runes(u.Industry) > maxShort {
			c.add("industry", c.m.between(0, maxShort))
		}
	}
	if step == 2 || all {
		b := u.BusinessChallenge
		c.length("businessChallenge.industryContext", b.IndustryContext, 50, 500)
		c.list("businessChallenge.specificProblems", b.SpecificProblems, 2, 5, 10)
		c.length("businessChallenge.businessImpact.financialLoss", b.BusinessImpact.FinancialLoss, 5, 0)
	}
	if step == 3 || all {
		s, im := u.Solution, u.Implementation
		c.list("solution.selectionCriteria", s.SelectionCriteria, 2, 5, 10)
		c.length("solution.selectedVendor", s.SelectedVendor, 2, 0)
		c.count("solution.technologyComponents", len(s.TechnologyComponents), 1, 4)
		for i, t := range s.TechnologyComponents {
			at := "solution.technologyComponents[" + strconv.Itoa(i) + "]"
			c.length(at+".component", t.Component, 2, 0)
			c.length(at+".details", t.Details, 20, 0)
		}
		c.length("implementation.implementationTime", im.ImplementationTime, 3, 0)
		c.length("implementation.totalBudget", im.TotalBudget, 3, 0)
		c.length("implementation.methodology", im.Methodology, 20, 0)
	}
	if step == 4 || all {
		r := u.Results
		c.count("results.quantitativeMetrics", len(r.QuantitativeMetrics), 2, 4)
		for i, q := range r.QuantitativeMetrics {
			at := "results.quantitativeMetrics[" + strconv.Itoa(i) + "]"
			c.length(at+".metric", q.Metric, 5, 0)
			c.length(at+".baseline", q.Baseline, 2, 0)
			c.length(at+".current", q.Current, 2, 0)
			c.length(at+".improvement", q.Improvement, 2, 0)
		}
		c.count("challengesAndSolutions", len(u.ChallengesAndSolutions), 1, 4)
		for i, x := range u.ChallengesAndSolutions {
			at := "challengesAndSolutions[" + strconv.Itoa(i) + "]"
			c.length(at+".challenge", x.Challenge, 10, 0)
			c.length(at+".description", x.Description, 20, 0)
			c.length(at+".solution", x.Solution, 20, 0)
			// outcome: optional (the frontend's form has no input for it).
		}
	}
	if step == 5 || all {
		c.length("location.city", u.Location.City, 2, 50)
		c.coordinate("location.latitude", u.Location.Latitude, 90)
		c.coordinate("location.longitude", u.Location.Longitude, 180)
	}
	return c.bad
}
