//! `Flags` on SQLite: flagged questions with the file and line where the fix goes.

use rusqlite::params;

use super::*;
use crate::clock::Timestamp;
use crate::store::*;

impl Flags for SqliteStore {
    fn add_flag(&mut self, flag: &NewFlag) -> Result<FlagId> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO flags (question_id, user_id, reason, path, line, session_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![flag.question_id, flag.user, flag.reason, flag.path, flag.line as i64, flag.session, flag.created_at.0],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn flags(&self) -> Result<Vec<FlagRecord>> {
        let mut statement = self.connection.prepare(
            "SELECT f.id, f.question_id, u.name, f.reason, f.path, f.line, f.created_ms
             FROM flags f JOIN users u ON u.id = f.user_id ORDER BY f.path, f.line, f.id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(FlagRecord {
                id: row.get(0)?,
                question_id: row.get(1)?,
                user_name: row.get(2)?,
                reason: row.get(3)?,
                path: row.get(4)?,
                line: row.get::<_, i64>(5)? as usize,
                created_at: Timestamp(row.get(6)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
