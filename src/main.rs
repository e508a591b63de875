//! The `awrsr` command-line tool: train, evaluate and query models.

fn main() -> std::process::ExitCode {
    awrsr::cli::run()
}
