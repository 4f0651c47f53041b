//! `puente`: see `puente --help`. Everything lives in the library (`puente_node`).

fn main() -> std::process::ExitCode {
    puente_node::cli::main()
}
