//! Users: a name's id, created on first use.

use super::*;
use crate::clock::Timestamp;
use crate::store::*;

impl Users for PgStore {
    /// Looks the name up first and inserts only when it is missing: `ON CONFLICT DO NOTHING` alone would
    /// draw an identity value on every call and leave gaps in the ids (SQLite's `INSERT OR IGNORE` does
    /// not). Two replicas creating the same name at once: one inserts, the other's insert waits for that
    /// commit, does nothing, and reads the winner's id.
    fn user(&mut self, name: &str, now: Timestamp) -> Result<UserId> {
        let name = name.to_string();
        self.write(move |tx| {
            let select = "SELECT id FROM users WHERE name = $1";
            if let Some(row) = tx.query_opt(select, &[&name])? {
                return Ok(row.try_get(0)?);
            }
            let inserted = tx.query_opt(
                "INSERT INTO users (name, created_ms) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name, &now.0],
            )?;
            let row = match inserted {
                Some(row) => row,
                None => tx.query_one(select, &[&name])?,
            };
            Ok(row.try_get(0)?)
        })
    }

    fn user_name(&self, user: UserId) -> Result<Option<String>> {
        self.read(move |tx| {
            let row = tx.query_opt("SELECT name FROM users WHERE id = $1", &[&user])?;
            Ok(row.map(|row| row.try_get(0)).transpose()?)
        })
    }

    fn find_user(&self, name: &str) -> Result<Option<UserId>> {
        let name = name.to_string();
        self.read(move |tx| {
            let row = tx.query_opt("SELECT id FROM users WHERE name = $1", &[&name])?;
            Ok(row.map(|row| row.try_get(0)).transpose()?)
        })
    }

    fn stats(&self, user: UserId, now: Timestamp) -> Result<UserStats> {
        self.read(move |tx| {
            let row = tx.query_one(
                "SELECT
                     (SELECT count(*) FROM attempts WHERE user_id = $1),
                     (SELECT count(*) FROM attempts WHERE user_id = $1 AND correct),
                     (SELECT count(DISTINCT session_id) FROM attempts WHERE user_id = $1),
                     (SELECT COALESCE(SUM(points), 0)::BIGINT FROM scores WHERE user_id = $1),
                     (SELECT count(*) FROM cards WHERE user_id = $1),
                     (SELECT count(*) FROM cards WHERE user_id = $1 AND due_ms <= $2)",
                &[&user, &now.0],
            )?;
            let column = |i: usize| -> Result<u64, ::postgres::Error> { Ok(row.try_get::<_, i64>(i)?.max(0) as u64) };
            Ok(UserStats {
                attempts: column(0)?,
                correct: column(1)?,
                sessions: column(2)?,
                points: column(3)?,
                cards: column(4)?,
                due_cards: column(5)?,
            })
        })
    }

    /// Users by points summed over every finished session, best first (ties by name), at most `limit`:
    /// `SqliteStore::leaderboard` on PostgreSQL.
    fn leaderboard(&self, name_prefix: &str, limit: usize) -> Result<Vec<LeaderLine>> {
        let name_prefix = name_prefix.to_string();
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT u.name, SUM(s.points)::BIGINT, COUNT(*) FROM scores s JOIN users u ON u.id = s.user_id
                 WHERE starts_with(u.name, $1) GROUP BY u.id, u.name ORDER BY SUM(s.points) DESC, u.name COLLATE \"C\" LIMIT $2",
                &[&name_prefix, &sql_limit(limit)],
            )?;
            let mut lines = Vec::with_capacity(rows.len());
            for row in &rows {
                lines.push(LeaderLine {
                    user_name: row.try_get(0)?,
                    points: row.try_get::<_, i64>(1)?.max(0) as u64,
                    sessions: row.try_get::<_, i64>(2)?.max(0) as u64,
                });
            }
            Ok(lines)
        })
    }
}
