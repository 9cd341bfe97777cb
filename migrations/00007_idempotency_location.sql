-- +goose Up
-- A replayed creation answers with the Location header of the first answer too.
ALTER TABLE idempotency_keys ADD COLUMN response_location text;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN response_location;
