-- Uploaded returns waiting for their sender to confirm the import after the preview. Kept in
-- the database, not on one server's disk, so any server can confirm. Keep in step with
-- ../postgres/0003_staged_uploads.sql.

CREATE TABLE staged_uploads (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    file_name  TEXT NOT NULL,
    contents   BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
