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
	// factory is the plant, when it is not the person's organization itself: the demo's three
	// companies run sites across the Kingdom, which the map and the library's filters show.
	factory                                     string
	city, region                                string
	lat, lng                                    float64
	tags                                        []string
	metric, baseline, current, improvement, roi string
	featured                                    bool
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
	{by: 0, title: "Automated Changeover on SMT Lines", subtitle: "Pre-kitted feeder carts and barcode checks for high-mix, low-volume orders",
		description: "Feeder carts kitted offline and a barcode check at every slot brought changeovers on three SMT lines from 95 to 28 minutes, so small orders no longer cost a shift of setups.",
		category:    "Factory Automation", industry: "Electronics Manufacturing", factory: "Advanced Electronics Co., Medina plant",
		city: "Medina", region: "Madinah Region", lat: 24.4672, lng: 39.6111, tags: []string{"SMT", "SMED", "Barcode"},
		metric: "Average changeover time", baseline: "95 minutes", current: "28 minutes", improvement: "71% faster", roi: "210% ROI in 14 months", featured: true},
	{by: 0, title: "VR Training for Switchgear Assembly", subtitle: "Virtual reality modules for lockout-tagout and high-voltage testing",
		description: "New technicians rehearse lockout-tagout and high-voltage test procedures in VR before they touch a live panel. Recordable incidents fell from seven a year to one, and new hires reach full output three weeks sooner.",
		category:    "Training & Safety", industry: "Electrical Equipment", factory: "Advanced Electronics Co., Tabuk switchgear plant",
		city: "Tabuk", region: "Tabuk Region", lat: 28.3835, lng: 36.5662, tags: []string{"VR", "Safety", "LOTO"},
		metric: "Recordable safety incidents", baseline: "7 a year", current: "1 a year", improvement: "86% fewer", roi: "95% ROI in first year"},
	{by: 0, title: "تخطيط الطلب على المكونات الإلكترونية بالتعلم الآلي", subtitle: "توقعات أسبوعية للطلب تربط طلبات العملاء بالمخزون ومواعيد الموردين",
		description: "استبدلنا جداول البيانات بنموذج تنبؤ أسبوعي يربط طلبات العملاء بمخزون المكونات ومواعيد التوريد، فانخفض المخزون الراكد بنسبة ٣٥٪ وقلّت حالات توقف الخطوط بسبب نقص القطع.",
		category:    "Supply Chain", industry: "Electronics Manufacturing", factory: "Advanced Electronics Co., Mecca assembly plant",
		city: "Mecca", region: "Makkah Region", lat: 21.3891, lng: 39.8579, tags: []string{"سلاسل الإمداد", "تعلم آلي"},
		metric: "قيمة المخزون الراكد", baseline: "4.1 مليون ريال", current: "2.7 مليون ريال", improvement: "انخفاض 35%", roi: "عائد 160% خلال 18 شهرًا"},
	{by: 0, title: "Digital Twin for New Power Supply Designs", subtitle: "Simulating thermal and electrical load before the first prototype is built",
		description: "A digital twin of our power supply units lets engineers try thermal and electrical load in simulation. Physical prototypes per new design fell from six to two, and design time from nine months to five.",
		category:    "Innovation & R&D", industry: "Electronics Manufacturing", factory: "Advanced Electronics Co., Abha design centre",
		city: "Abha", region: "Asir Region", lat: 18.2164, lng: 42.5053, tags: []string{"Digital Twin", "Simulation"},
		metric: "Prototypes per new design", baseline: "6 builds", current: "2 builds", improvement: "67% fewer", roi: "130% ROI in two years"},
	{by: 1, title: "Blow Moulding Cycle Time Optimization", subtitle: "Process data from twelve blow moulding machines, analysed shift by shift",
		description: "Logging melt temperature, cooling time and parison weight on every cycle showed where cooling ran longer than it had to. Cycle time fell 14% and resin per bottle 6%, with no rise in rejects.",
		category:    "Process Optimization", industry: "Packaging", factory: "Gulf Plastics Industries, Yanbu packaging plant",
		city: "Yanbu", region: "Madinah Region", lat: 24.0895, lng: 38.0618, tags: []string{"Blow Moulding", "Process Data"},
		metric: "Cycle time per bottle", baseline: "11.8 seconds", current: "10.1 seconds", improvement: "14% shorter", roi: "320% ROI in first year", featured: true},
	{by: 1, title: "Closed-Loop Recycling of Production Scrap", subtitle: "Granulating and re-compounding sprues, runners and rejected parts on site",
		description: "Scrap that once went to landfill is now granulated, dried and blended back at up to 20% into parts nobody sees. Landfilled plastic fell by 420 tonnes a year and virgin resin purchases by 9%.",
		category:    "Sustainability", industry: "Plastics Manufacturing", factory: "Gulf Plastics Industries, Jubail recycling line",
		city: "Jubail", region: "Eastern Province", lat: 27.0112, lng: 49.6583, tags: []string{"Recycling", "Circular Economy"},
		metric: "Plastic sent to landfill", baseline: "460 tonnes a year", current: "40 tonnes a year", improvement: "91% reduction", roi: "275% ROI in two years"},
	{by: 1, title: "الفحص الآلي لإحكام أغطية عبوات التمور", subtitle: "كاميرات وأجهزة كشف تسرب على خطوط إنتاج عبوات التمور",
		description: "ركّبنا كاميرات وأجهزة لكشف التسرب على خطين لإنتاج عبوات التمور، فصار كل غطاء يُفحص بدلاً من عينة كل ساعة، وانخفضت شكاوى العملاء من العبوات غير المحكمة بنسبة ٧٠٪.",
		category:    "Quality Control", industry: "Food Packaging", factory: "Gulf Plastics Industries, Buraidah plant",
		city: "Buraidah", region: "Al-Qassim Region", lat: 26.3260, lng: 43.9750, tags: []string{"جودة", "رؤية حاسوبية", "تمور"},
		metric: "شكاوى العملاء من العبوات", baseline: "46 شكوى شهريًا", current: "14 شكوى شهريًا", improvement: "انخفاض 70%", roi: "عائد 190% في السنة الأولى"},
	{by: 1, title: "Servo Pump Retrofit on Injection Moulding Machines", subtitle: "Servo-driven pumps in place of fixed-speed hydraulics on ten machines",
		description: "Ten older injection moulding machines got servo-driven hydraulic pumps that idle between shots instead of running flat out. Energy per kilogram of parts fell by more than a third, and oil temperatures by 8 degrees.",
		category:    "Energy Efficiency", industry: "Plastics Manufacturing", factory: "Gulf Plastics Industries, Hail moulding plant",
		city: "Hail", region: "Hail Region", lat: 27.5114, lng: 41.7208, tags: []string{"Servo Drives", "Energy"},
		metric: "Energy per kg of parts", baseline: "0.92 kWh", current: "0.58 kWh", improvement: "37% reduction", roi: "150% ROI in 30 months"},
	{by: 2, title: "Thermal Imaging for Overhead Crane Maintenance", subtitle: "Monthly infrared surveys of crane motors, brakes and electrical panels",
		description: "Monthly infrared surveys of our eight overhead cranes find loose connections and overheating brakes before they fail. Breakdowns that stopped the fabrication bay fell from eleven a year to two.",
		category:    "Predictive Maintenance", industry: "Steel Fabrication", factory: "Eastern Steel Works, Khobar fabrication shop",
		city: "Khobar", region: "Eastern Province", lat: 26.2172, lng: 50.1971, tags: []string{"Thermography", "Cranes"},
		metric: "Crane breakdowns", baseline: "11 a year", current: "2 a year", improvement: "82% fewer", roi: "400% ROI in first year"},
	{by: 2, title: "روبوتات لحام آلية لهياكل الصلب", subtitle: "خليتا لحام روبوتيتان للوصلات المتكررة في الهياكل المعدنية",
		description: "أدخلنا خليتي لحام روبوتيتين للوصلات المتكررة في هياكل المباني الصلبة، فارتفع الإنتاج اليومي بنسبة ٤٥٪ وقلّت إعادة العمل على اللحامات، وانتقل اللحامون المهرة إلى الوصلات المعقدة.",
		category:    "Factory Automation", industry: "Metal Processing", factory: "Eastern Steel Works, Al-Ahsa plant",
		city: "Al-Ahsa", region: "Eastern Province", lat: 25.3833, lng: 49.5833, tags: []string{"روبوتات", "لحام"},
		metric: "الإنتاج اليومي من الهياكل", baseline: "22 طنًا", current: "32 طنًا", improvement: "زيادة 45%", roi: "عائد 170% خلال عامين"},
	{by: 2, title: "إعادة تدوير مياه التبريد في خطوط البثق", subtitle: "ترشيح مياه تبريد القوالب وإعادة استخدامها في منطقة شحيحة المياه",
		description: "في منطقة تقل فيها المياه، ركّبنا نظامًا لترشيح مياه تبريد قوالب بثق الألمنيوم وإعادة استخدامها، فانخفض استهلاك المياه العذبة بنسبة ٦٠٪ وتراجعت تكلفة نقلها بالصهاريج.",
		category:    "Sustainability", industry: "Aluminium Extrusion", factory: "Eastern Steel Works, Najran extrusion plant",
		city: "Najran", region: "Najran Region", lat: 17.5656, lng: 44.2289, tags: []string{"مياه", "استدامة"},
		metric: "استهلاك المياه العذبة", baseline: "180 م³ يوميًا", current: "72 م³ يوميًا", improvement: "انخفاض 60%", roi: "عائد 120% خلال ثلاث سنوات"},
	{by: 2, title: "Nesting Software for Laser Cutting", subtitle: "Automatic nesting and a remnant register on two fibre laser cutters",
		description: "Nesting parts across orders automatically, and keeping a register of usable remnants, raised sheet utilisation on our laser cutters from 71% to 86%. Programmers spend an hour a day less on layouts.",
		category:    "Process Optimization", industry: "Metal Processing", factory: "Eastern Steel Works, Unaizah service centre",
		city: "Unaizah", region: "Al-Qassim Region", lat: 26.0840, lng: 43.9936, tags: []string{"Laser Cutting", "Nesting"},
		metric: "Sheet utilisation", baseline: "71%", current: "86%", improvement: "+15 points", roi: "230% ROI in first year"},
}

// content is the use case as the submission form's six steps ask for it.
func (d demoUseCase) content() map[string]any {
	factory := d.factory
	if factory == "" {
		factory = demoPeople[d.by].org
	}
	return map[string]any{
		"title": d.title, "subtitle": d.subtitle, "description": d.description, "category": d.category,
		"industry": d.industry, "factoryName": factory, "tags": d.tags,
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
