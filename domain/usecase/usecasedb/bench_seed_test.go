package usecasedb_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/location"
)

// benchData is what seedLibrary made: the viewer (a member of an unverified organization), a
// sample of published use cases' ids, and the map's box around Jeddah holding about 10,000 of
// them.
type benchData struct {
	viewer identity.Principal
	ids    []string
	box    [4]float64 // minLat, minLng, maxLat, maxLng
	inBox  int
}

// rnd is a pseudo-random number in [0, 1) of the seed row i, the k-th of the row: hashed, so the
// data set is the same in every run.
func rnd(k int) string {
	return fmt.Sprintf("((hashint8(i::bigint * 64 + %d) & 2147483647)::float8 / 2147483648)", k)
}

// pick is element 1 + floor(n × rnd(k)^skew) of the SQL array arr of n elements: skew 1 is
// uniform, larger ones favour the first elements (the larger cities, the commoner categories).
func pick(arr string, n, k int, skew float64) string {
	return fmt.Sprintf("(%s)[1 + least(%d, floor(%d * power(%s, %g))::int)]", arr, n-1, n, rnd(k), skew)
}

func sqlArray(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + strings.ReplaceAll(x, "'", "''") + "'"
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]"
}

var (
	benchCategories = []string{ // usecase.Categories, commonest first
		"Quality Control", "Predictive Maintenance", "Energy Efficiency", "Factory Automation", "Process Optimization",
		"Supply Chain", "Sustainability", "Training & Safety", "Innovation & R&D"}
	benchIndustries = []string{
		"Food & Beverage", "Petrochemicals", "Metal Processing", "Plastics Manufacturing", "Building Materials",
		"Automotive", "Electronics Manufacturing", "Pharmaceuticals", "Packaging", "Textiles", "Oil & Gas", "Water & Utilities"}
	benchTechs = []string{
		"Computer Vision", "Predictive Maintenance", "Digital Twin", "IoT Sensors", "Machine Learning", "Collaborative Robots",
		"Energy Management", "MES", "SCADA Upgrade", "Thermal Imaging", "RFID Tracking", "Augmented Reality",
		"Edge Analytics", "Automated Guided Vehicles", "Vibration Monitoring", "Solar Power"}
	benchProblems = []string{
		"Weld Inspection", "Pump Failures", "Energy Costs", "Packaging Line Downtime", "Scrap Reduction",
		"Compressed Air Leaks", "Operator Training", "Warehouse Picking", "Furnace Efficiency", "Paint Shop Quality",
		"Boiler Maintenance", "Batch Traceability", "Water Reuse", "Changeover Time", "Forklift Safety", "Spare Parts Inventory"}
	benchTechsAr = []string{
		"الرؤية الحاسوبية", "الصيانة التنبؤية", "التوأم الرقمي", "إنترنت الأشياء", "الروبوتات التعاونية", "إدارة الطاقة",
		"مراقبة الاهتزازات", "التصوير الحراري"}
	benchProblemsAr = []string{
		"لفحص اللحامات", "لأعطال المضخات", "لخفض تكاليف الطاقة", "لتوقف خطوط التعبئة", "لتقليل الهدر",
		"لتسربات الهواء المضغوط", "لتدريب المشغلين", "لكفاءة الأفران"}
	benchTags = []string{
		"AI", "Computer Vision", "IoT", "Vibration", "Predictive Maintenance", "MES", "SCADA", "PLC", "Digital Twin",
		"Robotics", "Energy", "Lean", "Six Sigma", "Cloud", "Edge", "Machine Learning", "AR", "Cobots", "RFID",
		"Traceability", "ERP", "Sensors", "Thermal Imaging", "Compressed Air", "Solar", "Water Treatment", "Safety",
		"Training", "طاقة", "صيانة"}
	benchComponents = []string{
		"Industrial Cameras", "Edge Gateway", "Vibration Sensors", "PLC Integration", "Cloud Dashboard",
		"Machine Learning Model", "Smart Meters", "RFID Readers", "Collaborative Robot Arm", "AR Headsets",
		"Thermal Cameras", "MES Connector"}
	// Three sentences of each description: what was done, what it returned, what else changed.
	benchDone = []string{
		"We installed vibration and temperature sensors on the hydraulic pumps of every press.",
		"A computer vision system now inspects every weld on the assembly line.",
		"Smart meters on the furnaces feed an energy management system that schedules the heaviest loads at night.",
		"Collaborative robots took over palletising at the end of the packaging lines.",
		"A digital twin of the plant lets planners test a changeover before the line stops.",
		"RFID tags follow every batch from the raw material store to the customer's truck.",
		"Thermal cameras watch the electrical cabinets and the kiln shell around the clock.",
		"Operators learn new procedures on augmented reality headsets instead of in a classroom."}
	benchGained = []string{"Unplanned downtime fell by ", "Scrap fell by ", "Energy per tonne dropped by ", "Rework hours fell by "}
	benchAlso   = []string{
		"The maintenance team now plans its work a week ahead.",
		"The quality team audits supplier batches in minutes instead of days.",
		"Water reuse cut the plant's draw from the municipal network.",
		"The rollout reached all three shifts after a pilot on one line.",
		"Night-shift safety incidents have not recurred since.",
		"Spare parts are ordered before they are needed, not after a breakdown."}
	benchDoneAr = []string{
		"ركّبنا حساسات للاهتزاز والحرارة على مضخات المكابس، فصار فريق الصيانة يعرف الأعطال قبل وقوعها.",
		"نظام رؤية حاسوبية يفحص كل لحام على خط التجميع.",
		"عدادات ذكية على الأفران مربوطة بنظام لإدارة الطاقة يجدول الأحمال الثقيلة ليلاً.",
		"روبوتات تعاونية تتولى التغليف في نهاية خطوط الإنتاج."}
	benchGainedAr = []string{"انخفض التوقف غير المخطط بنسبة ", "انخفض الهدر بنسبة ", "انخفض استهلاك الطاقة للطن بنسبة "}
	benchAlsoAr   = []string{
		"أصبحت خطة الصيانة الوقائية أسبوعية بدلاً من شهرية.",
		"تدرب جميع المشغلين على النظام الجديد خلال شهر.",
		"توقفت حوادث السلامة في الوردية الليلية."}
	benchOrgPrefixes = []string{
		"Gulf", "Arabian", "Najd", "Red Sea", "Eastern", "Al-Rashid", "Al-Faisal", "Jazeera", "Tihama", "Hijaz",
		"Al-Yamamah", "Sahara", "Nakheel", "Dhahran", "Al-Watania", "Qassim", "Asir", "Tabuk", "Jubail", "Yanbu"}
	benchOrgSuffixes = []string{
		"Plastics", "Steel", "Foods", "Cement", "Packaging", "Chemicals", "Electronics", "Textiles", "Pharma", "Glass"}
)

