//! The `tsumiage` command: a thin adapter over the library. It reads arguments, settings and files,
//! calls the core and prints; errors are printed with their whole chain, never as a panic.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A `.env` file is optional; the environment wins over it.
    let _ = dotenvy::dotenv();
    match cli::run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("tsumiage: {}", cli::error_message(&format!("{error:#}")));
            ExitCode::from(2)
        }
    }
}
