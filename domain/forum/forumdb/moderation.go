package forumdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// SetTopicFlags pins or locks a live topic.
func (s *Store) SetTopicFlags(ctx context.Context, id string, f forum.TopicFlags, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE forum_topics SET is_pinned = coalesce($2, is_pinned), is_locked = coalesce($3, is_locked),
		updated_at = $4 WHERE id = $1 AND deleted_at IS NULL`, id, f.Pinned, f.Locked, at)
	if err != nil {
		return fmt.Errorf("flagging topic: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return noTopic
	}
	return nil
}

// HideTopic deletes a topic as a moderator, keeping who and why, and records h.Event.
func (s *Store) HideTopic(ctx context.Context, id string, h forum.Hide) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		return removeTopic(ctx, tx, id, h.At, &h)
	})
}

// HideReply makes a reply a tombstone as a moderator, keeping who and why, and records h.Event.
func (s *Store) HideReply(ctx context.Context, id string, h forum.Hide) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		return removeReply(ctx, tx, id, h.At, &h)
	})
}

// removeTopic takes a topic out of every list and its category's count; h, when set, is a
// moderator's hiding.
func removeTopic(ctx context.Context, tx pgx.Tx, id string, at time.Time, h *forum.Hide) error {
	var by, reason *string
	if h != nil {
		by, reason = &h.By, &h.Reason
	}
	var cat string
	removed := forum.PostRemoved{TargetType: "topic", ID: id, TopicID: id}
	err := tx.QueryRow(ctx, `UPDATE forum_topics SET deleted_at = $2, updated_at = $2, hidden_by = $3, hidden_reason = $4
		WHERE id = $1 AND deleted_at IS NULL RETURNING category_id, author_id, kind`, id, at, by, reason).
		Scan(&cat, &removed.AuthorID, &removed.Kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return noTopic
	}
	if err != nil {
		return fmt.Errorf("deleting topic: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE forum_categories SET topic_count = topic_count - 1 WHERE id = $1`, cat); err != nil {
		return fmt.Errorf("uncounting topic: %w", err)
	}
	return recordRemoval(ctx, tx, removed, h)
}

// recordRemoval records that a post went, and a moderator's hiding of it.
func recordRemoval(ctx context.Context, tx pgx.Tx, removed forum.PostRemoved, h *forum.Hide) error {
	if err := outbox.AddEvents(ctx, tx, removed); err != nil {
		return err
	}
	if h != nil {
		return outbox.AddEvents(ctx, tx, h.Event)
	}
	return nil
}

