package forumdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/forum"
)

// BodyMigration is what MigrateBodiesToStore and MigrateBodiesToPostgres did and found: the posts
// walked, the posts moved and the versions written, and the count and checksum of every version
// of every post on each side, the target's read back after writing. It holds when Source equals
// Target.
type BodyMigration struct {
	Posts    int // topics and replies walked (deleted ones included: their bodies move too)
	Moved    int // posts moved by this run (0 on a repeated run)
	Versions int // versions written to the target
	Source   Checksum
	Target   Checksum
	// Changed counts the posts a writer changed while the migration read them: run it again.
	Changed int
}

// OK reports whether the target holds what the source held.
func (m BodyMigration) OK() bool { return m.Source == m.Target && m.Changed == 0 }

// Checksum is a count of versions and the SHA-256 of each post's versions (type, id, version,
// title, Markdown, HTML), posts in type and id order. When each version was written is moved but
// not summed: the row's own version is dated by its edited_at, which a save that changes nothing
// moves too, while the store dates a version when it was written.
type Checksum struct {
	Count int
	SHA   string
}

type summer struct {
	n int
	h hash.Hash
}

func newSummer() *summer { return &summer{h: sha256.New()} }

func (s *summer) add(k forum.Key, versions []forum.Versioned) {
	for _, v := range versions {
		s.n++
		title := "\x01" // no title, told apart from an empty one
		if v.Title != nil {
			title = *v.Title
		}
		for _, part := range []string{k.Type, k.ID, strconv.Itoa(v.Version), title, v.Markdown, v.HTML} {
			s.h.Write([]byte(part))
			s.h.Write([]byte{0})
		}
	}
}

func (s *summer) sum() Checksum { return Checksum{Count: s.n, SHA: hex.EncodeToString(s.h.Sum(nil))} }

// migrating is a post as the migration reads it from PostgreSQL: its row, the versions kept on
// the row's side (forum_revisions, numbered from 1 in order, then the row's own when its body is
// there), and those waiting in the outbox.
type migrating struct {
	key     forum.Key
	version int     // the row's body_version
	body    *string // nil: in the store
	onRows  []forum.Versioned
	queued  []forum.Versioned
}

// postTables are the tables of posts, by type, with a topic's title (a reply has none).
var postTables = []struct{ typ, table, title, topic string }{
	{forum.TypeTopic, "forum_topics", "x.title", "x.id"},
	{forum.TypeReply, "forum_posts", "NULL::text", "x.topic_id"},
}

// walkPosts calls fn with every topic and then every reply, in id order, batch at a time.
func walkPosts(ctx context.Context, pool *pgxpool.Pool, batch int, fn func([]migrating) error) error {
	if batch < 1 {
		return errors.New("the batch must hold at least one post")
	}
	for _, t := range postTables {
		after := "00000000-0000-0000-0000-000000000000"
		for {
			rows, err := pool.Query(ctx, `SELECT x.id::text, `+t.topic+`::text, x.body_version, x.body, x.body_html, `+t.title+`,
				coalesce(x.edited_at, x.created_at) FROM `+t.table+` x WHERE x.id > $1::uuid ORDER BY x.id LIMIT $2`, after, batch)
			if err != nil {
				return fmt.Errorf("reading %s: %w", t.table, err)
			}
			page := []migrating{}
			index := map[string]int{}
			for rows.Next() {
				var m migrating
				var html *string
				var cur forum.Versioned
				if err := rows.Scan(&m.key.ID, &m.key.Topic, &m.version, &m.body, &html, &cur.Title, &cur.WrittenAt); err != nil {
					rows.Close()
					return fmt.Errorf("reading %s: %w", t.table, err)
				}
				m.key.Type = t.typ
				if m.body != nil {
					cur.Version, cur.Markdown, cur.HTML = m.version, *m.body, *html
					m.onRows = []forum.Versioned{cur} // the revisions go before it, below
				}
				index[m.key.ID] = len(page)
				page = append(page, m)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("reading %s: %w", t.table, err)
			}
			if len(page) == 0 {
				break
			}
			if err := readVersions(ctx, pool, t.typ, page, index); err != nil {
				return err
			}
			if err := fn(page); err != nil {
				return err
			}
			after = page[len(page)-1].key.ID
		}
	}
	return nil
}

