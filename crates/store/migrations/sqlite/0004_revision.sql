-- A counter bumped by every write, in the write's own transaction, so servers can cache what
-- they read and notice any change (their own or another server's) with one cheap query.
-- Keep in step with ../postgres/0004_revision.sql.

CREATE TABLE data_revision (
    id    BIGINT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO data_revision (id, value) VALUES (1, 0);
