//! The tables and the claim function, created by the library on first use
//! (numbered migrations, applied once, under an advisory lock so that nodes
//! starting together do not race).

use deadpool_postgres::Client;

use crate::error::CallError;

/// The advisory lock key under which migrations run.
const MIGRATION_LOCK: i64 = 0x6a69_646f_0000_0001;

/// The migrations, in order; each applied once, recorded in
/// `jido_schema_migrations`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE SEQUENCE jido_fence;

CREATE TABLE jido_nodes (
    node        uuid PRIMARY KEY,
    lease       bigint NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE TABLE jido_sessions (
    id           uuid PRIMARY KEY,
    project      bytea NOT NULL UNIQUE,
    project_text text NOT NULL,
    node         uuid NOT NULL,
    lease        bigint NOT NULL,
    fence        bigint NOT NULL,
    -- Names the claim attempt, so that an attempt whose answer was lost can
    -- be given up without touching a later claim of the same id.
    attempt      uuid NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX jido_sessions_node ON jido_sessions (node, lease);

-- The one definition of a live claim: its node's lease is the current one
-- and has not expired (by the database's clock).
CREATE VIEW jido_live_sessions AS
    SELECT s.*
      FROM jido_sessions s
      JOIN jido_nodes n ON n.node = s.node AND n.lease = s.lease
     WHERE n.expires_at > clock_timestamp();

-- Claim attempts given up by their node: a late claim of one is refused.
CREATE TABLE jido_abandoned_attempts (
    attempt  uuid PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE jido_snapshots (
    id        uuid PRIMARY KEY,
    bytes     bytea NOT NULL,
    fence     bigint NOT NULL,
    saved_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A claim, decided in one transaction under one advisory lock: the node's
-- lease is live, claims of expired leases are dropped, then the limit, the
-- id and the project are checked and the row inserted with a new fence.
CREATE FUNCTION jido_claim(
    p_id uuid, p_project bytea, p_project_text text,
    p_node uuid, p_lease bigint, p_limit bigint, p_attempt uuid)
RETURNS TABLE (r_outcome text, r_fence bigint, r_owner uuid, r_count bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_count bigint;
    v_owner uuid;
BEGIN
    PERFORM pg_advisory_xact_lock(7596551232389890050);
    IF NOT EXISTS (SELECT 1 FROM jido_nodes n
                   WHERE n.node = p_node AND n.lease = p_lease
                     AND n.expires_at > clock_timestamp()) THEN
        RETURN QUERY SELECT 'lease_lost'::text, NULL::bigint, NULL::uuid, NULL::bigint;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM jido_abandoned_attempts a WHERE a.attempt = p_attempt) THEN
        RETURN QUERY SELECT 'abandoned'::text, NULL::bigint, NULL::uuid, NULL::bigint;
        RETURN;
    END IF;
    DELETE FROM jido_sessions s
     WHERE NOT EXISTS (SELECT 1 FROM jido_live_sessions l WHERE l.id = s.id);
    SELECT count(*) INTO v_count FROM jido_sessions;
    IF v_count >= p_limit THEN
        RETURN QUERY SELECT 'limit'::text, NULL::bigint, NULL::uuid, v_count;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM jido_sessions s WHERE s.id = p_id) THEN
        RETURN QUERY SELECT 'duplicate_id'::text, NULL::bigint, NULL::uuid, NULL::bigint;
        RETURN;
    END IF;
    SELECT s.id INTO v_owner FROM jido_sessions s WHERE s.project = p_project;
    IF FOUND THEN
        RETURN QUERY SELECT 'duplicate_project'::text, NULL::bigint, v_owner, NULL::bigint;
        RETURN;
    END IF;
    INSERT INTO jido_sessions (id, project, project_text, node, lease, fence, attempt)
    VALUES (p_id, p_project, p_project_text, p_node, p_lease, nextval('jido_fence'), p_attempt);
    RETURN QUERY SELECT 'claimed'::text, currval('jido_fence'), NULL::uuid, NULL::bigint;
END
$$;

-- Gives up a claim attempt whose answer was lost, under the claims' lock:
-- either the attempt already ran (its claim is deleted here) or it runs
-- later and finds its tombstone. Tombstones are kept a day.
CREATE FUNCTION jido_give_up(p_id uuid, p_attempt uuid)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_deleted bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7596551232389890050);
    INSERT INTO jido_abandoned_attempts (attempt) VALUES (p_attempt)
        ON CONFLICT DO NOTHING;
    DELETE FROM jido_abandoned_attempts WHERE at < clock_timestamp() - interval '1 day';
    DELETE FROM jido_sessions WHERE id = p_id AND attempt = p_attempt;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;
"#,
    r#"
-- Sessions' journals: one row per append, its frames (as jido-store's
-- journal frames them) ending with record number `last`.
CREATE TABLE jido_journal (
    id          uuid NOT NULL,
    last        bigint NOT NULL,
    frames      bytea NOT NULL,
    fence       bigint NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (id, last)
);
"#,
];

/// Applies the migrations this database lacks.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), CallError> {
    let operation = "migrate";
    let db = |error: tokio_postgres::Error| CallError::db(operation, &error);
    let tx = client.transaction().await.map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS jido_schema_migrations (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(db)?;
    let applied: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM jido_schema_migrations",
            &[],
        )
        .await
        .map_err(db)?
        .get(0);
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        if version <= applied {
            continue;
        }
        tx.batch_execute(migration).await.map_err(db)?;
        tx.execute(
            "INSERT INTO jido_schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}
