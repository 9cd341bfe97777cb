package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// demoUseCase is a published use case of the demo: the submitting person, and the parts that
// differ between them (the rest is filled in as the form's six steps ask).
type demoUseCase struct {
	by                                               int
	title, subtitle, description, category, industry string
	city, region                                     string
	lat, lng                                         float64
	tags                                             []string
	metric, baseline, current, improvement, roi      string
	featured                                         bool
}

var demoUseCases = []demoUseCase{
	{by: 0, title: "AI Quality Inspection System", subtitle: "Computer vision on four PCB assembly lines",
		description: "A computer vision system on four lines cut the defect rate by 85% and rework costs with it, within six months.",
		category:    "Quality Control", industry: "Electronics Manufacturing", city: "Jeddah", region: "Makkah Region",
		lat: 21.4858, lng: 39.1925, tags: []string{"AI", "Computer Vision"},
		metric: "Defect rate", baseline: "15.0%", current: "2.25%", improvement: "85% reduction", roi: "250% ROI in first year", featured: true},
	{by: 1, title: "Predictive Maintenance for Injection Moulding", subtitle: "Vibration and temperature sensors on 24 machines",
		description: "Sensors and a simple model warn of hydraulic pump failures two weeks ahead; unplanned downtime fell by 40%.",
		category:    "Predictive Maintenance", industry: "Plastics Manufacturing", city: "Riyadh", region: "Riyadh Region",
		lat: 24.7136, lng: 46.6753, tags: []string{"IoT", "Vibration"},
		metric: "Unplanned downtime", baseline: "32 hours a month", current: "19 hours a month", improvement: "40% reduction", roi: "180% ROI in 18 months"},
	{by: 2, title: "تحسين كفاءة الطاقة في أفران الصهر", subtitle: "عدادات ذكية ونظام إدارة للطاقة في مصنع الصلب",
		description: "ركّبنا عدادات ذكية على أفران الصهر وربطناها بنظام لإدارة الطاقة، فانخفض استهلاك الكهرباء بنسبة ١٨٪ خلال عام.",
		category:    "Energy Efficiency", industry: "Metal Processing", city: "Dammam", region: "Eastern Province",
		lat: 26.4207, lng: 50.0888, tags: []string{"طاقة", "IoT"},
		metric: "Electricity per tonne", baseline: "620 kWh", current: "508 kWh", improvement: "18% reduction", roi: "140% ROI in two years", featured: true},
}

// content is the use case as the submission form's six steps ask for it.
func (d demoUseCase) content() map[string]any {
	return map[string]any{
		"title": d.title, "subtitle": d.subtitle, "description": d.description, "category": d.category,
		"industry": d.industry, "factoryName": demoPeople[d.by].org, "tags": d.tags,
		"businessChallenge": map[string]any{
			"industryContext":  "A plant running three shifts for customers who audit quality and delivery every quarter.",
			"specificProblems": []string{"Losses we could see but not measure", "Decisions made on monthly reports"},
			"businessImpact":   map[string]any{"financialLoss": "Several hundred thousand SAR a year"},
		},
		"solution": map[string]any{
			"selectionCriteria": []string{"Proven in plants like ours", "Runs with the systems we have"},
			"selectedVendor":    "A local integrator",
			"technologyComponents": []map[string]string{
				{"component": "Sensors and edge devices", "details": "Industrial sensors wired to an edge gateway on each line"},
			},
		},
		"implementation": map[string]any{"methodology": "A pilot on one line, then a rollout in phases",
			"implementationTime": "6 months implementation", "totalBudget": "285,000"},
		"challengesAndSolutions": []map[string]string{{"challenge": "Operators' trust",
			"description": "Operators doubted the first alerts", "solution": "Weekly reviews of every alert with the shift leads"}},
		"results": map[string]any{
			"quantitativeMetrics": []map[string]string{
				{"metric": d.metric, "baseline": d.baseline, "current": d.current, "improvement": d.improvement},
				{"metric": "Hours spent on manual checks", "baseline": "40 a week", "current": "28 a week", "improvement": "30% fewer"},
			},
			"roiPercentage": d.roi,
		},
		"location":      map[string]any{"city": d.city, "region": d.region, "latitude": d.lat, "longitude": d.lng},
		"contactPerson": demoPeople[d.by].first + " " + demoPeople[d.by].last,
	}
}

// seedUseCases submits the demo's use cases and has the moderator (the first demo person, when
// the server names her in auth.moderators, as make run does) publish them; otherwise they wait
// in the queue. It returns how many were published.
func seedUseCases(c *http.Client, base string, tokens []string) (int, error) {
	published := 0
	for _, d := range demoUseCases {
		b, _ := json.Marshal(d.content())
		res, err := authed(c, http.MethodPost, base+"/api/v1/use-cases", tokens[d.by], b)
		if err != nil {
			return published, fmt.Errorf("drafting %q: %w", d.title, err)
		}
		var uc struct{ ID string }
		if err := json.Unmarshal(res.body, &uc); err != nil {
			return published, err
		}
		if _, err := authed(c, http.MethodPost, base+"/api/v1/use-cases/"+uc.ID+"/submit", tokens[d.by], nil); err != nil {
			return published, fmt.Errorf("submitting %q: %w", d.title, err)
		}
		decision, _ := json.Marshal(map[string]string{"action": "publish"})
		if _, err := authed(c, http.MethodPost, base+"/api/v1/moderation/use-cases/"+uc.ID+"/decision", tokens[0], decision); err != nil {
			fmt.Printf("seed: %q waits for a moderator (%v)\n", d.title, err)
			continue
		}
		published++
		if d.featured {
			if _, err := authed(c, http.MethodPut, base+"/api/v1/moderation/use-cases/"+uc.ID+"/featured", tokens[0], nil); err != nil {
				return published, err
			}
		}
	}
	return published, nil
}