// readVersions adds to page its posts' revisions kept on the row's side and their queued versions.
func readVersions(ctx context.Context, pool *pgxpool.Pool, typ string, page []migrating, index map[string]int) error {
	ids := make([]string, len(page))
	for i, m := range page {
		ids[i] = m.key.ID
	}
	revisions := make(map[string][]forum.Versioned, len(page))
	rows, err := pool.Query(ctx, `SELECT target_id::text, title, body, body_html, written_at FROM forum_revisions
		WHERE target_type = $1 AND target_id = ANY($2::uuid[]) ORDER BY target_id, id`, typ, ids)
	if err != nil {
		return fmt.Errorf("reading revisions: %w", err)
	}
	for rows.Next() {
		var id string
		var v forum.Versioned
		if err := rows.Scan(&id, &v.Title, &v.Markdown, &v.HTML, &v.WrittenAt); err != nil {
			rows.Close()
			return fmt.Errorf("reading revisions: %w", err)
		}
		v.Version = len(revisions[id]) + 1
		revisions[id] = append(revisions[id], v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading revisions: %w", err)
	}
	for id, revs := range revisions {
		m := &page[index[id]]
		m.onRows = append(revs, m.onRows...)
	}
	rows, err = pool.Query(ctx, `SELECT target_id::text, version, title, body, body_html, written_at FROM forum_body_outbox
		WHERE target_type = $1 AND target_id = ANY($2::uuid[]) ORDER BY target_id, version`, typ, ids)
	if err != nil {
		return fmt.Errorf("reading the forum body outbox: %w", err)
	}
	for rows.Next() {
		var id string
		var v forum.Versioned
		if err := rows.Scan(&id, &v.Version, &v.Title, &v.Markdown, &v.HTML, &v.WrittenAt); err != nil {
			rows.Close()
			return fmt.Errorf("reading the forum body outbox: %w", err)
		}
		m := &page[index[id]]
		m.queued = append(m.queued, v)
	}
	return rows.Err()
}

// merged is every version of a post, by number: those of the row's side, the store's, the
// queued ones, later sources taking a number's place (the queued version is the newest write).
func merged(sources ...[]forum.Versioned) []forum.Versioned {
	byVersion := map[int]forum.Versioned{}
	top := 0
	for _, src := range sources {
		for _, v := range src {
			byVersion[v.Version] = v
			top = max(top, v.Version)
		}
	}
	out := make([]forum.Versioned, 0, len(byVersion))
	for n := 1; n <= top; n++ {
		if v, ok := byVersion[n]; ok {
			out = append(out, v)
		}
	}
	return out
}

func keysOf(page []migrating) []forum.Key {
	keys := make([]forum.Key, len(page))
	for i, m := range page {
		keys[i] = m.key
	}
	return keys
}

func tableOf(typ string) string {
	if typ == forum.TypeTopic {
		return "forum_topics"
	}
	return "forum_posts"
}

// MigrateBodiesToStore moves the forum's bodies from PostgreSQL into bodies: every version of
// every post (the revisions kept by the triggers of 00014, numbered from 1 in order, and the row's
// own body at its body_version) is Put, and then, in one transaction per post, the row's body is
// cleared (a reply keeps the text search reads) and its revisions deleted. A queued version is
// delivered too. Put is idempotent by version and a moved row is recognised (its body is NULL),
// so the run is resumable and repeatable. Then every post's versions are read back from bodies and
// the checksums compared.
func MigrateBodiesToStore(ctx context.Context, pool *pgxpool.Pool, bodies forum.Bodies, batch int) (BodyMigration, error) {
	var m BodyMigration
	src, dst := newSummer(), newSummer()
	err := eachPost(ctx, pool, bodies, batch, func(p migrating, stored []forum.Versioned) error {
		m.Posts++
		all := merged(stored, p.onRows, p.queued)
		n, err := put(ctx, bodies, p, merged(p.onRows, p.queued))
		m.Versions += n
		if err != nil {
			return err
		}
		if len(p.onRows) > 0 {
			changed, err := clearRow(ctx, pool, p)
			if err != nil {
				return err
			}
			switch {
			case changed:
				m.Changed++
			case p.body != nil:
				m.Moved++
			}
		}
		if err := dropQueued(ctx, pool, p); err != nil {
			return err
		}
		src.add(p.key, all)
		return nil
	})
	if err != nil {
		return m, err
	}
	m.Source = src.sum()
	err = eachPost(ctx, pool, bodies, batch, func(p migrating, stored []forum.Versioned) error {
		dst.add(p.key, stored)
		return nil
	})
	m.Target = dst.sum()
	return m, err
}

// eachPost calls fn with every post and its versions in bodies, reading bodies a page of posts
// at a time.
func eachPost(ctx context.Context, pool *pgxpool.Pool, bodies forum.Bodies, batch int, fn func(p migrating, stored []forum.Versioned) error) error {
	return walkPosts(ctx, pool, batch, func(page []migrating) error {
		stored, err := bodies.History(ctx, keysOf(page))
		if err != nil {
			return fmt.Errorf("reading forum bodies: %w", err)
		}
		for _, p := range page {
			if err := fn(p, stored[p.key]); err != nil {
				return err
			}
		}
		return nil
	})
}

// put stores versions of p in bodies and counts them.
func put(ctx context.Context, bodies forum.Bodies, p migrating, versions []forum.Versioned) (int, error) {
	for i, v := range versions {
		if err := bodies.Put(ctx, p.key, v.Version, v.Body); err != nil {
			return i, fmt.Errorf("putting %s %s version %d: %w", p.key.Type, p.key.ID, v.Version, err)
		}
	}
	return len(versions), nil
}

// dropQueued deletes p's versions from the outbox once the migration has delivered them.
func dropQueued(ctx context.Context, pool *pgxpool.Pool, p migrating) error {
	if len(p.queued) == 0 {
		return nil
	}
	if _, err := pool.Exec(ctx, `DELETE FROM forum_body_outbox WHERE target_type = $1 AND target_id = $2 AND version <= $3`,
		p.key.Type, p.key.ID, p.queued[len(p.queued)-1].Version); err != nil {
		return fmt.Errorf("emptying the outbox of %s %s: %w", p.key.Type, p.key.ID, err)
	}
	return nil
}

// clearRow clears a moved post's body from its row, unless a writer changed it since it was read
// (then it reports changed and leaves it), and deletes its revisions there.
func clearRow(ctx context.Context, pool *pgxpool.Pool, p migrating) (changed bool, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if p.body != nil {
			text := ""
			if p.key.Type == forum.TypeReply {
				text = "body_text = forum_html_text(body_html), " // what search reads stays on the row
			}
			tag, err := tx.Exec(ctx, `UPDATE `+tableOf(p.key.Type)+` SET `+text+`body = NULL, body_html = NULL
				WHERE id = $1 AND body_version = $2 AND body = $3`, p.key.ID, p.version, *p.body)
			if err != nil {
				return fmt.Errorf("moving the body of %s %s: %w", p.key.Type, p.key.ID, err)
			}
			if tag.RowsAffected() == 0 {
				changed = true
				return nil
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM forum_revisions WHERE target_type = $1 AND target_id = $2`, p.key.Type, p.key.ID); err != nil {
			return fmt.Errorf("moving the revisions of %s %s: %w", p.key.Type, p.key.ID, err)
		}
		return nil
	})
	return changed, err
}

// MigrateBodiesToPostgres moves the forum's bodies from bodies back onto their rows, for a
// process that runs without mongo.url again: for every post whose body is in the store, its
// versions below the row's body_version become revisions (after those already kept there) and
// the newest its body, in one transaction per post. A queued version is delivered to the store
// too, so that the store is as new as the rows. The store's documents stay (drop the collection
// forum_bodies once satisfied). Repeatable: a second run moves nothing. Then every post's
// versions are read back from PostgreSQL and the checksums compared.
func MigrateBodiesToPostgres(ctx context.Context, pool *pgxpool.Pool, bodies forum.Bodies, batch int) (BodyMigration, error) {
	var m BodyMigration
	src, dst := newSummer(), newSummer()
	err := eachPost(ctx, pool, bodies, batch, func(p migrating, stored []forum.Versioned) error {
		m.Posts++
		if _, err := put(ctx, bodies, p, p.queued); err != nil {
			return err
		}
		all := p.onRows // a body on its row is the newest, with its revisions before it
		if p.body == nil {
			all = merged(p.onRows, stored, p.queued)
			changed, written, err := restoreRow(ctx, pool, p, all)
			if err != nil {
				return err
			}
			if changed {
				m.Changed++
			} else {
				m.Moved++
				m.Versions += written
			}
		}
		if err := dropQueued(ctx, pool, p); err != nil {
			return err
		}
		src.add(p.key, all)
		return nil
	})
	if err != nil {
		return m, err
	}
	m.Source = src.sum()
	err = walkPosts(ctx, pool, batch, func(page []migrating) error {
		for _, p := range page {
			dst.add(p.key, p.onRows)
		}
		return nil
	})
	m.Target = dst.sum()
	return m, err
}

// restoreRow writes a post's versions all (whose last is the row's body_version) back onto its
// row: those after the revisions the row's side keeps become revisions, the last its body.
func restoreRow(ctx context.Context, pool *pgxpool.Pool, p migrating, all []forum.Versioned) (changed bool, written int, err error) {
	if len(all) == 0 || all[len(all)-1].Version != p.version {
		return true, 0, nil // the store lacks the row's version: a writer is ahead of it, or it was lost
	}
	kept := len(p.onRows) // revisions already on the row's side: versions 1..kept
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		last := all[len(all)-1]
		set := "body = $3, body_html = $4"
		if p.key.Type == forum.TypeReply {
			set += ", body_text = NULL"
		}
		tag, err := tx.Exec(ctx, `UPDATE `+tableOf(p.key.Type)+` SET `+set+` WHERE id = $1 AND body_version = $2 AND body IS NULL`,
			p.key.ID, p.version, last.Markdown, last.HTML)
		if err != nil {
			return fmt.Errorf("restoring the body of %s %s: %w", p.key.Type, p.key.ID, err)
		}
		if tag.RowsAffected() == 0 {
			changed = true
			return nil
		}
		for _, v := range all[:len(all)-1] {
			if v.Version <= kept {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO forum_revisions (target_type, target_id, title, body, body_html, written_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, p.key.Type, p.key.ID, v.Title, v.Markdown, v.HTML, v.WrittenAt); err != nil {
				return fmt.Errorf("restoring the revisions of %s %s: %w", p.key.Type, p.key.ID, err)
			}
			written++
		}
		written++
		return nil
	})
	return changed, written, err
}
