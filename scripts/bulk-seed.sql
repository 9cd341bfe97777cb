-- Issue 15's data sizes for the mixed load (scripts/perf-mixed.sh with BULK=1): 100,000 forum
-- topics, 100,000 published use cases and 1,000,000 activity entries, added after `loadgen seed`
-- by its people, with titles that mix the words the load searches for (English and Arabic).
-- Rows written straight into the tables, as an import would: the dashboard's counters are
-- recounted afterwards with `p2p stats rebuild`. Not for a database anyone uses.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE bulk_people AS SELECT array_agg(id ORDER BY id) AS ids, array_agg(organization_id ORDER BY id) AS orgs FROM users;
CREATE TEMP TABLE bulk_words AS SELECT ARRAY['maintenance', 'quality', 'sensor', 'energy', 'الصيانة', 'الجودة',
    'vibration', 'automation', 'inspection', 'OEE', 'conveyor', 'pump'] AS w;
CREATE TEMP TABLE bulk_cats AS SELECT array_agg(id ORDER BY id) AS ids FROM forum_categories;

INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text,
                          created_at, updated_at, last_activity_at)
SELECT gen_random_uuid(), c.ids[1 + i % cardinality(c.ids)], p.ids[1 + i % cardinality(p.ids)],
       CASE WHEN i % 3 = 0 THEN 'question' ELSE 'discussion' END,
       initcap(w.w[1 + i % 12]) || ' on line ' || (i % 40) || ': ' || w.w[1 + (i / 12) % 12] || ' notes ' || i,
       'How we handled ' || w.w[1 + i % 12] || ' and ' || w.w[1 + (i / 7) % 12] || '.',
       '<p>How we handled ' || w.w[1 + i % 12] || ' and ' || w.w[1 + (i / 7) % 12] || '.</p>',
       'How we handled ' || w.w[1 + i % 12], 'How we handled ' || w.w[1 + i % 12] || ' and ' || w.w[1 + (i / 7) % 12] || '.',
       now() - i * interval '5 minutes', now() - i * interval '5 minutes', now() - i * interval '5 minutes'
  FROM generate_series(1, 100000) i, bulk_people p, bulk_words w, bulk_cats c;

INSERT INTO use_cases (id, organization_id, author_id, status, category, industry, city, region, roi, title, document,
                       published_at, submitted_at, created_at, updated_at)
SELECT gen_random_uuid(), p.orgs[1 + i % cardinality(p.orgs)], p.ids[1 + i % cardinality(p.ids)], 'published',
       (ARRAY['Quality Control', 'Predictive Maintenance', 'Factory Automation', 'Energy Efficiency'])[1 + i % 4],
       (ARRAY['Electronics Manufacturing', 'Food Processing', 'Petrochemicals'])[1 + i % 3],
       (ARRAY['Riyadh', 'Jeddah', 'Dammam'])[1 + i % 3], '', 100 + i % 300,
       initcap(w.w[1 + i % 12]) || ' programme ' || i,
       jsonb_build_object('title', initcap(w.w[1 + i % 12]) || ' programme ' || i,
           'description', 'Cut ' || w.w[1 + (i / 5) % 12] || ' losses with ' || w.w[1 + (i / 11) % 12] || '.',
           'category', (ARRAY['Quality Control', 'Predictive Maintenance', 'Factory Automation', 'Energy Efficiency'])[1 + i % 4],
           'industry', (ARRAY['Electronics Manufacturing', 'Food Processing', 'Petrochemicals'])[1 + i % 3],
           'factoryName', 'Plant ' || (i % 500), 'tags', jsonb_build_array(w.w[1 + i % 12]),
           'location', jsonb_build_object('city', (ARRAY['Riyadh', 'Jeddah', 'Dammam'])[1 + i % 3],
               'latitude', (ARRAY[24.71, 21.49, 26.42])[1 + i % 3] + (i % 100) * 0.001,
               'longitude', (ARRAY[46.67, 39.19, 50.09])[1 + i % 3] + (i % 77) * 0.001),
           'implementation', jsonb_build_object('implementationTime', (3 + i % 9) || ' months'),
           'results', jsonb_build_object('roiPercentage', (100 + i % 300) || '%',
               'quantitativeMetrics', jsonb_build_array(jsonb_build_object('metric', 'Downtime', 'improvement', (10 + i % 60) || '% less')))),
       now() - i * interval '7 minutes', now() - i * interval '7 minutes', now() - i * interval '7 minutes', now()
  FROM generate_series(1, 100000) i, bulk_people p, bulk_words w;

INSERT INTO activity_entries (event_id, kind, actor_id, organization_id, topic_id, content, category, link, created_at)
SELECT 1000000000000 + i, (ARRAY['question_asked', 'answer_posted', 'reply_posted'])[1 + i % 3],
       p.ids[1 + i % cardinality(p.ids)], p.orgs[1 + i % cardinality(p.orgs)], t.ids[1 + i % 1000], 'Topic ' || i, 'Automation',
       '/forum/topics/' || t.ids[1 + i % 1000], now() - i * interval '1 second'
  FROM generate_series(1, 1000000) i, bulk_people p,
       (SELECT array_agg(id) AS ids FROM (SELECT id FROM forum_topics ORDER BY created_at DESC LIMIT 1000) x) t;
COMMIT;
VACUUM ANALYZE;
