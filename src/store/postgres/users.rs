//! Users: a name's id, created on first use.

use super::*;

impl PgStore {
    /// Looks the name up first and inserts only when it is missing: `ON CONFLICT DO NOTHING` alone would
    /// draw an identity value on every call and leave gaps in the ids (SQLite's `INSERT OR IGNORE` does
    /// not). Two replicas creating the same name at once: one inserts, the other's insert waits for that
    /// commit, does nothing, and reads the winner's id.
    pub fn user(&mut self, name: &str, now: Timestamp) -> Result<UserId> {
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

    pub fn user_name(&self, user: UserId) -> Result<Option<String>> {
        self.read(move |tx| {
            let row = tx.query_opt("SELECT name FROM users WHERE id = $1", &[&user])?;
            Ok(row.map(|row| row.try_get(0)).transpose()?)
        })
    }

    pub fn find_user(&self, name: &str) -> Result<Option<UserId>> {
        let name = name.to_string();
        self.read(move |tx| {
            let row = tx.query_opt("SELECT id FROM users WHERE name = $1", &[&name])?;
            Ok(row.map(|row| row.try_get(0)).transpose()?)
        })
    }
}