// removeReply makes a reply a tombstone, uncounts it and unmarks it as the best answer; h, when
// set, is a moderator's hiding.
func removeReply(ctx context.Context, tx pgx.Tx, id string, at time.Time, h *forum.Hide) error {
	var by, reason *string
	if h != nil {
		by, reason = &h.By, &h.Reason
	}
	var topic string
	var parent *string
	removed := forum.PostRemoved{TargetType: "reply", ID: id}
	err := tx.QueryRow(ctx, `UPDATE forum_posts SET deleted_at = $2, updated_at = $2, hidden_by = $3, hidden_reason = $4
		WHERE id = $1 AND deleted_at IS NULL RETURNING topic_id, parent_id, author_id`, id, at, by, reason).
		Scan(&topic, &parent, &removed.AuthorID)
	if errors.Is(err, pgx.ErrNoRows) {
		return noReply
	}
	if err != nil {
		return fmt.Errorf("deleting reply: %w", err)
	}
	removed.TopicID = topic
	// The topic's lock first: a best answer marked meanwhile is seen, so the event says truly
	// whether this reply stopped being it.
	if err := tx.QueryRow(ctx, `SELECT best_answer_id IS NOT DISTINCT FROM $2::uuid FROM forum_topics WHERE id = $1 FOR UPDATE`,
		topic, id).Scan(&removed.WasBestAnswer); err != nil {
		return fmt.Errorf("loading topic: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE forum_topics SET reply_count = reply_count - 1,
		best_answer_id = CASE WHEN best_answer_id = $2 THEN NULL ELSE best_answer_id END WHERE id = $1`, topic, id); err != nil {
		return fmt.Errorf("uncounting reply: %w", err)
	}
	if parent != nil {
		if _, err := tx.Exec(ctx, `UPDATE forum_posts SET reply_count = reply_count - 1 WHERE id = $1`, *parent); err != nil {
			return fmt.Errorf("uncounting reply: %w", err)
		}
	}
	return recordRemoval(ctx, tx, removed, h)
}

// Revisions lists a post's earlier versions, oldest first: those kept on the row's side by the
// triggers of migration 00014 while its body was there, then those of the store (WithBodies).
func (s *Store) Revisions(ctx context.Context, targetType, id string) ([]forum.Revision, error) {
	rows, err := s.pool.Query(ctx, `SELECT title, body, body_html, written_at FROM forum_revisions
		WHERE target_type = $1 AND target_id = $2 ORDER BY id`, targetType, id)
	if err != nil {
		return nil, fmt.Errorf("listing revisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (forum.Revision, error) {
		var r forum.Revision
		err := row.Scan(&r.Title, &r.Content, &r.ContentHTML, &r.WrittenAt)
		return r, err
	})
	if err != nil || s.bodies == nil {
		return out, err
	}
	table, topic := "forum_topics", "id"
	if targetType == forum.TypeReply {
		table, topic = "forum_posts", "topic_id"
	}
	var current int
	var onRow bool
	k := forum.Key{Type: targetType, ID: id}
	if err := s.pool.QueryRow(ctx, `SELECT body_version, body IS NOT NULL, `+topic+`::text FROM `+table+` WHERE id = $1`, id).
		Scan(&current, &onRow, &k.Topic); errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	} else if err != nil {
		return nil, fmt.Errorf("listing revisions: %w", err)
	}
	if onRow {
		return out, nil // every version so far is on the row's side
	}
	stored, err := s.storedRevisions(ctx, k, current)
	return append(out, stored...), err
}

// CreateCategory adds a category at position, moving those at and after it down.
func (s *Store) CreateCategory(ctx context.Context, c forum.Category, position *int) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockCategories(ctx, tx); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM forum_categories
			WHERE id = $1 OR lower(name_en) = lower($2) OR name_ar = $3)`, c.ID, c.Name, c.NameAr).Scan(&taken); err != nil {
			return fmt.Errorf("checking category: %w", err)
		}
		if taken {
			return errs.E(errs.Conflict, "a category with this slug or name exists")
		}
		pos, err := placeAt(ctx, tx, position, true)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO forum_categories (id, name_en, name_ar, position) VALUES ($1, $2, $3, $4)`,
			c.ID, c.Name, c.NameAr, pos); err != nil {
			return fmt.Errorf("adding category: %w", err)
		}
		return nil
	})
}

// UpdateCategory renames or moves a category.
func (s *Store) UpdateCategory(ctx context.Context, id string, up forum.CategoryUpdate) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockCategories(ctx, tx); err != nil {
			return err
		}
		var pos int
		err := tx.QueryRow(ctx, `SELECT position FROM forum_categories WHERE id = $1`, id).Scan(&pos)
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.E(errs.NotFound, "no such category")
		}
		if err != nil {
			return fmt.Errorf("loading category: %w", err)
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM forum_categories
			WHERE id <> $1 AND (lower(name_en) = lower($2) OR name_ar = $3))`, id, up.Name, up.NameAr).Scan(&taken); err != nil {
			return fmt.Errorf("checking category: %w", err)
		}
		if taken {
			return errs.E(errs.Conflict, "a category with this name exists")
		}
		if up.Position != nil {
			// Take it out of the order, then put it where asked.
			if _, err := tx.Exec(ctx, `UPDATE forum_categories SET position = position - 1 WHERE position > $1`, pos); err != nil {
				return fmt.Errorf("moving category: %w", err)
			}
			if pos, err = placeAt(ctx, tx, up.Position, false); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE forum_categories SET name_en = coalesce($2, name_en), name_ar = coalesce($3, name_ar),
			position = $4 WHERE id = $1`, id, up.Name, up.NameAr, pos); err != nil {
			return fmt.Errorf("updating category: %w", err)
		}
		return nil
	})
}

// DeleteCategory removes a category without live topics; its deleted topics move to fallback.
func (s *Store) DeleteCategory(ctx context.Context, id, fallback string) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockCategories(ctx, tx); err != nil {
			return err
		}
		var pos, live int
		err := tx.QueryRow(ctx, `SELECT position, topic_count FROM forum_categories WHERE id = $1`, id).Scan(&pos, &live)
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.E(errs.NotFound, "no such category")
		}
		if err != nil {
			return fmt.Errorf("loading category: %w", err)
		}
		if live > 0 {
			return errs.E(errs.Conflict, "the category has %d topics; move them first", live)
		}
		if _, err := tx.Exec(ctx, `UPDATE forum_topics SET category_id = $2 WHERE category_id = $1`, id, fallback); err != nil {
			return fmt.Errorf("moving deleted topics: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM forum_categories WHERE id = $1`, id); err != nil {
			return fmt.Errorf("removing category: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE forum_categories SET position = position - 1 WHERE position > $1`, pos); err != nil {
			return fmt.Errorf("closing the order: %w", err)
		}
		return nil
	})
}

// lockCategories orders changes of the categories' order one at a time.
func lockCategories(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `LOCK TABLE forum_categories IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("locking categories: %w", err)
	}
	return nil
}

// placeAt opens the 1-based position asked for (clamped to the end; the end when nil) and
// returns it. adding says whether the end is one past the last category.
func placeAt(ctx context.Context, tx pgx.Tx, position *int, adding bool) (int, error) {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM forum_categories`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting categories: %w", err)
	}
	if !adding {
		n-- // the one being moved is counted and out of the order
	}
	end := n + 1
	pos := end
	if position != nil {
		pos = min(max(*position, 1), end)
	}
	if _, err := tx.Exec(ctx, `UPDATE forum_categories SET position = position + 1 WHERE position >= $1`, pos); err != nil {
		return 0, fmt.Errorf("making room: %w", err)
	}
	return pos, nil
}
