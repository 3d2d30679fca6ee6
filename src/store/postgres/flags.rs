//! Flags members raise on questions (a wrong key, a typo), listed by where the fix goes.

use super::*;
use crate::clock::Timestamp;
use crate::store::*;

impl Flags for PgStore {
    fn add_flag(&mut self, flag: &NewFlag) -> Result<FlagId> {
        let flag = flag.clone();
        self.write(move |tx| {
            let row = tx.query_one(
                "INSERT INTO flags (question_id, user_id, reason, path, line, session_id, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    &flag.question_id,
                    &flag.user,
                    &flag.reason,
                    &flag.path,
                    &(flag.line as i64),
                    &flag.session,
                    &flag.created_at.0,
                ],
            )?;
            Ok(row.try_get(0)?)
        })
    }

    fn flags(&self) -> Result<Vec<FlagRecord>> {
        self.read(|tx| {
            let rows = tx.query(
                "SELECT f.id, f.question_id, u.name, f.reason, f.path, f.line, f.created_ms
                 FROM flags f JOIN users u ON u.id = f.user_id ORDER BY f.path COLLATE \"C\", f.line, f.id",
                &[],
            )?;
            let mut flags = Vec::with_capacity(rows.len());
            for row in &rows {
                flags.push(FlagRecord {
                    id: row.try_get(0)?,
                    question_id: row.try_get(1)?,
                    user_name: row.try_get(2)?,
                    reason: row.try_get(3)?,
                    path: row.try_get(4)?,
                    line: row.try_get::<_, i64>(5)?.max(0) as usize,
                    created_at: Timestamp(row.try_get(6)?),
                });
            }
            Ok(flags)
        })
    }
}
