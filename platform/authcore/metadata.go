package authcore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// GET /recipe/user/metadata?userId=: {} for a user without metadata.
func (c *Core) getMetadata(ctx context.Context, r *request) (any, error) {
	userID := r.query.str("userId")
	if err := r.done(); err != nil {
		return nil, err
	}
	var meta []byte
	err := c.pool.QueryRow(ctx, `SELECT metadata FROM authcore.user_metadata WHERE user_id = $1`, userID).Scan(&meta)
	if errors.Is(err, pgx.ErrNoRows) {
		meta = []byte("{}")
	} else if err != nil {
		return nil, fmt.Errorf("get metadata: %w", err)
	}
	return ok("metadata", json.RawMessage(meta)), nil
}

// PUT /recipe/user/metadata {userId, metadataUpdate}: a shallow merge in which a top-level null
// deletes the key. One statement, so that concurrent updates of different keys both land.
func (c *Core) updateMetadata(ctx context.Context, r *request) (any, error) {
	userID, update := r.body.str("userId"), r.body.object("metadataUpdate")
	if err := r.done(); err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(update, &fields); err != nil {
		return nil, invalidField("metadataUpdate")
	}
	deleted := []string{}
	for k, v := range fields {
		if string(v) == "null" {
			deleted = append(deleted, k)
		}
	}
	var meta []byte
	err := c.pool.QueryRow(ctx, `INSERT INTO authcore.user_metadata AS m (user_id, metadata)
		VALUES ($1, $2::jsonb - $3::text[])
		ON CONFLICT (user_id) DO UPDATE SET metadata = (m.metadata || $2::jsonb) - $3::text[]
		RETURNING metadata`, userID, update, deleted).Scan(&meta)
	if err != nil {
		return nil, fmt.Errorf("update metadata: %w", err)
	}
	return ok("metadata", json.RawMessage(meta)), nil
}

// POST /recipe/user/metadata/remove {userId}
func (c *Core) removeMetadata(ctx context.Context, r *request) (any, error) {
	userID := r.body.str("userId")
	if err := r.done(); err != nil {
		return nil, err
	}
	if _, err := c.pool.Exec(ctx, `DELETE FROM authcore.user_metadata WHERE user_id = $1`, userID); err != nil {
		return nil, fmt.Errorf("remove metadata: %w", err)
	}
	return ok(), nil
}
