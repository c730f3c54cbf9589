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
    ADMISSION,
];

/// Migration 3: admission without a global lock's full scans, and the
/// changes of the claims announced to every node.
///
/// - One row, `jido_admission`, holds the number of claim rows and the
///   number of the last change of them. Every writer of `jido_sessions`
///   (the functions below: nothing else may write it) locks that row first,
///   so that claims are decided one transaction at a time without counting
///   or sweeping the table: the limit is a comparison with the counter, the
///   unique id and project are index probes, and lapsed claims are swept
///   only when they stand in the way (the limit is reached, or one holds
///   the id or the project) or a lease after they lapsed (`jido_sweep`).
/// - Each writer numbers its changes (one more per row inserted or
///   deleted) and announces them, `NOTIFY jido_sessions`, with lines
///   `<version> c <id> <node> <lease> <fence> <project as hex, or ->` and
///   `<version> r <id> <fence>`; the numbers follow commit order (taken
///   under the row's lock). A node's `jido_nodes` row announces
///   `n <node> <lease> <expires, µs since the epoch>` when it changes.
/// - `jido_admit` decides a node's queued claims and releases in one call.
///
/// Nodes of a version before this migration write `jido_sessions` without
/// the counter: stop them all before nodes of this version start.
const ADMISSION: &str = r#"
CREATE TABLE jido_admission (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    claims    bigint NOT NULL,
    version   bigint NOT NULL
);
INSERT INTO jido_admission (claims, version) SELECT count(*), 0 FROM jido_sessions;

CREATE FUNCTION jido_sessions_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'claims are inserted and deleted, never updated';
END
$$;
CREATE TRIGGER jido_sessions_updated BEFORE UPDATE ON jido_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION jido_sessions_updated();

CREATE FUNCTION jido_nodes_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jido_sessions',
        'n ' || NEW.node || ' ' || NEW.lease || ' '
        || (extract(epoch FROM NEW.expires_at) * 1000000)::bigint);
    RETURN NULL;
END
$$;
CREATE TRIGGER jido_nodes_changed AFTER INSERT OR UPDATE ON jido_nodes
    FOR EACH ROW EXECUTE FUNCTION jido_nodes_changed();

