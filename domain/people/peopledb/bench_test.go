package peopledb_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/domain/people/peopledb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkDirectory measures a page of 20 of "Find professionals" on 100,000 people of 1,000
// organizations (eight industries, one in three verified; of the people one in twenty private,
// one in twenty visible to their organization, one in twenty to verified organizations; three
// expertise tags of thirty and one city of twelve each; 1,600 first and last name pairs), seen
// by a member of an unverified organization who follows 50 people (PEOPLE_EXPLAIN=1 logs each
// query's plan):
//
//	go test ./domain/people/peopledb/ -run '^$' -bench Directory -count 3
func BenchmarkDirectory(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	start := time.Now()
	tx, err := pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	for _, sql := range []string{
		`CREATE TEMP TABLE seed_org ON COMMIT DROP AS
		 SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS admin FROM generate_series(0, 999) n`,
		`INSERT INTO organizations (id, name, industry, size, country, city, admin_user_id, verified_at)
		 SELECT id, 'Organization ' || n,
		        (ARRAY['Food Processing','Electronics Manufacturing','Automotive','Chemicals','Textiles','Metals','Plastics','Energy'])[1 + n % 8],
		        'medium', 'Saudi Arabia', 'Riyadh', admin, CASE WHEN n % 3 = 0 THEN now() END
		   FROM seed_org`,
		`INSERT INTO users (id, organization_id, email, first_name, last_name, language_preference, role, is_active,
		                    profile_visibility, allow_messages_from, city, job_title, expertise_tags)
		 SELECT CASE WHEN i % 100 = 0 THEN o.admin ELSE gen_random_uuid() END, o.id, 'p' || i || '@bench.example',
		        (ARRAY['Hala','Omar','Sara','Khalid','Nora','Faisal','Lama','Yousef','Reem','Salah','Aisha','Hamad',
		               'Dana','Majed','Huda','Tariq','Mona','Bandar','Rana','Ziad','Layla','Fahad','Noura','Saad',
		               'Jana','Nasser','Hind','Waleed','Alia','Rakan','Maha','Sultan','Ghada','Adel','Ruba','Talal',
		               'Salma','Badr','Amal','Nawaf'])[1 + (hashtext('f' || i) & 1023) % 40],
		        (ARRAY['Qasim','Haddad','Al-Faisal','Al-Harbi','Al-Otaibi','Al-Qahtani','Al-Ghamdi','Al-Zahrani',
		               'Al-Shehri','Al-Mutairi','Al-Dosari','Al-Anazi','Al-Subaie','Al-Shammari','Al-Juhani','Al-Maliki',
		               'Al-Rashid','Al-Sayed','Khoury','Nassar','Saleh','Mansour','Hamdan','Barakat','Aziz','Karim',
		               'Farouk','Hakim','Jaber','Latif','Nabil','Qadir','Rahim','Sabri','Tamimi','Wahab','Yasin',
		               'Zaki','Bakr','Daher'])[1 + (hashtext('l' || i) & 1023) % 40],
		        'en', CASE WHEN i % 100 = 0 THEN 'admin' ELSE 'member' END, true,
		        CASE i % 20 WHEN 1 THEN 'private' WHEN 2 THEN 'organization' WHEN 3 THEN 'verified_only' ELSE 'public' END, 'anyone',
		        (ARRAY['Riyadh','Jeddah','Dammam','Mecca','Medina','Khobar','Tabuk','Abha','Taif','Jubail','Yanbu','Hail'])[1 + (hashtext('c' || i) & 1023) % 12],
		        'Engineer',
		        ARRAY[t[1 + (hashtext('a' || i) & 1023) % 30], t[1 + (hashtext('b' || i) & 1023) % 30], t[1 + (hashtext('d' || i) & 1023) % 30]]
		   FROM generate_series(0, 99999) i JOIN seed_org o ON o.n = i / 100,
		        (SELECT ARRAY['IoT','PLC','SCADA','Robotics','Machine Vision','Predictive Maintenance','MES','ERP',
		                      'Digital Twin','Lean','Six Sigma','Quality','Safety','Energy','HVAC','CNC','Additive',
		                      'Supply Chain','Logistics','Data Science','AI','Cloud','Cybersecurity','Networking',
		                      'Automation','Hydraulics','Pneumatics','Welding','Packaging','Sustainability'] AS t) tags`,
		`INSERT INTO people_follow_counts (user_id, followers, following)
		 SELECT id, 1 + (hashtext(id::text) & 511), 0 FROM users WHERE email LIKE 'p%0@bench.example'`,
	} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			b.Fatalf("seeding: %v\n%s", err, sql)
		}
	}
	var viewer identity.Principal
	if err := tx.QueryRow(ctx, `SELECT id, organization_id FROM users WHERE email = 'p101@bench.example'`).
		Scan(&viewer.UserID, &viewer.OrganizationID); err != nil {
		b.Fatal(err)
	}
	viewer.Roles = []string{identity.RoleMember}
	if _, err := tx.Exec(ctx, `INSERT INTO people_follows (follower_id, followee_id)
		SELECT $1, id FROM users WHERE email LIKE 'p%37@bench.example' ORDER BY email LIMIT 50`, viewer.UserID); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	for _, sql := range []string{`VACUUM ANALYZE`, `CHECKPOINT`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	// Cursors anywhere in the list, as a reader far down would hold.
	rows, err := pool.Query(ctx, `SELECT lower(first_name || ' ' || last_name), id::text FROM users TABLESAMPLE SYSTEM (5) LIMIT 1000`)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[people.DirectoryCursor])
	if err != nil {
		b.Fatal(err)
	}
	var cursors []string
	for _, k := range keys {
		cursors = append(cursors, page.Encode(k))
	}
	b.Logf("seeded 100,000 people in %s", time.Since(start).Round(time.Second))

	svc := people.NewService(peopledb.New(pool))
	for _, tc := range []struct {
		name string
		q    people.Query
		deep bool
	}{
		{"all/first", people.Query{}, false},
		{"all/deep", people.Query{}, true},
		{"name-part", people.Query{Q: "ala"}, false},
		{"full-name", people.Query{Q: "omar haddad"}, false},
		{"one-tag", people.Query{Expertise: []string{"Digital Twin"}}, false},
		{"two-tags", people.Query{Expertise: []string{"IoT", "SCADA"}}, false},
		{"industry", people.Query{Industry: "food processing"}, false},
		{"city", people.Query{City: "jeddah"}, false},
		{"city+tag+name", people.Query{City: "Riyadh", Expertise: []string{"PLC"}, Q: "al-"}, false},
	} {
		if os.Getenv("PEOPLE_EXPLAIN") != "" {
			sql, args := peopledb.DirectorySQL(viewer, tc.q, 21, nil)
			rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
			if err != nil {
				b.Fatal(err)
			}
			lines, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			b.Logf("%s:\n%s", tc.name, strings.Join(lines, "\n"))
		}
		b.Run(tc.name, func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				c := ""
				if tc.deep {
					c = cursors[rand.IntN(len(cursors))]
				}
				pg, err := svc.Directory(ctx, viewer, tc.q, 20, c)
				if err == nil && len(pg.Items) == 0 && !tc.deep {
					b.Fatalf("%s: an empty page", tc.name)
				}
				return err
			})
		})
	}
}
