//! `Users` on SQLite: a row per user name, and totals and the leaderboard summed from attempts, scores and
//! cards.

use rusqlite::{OptionalExtension, params};

use super::*;
use crate::clock::Timestamp;
use crate::store::*;

impl Users for SqliteStore {
    fn user(&mut self, name: &str, now: Timestamp) -> Result<UserId> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO users (name, created_ms) VALUES (?1, ?2)",
                params![name, now.0],
            )?;
            tx.query_row("SELECT id FROM users WHERE name = ?1", [name], |row| row.get(0))
        })
    }

    fn user_name(&self, user: UserId) -> Result<Option<String>> {
        Ok(self
            .connection
            .query_row("SELECT name FROM users WHERE id = ?1", params![user], |row| row.get(0))
            .optional()?)
    }

    fn find_user(&self, name: &str) -> Result<Option<UserId>> {
        Ok(self
            .connection
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |row| row.get(0))
            .optional()?)
    }

    fn stats(&self, user: UserId, now: Timestamp) -> Result<UserStats> {
        let count = |sql: &str, extra: Option<i64>| -> rusqlite::Result<u64> {
            let value: i64 = match extra {
                Some(extra) => self.connection.query_row(sql, params![user, extra], |row| row.get(0))?,
                None => self.connection.query_row(sql, [user], |row| row.get(0))?,
            };
            Ok(value as u64)
        };
        Ok(UserStats {
            attempts: count("SELECT count(*) FROM attempts WHERE user_id = ?1", None)?,
            correct: count("SELECT count(*) FROM attempts WHERE user_id = ?1 AND correct = 1", None)?,
            sessions: count(
                "SELECT count(DISTINCT session_id) FROM attempts WHERE user_id = ?1",
                None,
            )?,
            points: count("SELECT COALESCE(SUM(points), 0) FROM scores WHERE user_id = ?1", None)?,
            cards: count("SELECT count(*) FROM cards WHERE user_id = ?1", None)?,
            due_cards: count(
                "SELECT count(*) FROM cards WHERE user_id = ?1 AND due_ms <= ?2",
                Some(now.0),
            )?,
        })
    }

    /// Users by points summed over every finished session, best first (ties by name), at most `limit`.
    fn leaderboard(&self, name_prefix: &str, limit: usize) -> Result<Vec<LeaderLine>> {
        let mut statement = self.connection.prepare(
            "SELECT u.name, SUM(s.points), COUNT(*) FROM scores s JOIN users u ON u.id = s.user_id \
             WHERE substr(u.name, 1, length(?1)) = ?1 GROUP BY u.id ORDER BY SUM(s.points) DESC, u.name LIMIT ?2",
        )?;
        let lines = statement
            .query_map(params![name_prefix, limit as i64], |row| {
                Ok(LeaderLine {
                    user_name: row.get(0)?,
                    points: row.get::<_, i64>(1)? as u64,
                    sessions: row.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(lines)
    }
}