// seedLibrary fills pool's database with 100,000 published use cases of 1,000 organizations
// (2,000 people) as the library would hold them after a few years: the nine categories and twelve
// industries, commoner ones more often; a fifth written in Arabic; three tags of thirty and two
// technology components of twelve each; GeoNames' Saudi cities (domain/location), larger ones
// more often, each factory within about 10 km of its city's centre; a stated ROI for nine in ten;
// published over three years; views, likes and saves skewed as popularity is; one in eight
// verified, one in 300 featured; 100,000 likes. The columns and the document are written as
// usecasedb.Create and Save write them (roi is the ROI's leading number). It ends with VACUUM
// ANALYZE (autovacuum is off on this machine) and a CHECKPOINT, so neither overlaps the timings.
func seedLibrary(b *testing.B, pool *pgxpool.Pool) benchData { return seedLibraryOf(b, pool, 100_000) }

// seedLibraryOf is seedLibrary with n use cases in place of 100,000.
func seedLibraryOf(b *testing.B, pool *pgxpool.Pool, n int) benchData {
	b.Helper()
	ctx := context.Background()
	base, err := os.ReadFile("../testdata/complete.json")
	if err != nil {
		b.Fatal(err)
	}
	g, err := location.New()
	if err != nil {
		b.Fatal(err)
	}
	cities := g.Search("", nil, 10_000) // every city, the largest first
	var names, namesAr, regions []string
	var lats, lngs []float64
	for _, c := range cities {
		names, namesAr, regions = append(names, c.Name), append(namesAr, c.NameAr), append(regions, c.Region)
		lats, lngs = append(lats, c.Latitude), append(lngs, c.Longitude)
	}
	nc := len(cities)

	useCases := `
		INSERT INTO use_cases (id, organization_id, author_id, status, category, industry, title, city, region,
			view_count, like_count, save_count, roi, document, version, submissions, review_outcome, reviewed_by,
			reviewed_at, verified_at, verified_by, featured_at, submitted_at, published_at, created_at, updated_at)
		SELECT gen_random_uuid(), o.id, CASE WHEN p.ar OR i % 3 = 0 THEN o.admin ELSE o.member END, 'published',
			p.category, p.industry, t.title, ($2::text[])[p.c], ($4::text[])[p.c],
			p.views, p.likes, p.saves, p.roi,
			$1::jsonb || jsonb_build_object(
				'title', t.title, 'subtitle', t.subtitle, 'description', t.description,
				'category', p.category, 'industry', p.industry, 'factoryName', o.name,
				'tags', jsonb_build_array(p.tag1, p.tag2, p.tag3),
				'solution', jsonb_build_object('selectionCriteria', jsonb_build_array('Proven in plants like ours', 'Runs with the systems we have'),
					'selectedVendor', 'Integrator ' || (i % 97),
					'technologyComponents', jsonb_build_array(
						jsonb_build_object('component', p.comp1, 'details', p.comp1 || ' on ' || p.lines || ' lines'),
						jsonb_build_object('component', p.comp2, 'details', 'Wired to the plant network'))),
				'implementation', jsonb_build_object('methodology', 'A pilot on one line, then a rollout in phases',
					'implementationTime', p.months || ' months implementation', 'totalBudget', to_char(p.budget, 'FM999,999,999')),
				'results', ($1::jsonb->'results') || jsonb_build_object(
					'quantitativeMetrics', jsonb_build_array(
						jsonb_build_object('metric', p.metric, 'baseline', '100', 'current', (100 - p.gain)::text, 'improvement', p.gain || '% reduction'),
						jsonb_build_object('metric', 'Hours spent on manual checks', 'baseline', '40 a week', 'current', '28 a week', 'improvement', '30% fewer')),
					'roiPercentage', CASE WHEN p.roi IS NULL THEN '' ELSE p.roi || '% ROI in ' || (ARRAY['first year', '18 months', 'two years'])[1 + i % 3] END),
				'location', jsonb_build_object('city', ($2::text[])[p.c], 'region', ($4::text[])[p.c],
					'latitude', round((($5::float8[])[p.c] + p.dlat)::numeric, 5), 'longitude', round((($6::float8[])[p.c] + p.dlng)::numeric, 5)),
				'contactPerson', 'Contact ' || (i % 2000), 'contactTitle', 'Plant Manager'),
			1, 1, 'publish', $7::uuid, p.published, CASE WHEN i % 8 = 0 THEN p.published + interval '2 days' END,
			CASE WHEN i % 8 = 0 THEN $7::uuid END, CASE WHEN i % 300 = 0 THEN p.published + interval '3 days' END,
			p.published - interval '3 days', p.published, p.published - interval '30 days', p.published
		FROM generate_series(0, ` + fmt.Sprint(n-1) + `) i
		CROSS JOIN LATERAL (SELECT
			i % 5 = 1 AS ar,
			1 + least(` + fmt.Sprint(nc-1) + `, floor(` + fmt.Sprint(nc) + ` * power(` + rnd(1) + `, 3))::int) AS c,
			` + pick(sqlArray(benchCategories), len(benchCategories), 2, 1.3) + ` AS category,
			` + pick(sqlArray(benchIndustries), len(benchIndustries), 3, 1.5) + ` AS industry,
			floor(1000 * power(` + rnd(4) + `, 2))::int AS org,
			floor(5000 * power(` + rnd(5) + `, 4))::int AS views,
			floor(250 * power(` + rnd(5) + `, 4) * ` + rnd(6) + `)::int AS likes,
			floor(150 * power(` + rnd(5) + `, 4) * ` + rnd(7) + `)::int AS saves,
			CASE WHEN i % 10 = 7 THEN NULL ELSE 20 + floor(480 * power(` + rnd(8) + `, 2))::int END AS roi,
			now() - interval '1095 days' * ` + rnd(9) + ` AS published,
			0.18 * (` + rnd(10) + ` - 0.5) AS dlat, 0.18 * (` + rnd(11) + ` - 0.5) AS dlng,
			` + pick(sqlArray(benchTechs), len(benchTechs), 12, 1) + ` AS tech,
			` + pick(sqlArray(benchProblems), len(benchProblems), 13, 1) + ` AS problem,
			` + pick(sqlArray(benchTechsAr), len(benchTechsAr), 12, 1) + ` AS tech_ar,
			` + pick(sqlArray(benchProblemsAr), len(benchProblemsAr), 13, 1) + ` AS problem_ar,
			floor(30 * ` + rnd(14) + `)::int AS t1, floor(14 * ` + rnd(15) + `)::int AS t2, floor(14 * ` + rnd(16) + `)::int AS t3,
			` + pick(sqlArray(benchComponents), len(benchComponents), 17, 1) + ` AS comp1,
			` + pick(sqlArray(benchComponents), len(benchComponents), 18, 1) + ` AS comp2,
			` + pick(sqlArray(benchDone), len(benchDone), 19, 1) + ` AS done,
			` + pick(sqlArray(benchDoneAr), len(benchDoneAr), 19, 1) + ` AS done_ar,
			` + pick(sqlArray(benchGained), len(benchGained), 20, 1) + ` AS gained,
			` + pick(sqlArray(benchGainedAr), len(benchGainedAr), 20, 1) + ` AS gained_ar,
			` + pick(sqlArray(benchAlso), len(benchAlso), 21, 1) + ` AS also,
			` + pick(sqlArray(benchAlsoAr), len(benchAlsoAr), 21, 1) + ` AS also_ar,
			(ARRAY['Unplanned downtime', 'Scrap rate', 'Energy per tonne', 'Rework hours'])[1 + i % 4] AS metric,
			5 + floor(60 * ` + rnd(22) + `)::int AS gain,
			2 + floor(16 * ` + rnd(23) + `)::int AS months,
			1 + floor(8 * ` + rnd(24) + `)::int AS lines,
			(50 + floor(4950 * power(` + rnd(25) + `, 2))::int) * 1000 AS budget,
			i AS n) p0
		CROSS JOIN LATERAL (SELECT p0.*,
			(` + sqlArray(benchTags) + `)[1 + p0.t1] AS tag1,
			(` + sqlArray(benchTags) + `)[1 + (p0.t1 + 1 + p0.t2) % 30] AS tag2,
			(` + sqlArray(benchTags) + `)[1 + (p0.t1 + 15 + p0.t3) % 30] AS tag3) p
		JOIN seed_org o ON o.n = p.org
		CROSS JOIN LATERAL (SELECT
			CASE WHEN p.ar THEN p.tech_ar || ' ' || p.problem_ar || ' في ' || ($3::text[])[p.c]
			     ELSE p.tech || ' for ' || p.problem || ' in ' || ($2::text[])[p.c] END AS title,
			CASE WHEN p.ar THEN p.tech_ar || ' على ' || p.lines || ' خطوط' ELSE p.tech || ' on ' || p.lines || ' lines' END AS subtitle,
			CASE WHEN p.ar THEN p.done_ar || ' ' || p.gained_ar || p.gain || '٪ خلال السنة الأولى. ' || p.also_ar
			     ELSE p.done || ' ' || p.gained || p.gain || '% in the first year. ' || p.also END AS description) t`
	start := time.Now()
	tx, err := pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	steps := []struct {
		sql  string
		args []any
	}{
		{`CREATE TEMP TABLE seed_org ON COMMIT DROP AS
		  SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS admin, gen_random_uuid() AS member,
		         (` + sqlArray(benchOrgPrefixes) + `)[1 + n % 20] || ' ' || (` + sqlArray(benchOrgSuffixes) + `)[1 + (n / 20) % 10] ||
		         CASE WHEN n >= 200 THEN ' ' || (n / 200 + 1) ELSE '' END AS name
		    FROM generate_series(0, 999) n`, nil},
		{`INSERT INTO organizations (id, name, industry, size, country, city, admin_user_id, verified_at)
		  SELECT id, name, (` + sqlArray(benchIndustries) + `)[1 + n % 12], 'medium', 'Saudi Arabia', 'Riyadh', admin,
		         CASE WHEN n % 4 = 0 THEN now() END FROM seed_org`, nil},
		{`INSERT INTO users (id, organization_id, email, first_name, last_name, role, job_title)
		  SELECT u.id, o.id, u.role || o.n || '@bench.example', (ARRAY['Hala','Omar','Sara','Khalid','Nora','Faisal'])[1 + o.n % 6],
		         (ARRAY['Al-Harbi','Al-Otaibi','Al-Qahtani','Al-Ghamdi','Al-Zahrani'])[1 + o.n % 5], u.role, 'Plant Manager'
		    FROM seed_org o CROSS JOIN LATERAL (VALUES (o.admin, 'admin'), (o.member, 'member')) u(id, role)`, nil},
		{useCases, []any{string(base), names, namesAr, regions, lats, lngs, "00000000-0000-0000-0000-000000000000"}},
		{`INSERT INTO use_case_likes (use_case_id, user_id, created_at)
		  SELECT u.id, ((SELECT array_agg(id) FROM users))[1 + (hashtext(u.id::text || g) & 1023)], now()
		    FROM use_cases u, generate_series(1, 2) g WHERE u.like_count > 0 ON CONFLICT DO NOTHING`, nil},
	}
	// The moderator who reviewed and verified them: the first organization's admin.
	var moderator string
	for i, s := range steps {
		if i == 3 {
			if err := tx.QueryRow(ctx, `SELECT admin FROM seed_org WHERE n = 0`).Scan(&moderator); err != nil {
				b.Fatal(err)
			}
			s.args[6] = moderator
		}
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			b.Fatalf("seeding: %v\n%s", err, s.sql)
		}
	}
	var d benchData
	// The viewer: the member of an unverified organization with a few use cases, who liked and saved some.
	if err := tx.QueryRow(ctx, `SELECT member, id FROM seed_org WHERE n = 901`).Scan(&d.viewer.UserID, &d.viewer.OrganizationID); err != nil {
		b.Fatal(err)
	}
	d.viewer.Roles = []string{identity.RoleMember}
	d.viewer.EmailVerified = true
	for _, table := range []string{"use_case_likes", "use_case_saves"} {
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (use_case_id, user_id, created_at)
			SELECT id, $1, now() FROM use_cases ORDER BY hashtext(id::text || '`+table+`') LIMIT 40 ON CONFLICT DO NOTHING`,
			d.viewer.UserID); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	// An index (or any change) to try before writing its migration, e.g.
	// USECASE_BENCH_SQL='CREATE INDEX … ; CREATE INDEX …'.
	if extra := os.Getenv("USECASE_BENCH_SQL"); extra != "" {
		if _, err := pool.Exec(ctx, extra); err != nil {
			b.Fatalf("USECASE_BENCH_SQL: %v", err)
		}
		b.Logf("applied USECASE_BENCH_SQL: %s", extra)
	}
	for _, sql := range []string{`VACUUM ANALYZE`, `CHECKPOINT`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	seeded := time.Since(start)

	rows, err := pool.Query(ctx, `SELECT id::text FROM use_cases ORDER BY hashtext(id::text) LIMIT 1000`)
	if err != nil {
		b.Fatal(err)
	}
	if d.ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		b.Fatal(err)
	}
	// The square around Jeddah that holds 10,000 use cases (Makkah and Taif fall in it).
	const lat, lng = 21.49012, 39.18624
	var half float64
	if err := pool.QueryRow(ctx, `SELECT percentile_disc(least(1, 10000.0 / (SELECT count(*) FROM use_cases WHERE status = 'published'))) WITHIN GROUP (ORDER BY greatest(abs(y - $1), abs(x - $2)))
		FROM (SELECT (document->'location'->>'latitude')::float8 y, (document->'location'->>'longitude')::float8 x
		        FROM use_cases WHERE status = 'published') s`, lat, lng).Scan(&half); err != nil {
		b.Fatal(err)
	}
	d.box = [4]float64{lat - half, lng - half, lat + half, lng + half}
	var total, size int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM use_cases u WHERE status = 'published'
			AND (document->'location'->>'latitude')::float8 BETWEEN $1 AND $3 AND (document->'location'->>'longitude')::float8 BETWEEN $2 AND $4),
		(SELECT count(*) FROM use_cases), pg_total_relation_size('use_cases')`, d.box[0], d.box[1], d.box[2], d.box[3]).
		Scan(&d.inBox, &total, &size); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d published use cases (use_cases with its indexes and TOAST: %d MB) in %s; the map's box is ±%.3f° around Jeddah with %d",
		total, size>>20, seeded.Round(time.Second), half, d.inBox)
	return d
}