-- Announces `p_lines` (newline-terminated), in notifications of at most
-- about 7,000 bytes, cut at line ends.
CREATE FUNCTION jido_announce(p_lines text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_rest text := p_lines;
    v_cut int;
BEGIN
    WHILE length(v_rest) > 7000 LOOP
        v_cut := 7000 - position(E'\n' IN reverse(left(v_rest, 7000))) + 1;
        PERFORM pg_notify('jido_sessions', left(v_rest, v_cut));
        v_rest := substr(v_rest, v_cut + 1);
    END LOOP;
    IF length(v_rest) > 0 THEN
        PERFORM pg_notify('jido_sessions', v_rest);
    END IF;
END
$$;

-- Deletes the claims `p_ids` (the admission row already locked by the
-- caller), counts and announces them; returns how many went. (Each row
-- by its own simple statement: PL/pgSQL runs those several times faster
-- than one statement over `unnest` of the arrays.)
CREATE FUNCTION jido_delete_claims(p_ids uuid[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_deleted bigint := 0;
    v_version bigint;
    v_fence bigint;
    v_lines text := '';
BEGIN
    SELECT a.version INTO v_version FROM jido_admission a;
    FOR k IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
        DELETE FROM jido_sessions s WHERE s.id = p_ids[k] RETURNING s.fence INTO v_fence;
        IF FOUND THEN
            v_deleted := v_deleted + 1;
            v_lines := v_lines || (v_version + v_deleted) || ' r ' || p_ids[k] || ' '
                       || v_fence || E'\n';
        END IF;
    END LOOP;
    IF v_deleted > 0 THEN
        UPDATE jido_admission SET claims = claims - v_deleted, version = version + v_deleted;
        PERFORM jido_announce(v_lines);
    END IF;
    RETURN v_deleted;
END
$$;

-- A node's queued releases, then its queued claims, in one transaction:
-- the admission row locked first; for each claim in order, the lease, the
-- attempt's tombstone, the limit (lapsed claims swept once when it is
-- reached, and the counter checked against the table), the id and the
-- project (a lapsed claim holding either deleted; a claim made earlier in
-- the same batch is live). One row per claim: its index (from 1), the
-- outcome, the fence of a claim made, the owner of a project held, the
-- count at a limit.
CREATE FUNCTION jido_admit(
    p_node uuid, p_lease bigint,
    p_ids uuid[], p_projects bytea[], p_texts text[], p_attempts uuid[], p_limits bigint[],
    p_release_ids uuid[], p_release_fences bigint[])
RETURNS TABLE (r_index int, r_outcome text, r_fence bigint, r_owner uuid, r_count bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_claims bigint;
    v_version bigint;
    v_lines text := '';
    v_live boolean;
    v_swept boolean := false;
    v_id uuid;
    v_node uuid;
    v_lease bigint;
    v_fence bigint;
    -- One instant for every test of a lease in the batch: a claim made
    -- early in it is live for the rest of it.
    v_now timestamptz;
BEGIN
    SELECT a.claims, a.version INTO v_claims, v_version FROM jido_admission a FOR UPDATE;
    v_now := clock_timestamp();
    FOR k IN 1 .. coalesce(cardinality(p_release_ids), 0) LOOP
        DELETE FROM jido_sessions s
         WHERE s.id = p_release_ids[k] AND s.fence = p_release_fences[k] AND s.node = p_node;
        IF FOUND THEN
            v_claims := v_claims - 1;
            v_version := v_version + 1;
            v_lines := v_lines || v_version || ' r ' || p_release_ids[k] || ' '
                       || p_release_fences[k] || E'\n';
        END IF;
    END LOOP;
    IF coalesce(cardinality(p_ids), 0) > 0 THEN
        v_live := EXISTS (SELECT 1 FROM jido_nodes n
                           WHERE n.node = p_node AND n.lease = p_lease
                             AND n.expires_at > v_now);
    END IF;
    <<claims>>
    FOR i IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
        r_index := i; r_fence := NULL; r_owner := NULL; r_count := NULL;
        IF NOT v_live THEN
            r_outcome := 'lease_lost'; RETURN NEXT; CONTINUE;
        END IF;
        IF v_claims >= p_limits[i] AND NOT v_swept THEN
            -- Lapsed claims go, and the counter is checked against the
            -- table (a writer that bypassed it is healed here).
            UPDATE jido_admission SET claims = v_claims, version = v_version;
            PERFORM jido_announce(v_lines);
            v_lines := '';
            PERFORM jido_delete_claims(ARRAY(
                SELECT s.id FROM jido_sessions s
                 WHERE NOT EXISTS (SELECT 1 FROM jido_nodes n
                                    WHERE n.node = s.node AND n.lease = s.lease
                                      AND n.expires_at > v_now)));
            SELECT count(*) INTO v_claims FROM jido_sessions;
            SELECT a.version INTO v_version FROM jido_admission a;
            UPDATE jido_admission SET claims = v_claims;
            v_swept := true;
        END IF;
        IF v_claims >= p_limits[i] THEN
            r_outcome := 'limit'; r_count := v_claims; RETURN NEXT; CONTINUE;
        END IF;
        -- Made at once unless the attempt was given up, or the id or the
        -- project is held: the common case is this one statement.
        INSERT INTO jido_sessions (id, project, project_text, node, lease, fence, attempt)
        SELECT p_ids[i], p_projects[i], p_texts[i], p_node, p_lease, nextval('jido_fence'),
               p_attempts[i]
         WHERE NOT EXISTS (SELECT 1 FROM jido_abandoned_attempts a
                            WHERE a.attempt = p_attempts[i])
        ON CONFLICT DO NOTHING
        RETURNING fence INTO v_fence;
        IF NOT FOUND THEN
            IF EXISTS (SELECT 1 FROM jido_abandoned_attempts a
                        WHERE a.attempt = p_attempts[i]) THEN
                r_outcome := 'abandoned'; RETURN NEXT; CONTINUE;
            END IF;
            -- The id: held live, or by a lapsed claim that goes.
            SELECT s.node, s.lease INTO v_node, v_lease FROM jido_sessions s WHERE s.id = p_ids[i];
            IF FOUND THEN
                IF EXISTS (SELECT 1 FROM jido_nodes n
                            WHERE n.node = v_node AND n.lease = v_lease
                              AND n.expires_at > v_now) THEN
                    r_outcome := 'duplicate_id'; RETURN NEXT; CONTINUE claims;
                END IF;
                DELETE FROM jido_sessions s WHERE s.id = p_ids[i] RETURNING s.fence INTO v_fence;
                v_claims := v_claims - 1;
                v_version := v_version + 1;
                v_lines := v_lines || v_version || ' r ' || p_ids[i] || ' ' || v_fence || E'\n';
            END IF;
            -- The project, the same way.
            SELECT s.id, s.node, s.lease INTO v_id, v_node, v_lease
              FROM jido_sessions s WHERE s.project = p_projects[i];
            IF FOUND THEN
                IF EXISTS (SELECT 1 FROM jido_nodes n
                            WHERE n.node = v_node AND n.lease = v_lease
                              AND n.expires_at > v_now) THEN
                    r_outcome := 'duplicate_project'; r_owner := v_id; RETURN NEXT; CONTINUE claims;
                END IF;
                DELETE FROM jido_sessions s WHERE s.id = v_id RETURNING s.fence INTO v_fence;
                v_claims := v_claims - 1;
                v_version := v_version + 1;
                v_lines := v_lines || v_version || ' r ' || v_id || ' ' || v_fence || E'\n';
            END IF;
            -- Only lapsed claims stood in the way, and they are gone (no
            -- other writer runs meanwhile: the admission row is held).
            INSERT INTO jido_sessions (id, project, project_text, node, lease, fence, attempt)
            VALUES (p_ids[i], p_projects[i], p_texts[i], p_node, p_lease, nextval('jido_fence'),
                    p_attempts[i])
            RETURNING fence INTO v_fence;
        END IF;
        v_claims := v_claims + 1;
        v_version := v_version + 1;
        v_lines := v_lines || v_version || ' c ' || p_ids[i] || ' ' || p_node || ' ' || p_lease
                   || ' ' || v_fence || ' '
                   || CASE WHEN length(p_projects[i]) <= 3000 THEN encode(p_projects[i], 'hex')
                           ELSE '-' END
                   || E'\n';
        r_outcome := 'claimed'; r_fence := v_fence; RETURN NEXT;
    END LOOP;
    IF v_lines <> '' THEN
        UPDATE jido_admission SET claims = v_claims, version = v_version;
        IF length(v_lines) <= 7000 THEN
            PERFORM pg_notify('jido_sessions', v_lines);
        ELSE
            PERFORM jido_announce(v_lines);
        END IF;
    END IF;
END
$$;

-- The claim function of migration 1, as one claim through jido_admit.
CREATE OR REPLACE FUNCTION jido_claim(
    p_id uuid, p_project bytea, p_project_text text,
    p_node uuid, p_lease bigint, p_limit bigint, p_attempt uuid)
RETURNS TABLE (r_outcome text, r_fence bigint, r_owner uuid, r_count bigint)
LANGUAGE sql AS $$
    SELECT a.r_outcome, a.r_fence, a.r_owner, a.r_count
      FROM jido_admit(p_node, p_lease, ARRAY[p_id], ARRAY[p_project], ARRAY[p_project_text],
                      ARRAY[p_attempt], ARRAY[p_limit], '{}', '{}') a
$$;

-- Migration 1's give-up, under the admission row instead of the advisory
-- lock: either the attempt already ran (its claim is deleted here) or it
-- runs later and finds its tombstone.
CREATE OR REPLACE FUNCTION jido_give_up(p_id uuid, p_attempt uuid)
RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM jido_admission FOR UPDATE;
    INSERT INTO jido_abandoned_attempts (attempt) VALUES (p_attempt)
        ON CONFLICT DO NOTHING;
    DELETE FROM jido_abandoned_attempts WHERE at < clock_timestamp() - interval '1 day';
    RETURN jido_delete_claims(
        ARRAY(SELECT s.id FROM jido_sessions s WHERE s.id = p_id AND s.attempt = p_attempt));
END
$$;

-- Deletes a node's claims (when it leaves).
CREATE FUNCTION jido_release_node(p_node uuid)
RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM jido_admission FOR UPDATE;
    RETURN jido_delete_claims(ARRAY(SELECT s.id FROM jido_sessions s WHERE s.node = p_node));
END
$$;

-- Sweeps the claims that lapsed more than `p_grace` ago (their node's
-- lease expired then) or whose lease a newer one of their node replaced:
-- until then `last_owner` can still name their node. Driven from the
-- nodes (a few rows) through the claims' (node, lease) index, so that a
-- tick with nothing to sweep reads no claim of a live node; locks the
-- admission row only when there is something to sweep. (Node rows are
-- never deleted, so every claim has one.)
CREATE FUNCTION jido_sweep(p_grace interval)
RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM jido_nodes n
          JOIN jido_sessions s ON s.node = n.node
         WHERE (n.expires_at < clock_timestamp() - p_grace AND s.lease <= n.lease)
            OR s.lease < n.lease) THEN
        RETURN 0;
    END IF;
    -- Listed again under the lock: a claim listed before it could have
    -- given way to a new one of the same id meanwhile.
    PERFORM 1 FROM jido_admission FOR UPDATE;
    RETURN jido_delete_claims(ARRAY(
        SELECT s.id FROM jido_nodes n
          JOIN jido_sessions s ON s.node = n.node
         WHERE (n.expires_at < clock_timestamp() - p_grace AND s.lease <= n.lease)
            OR s.lease < n.lease));
END
$$;
"#;

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
