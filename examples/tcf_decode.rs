//! Decodes TC strings given as arguments (a debugging aid): `cargo run --example tcf_decode -- STRING...`
fn main() {
    for s in std::env::args().skip(1) {
        match consentry::signals::tcf::decode(&s) {
            Ok(d) => println!(
                "{s}\n  {} | {} | segments {:?}",
                d.header(),
                d.bits(),
                d.segments
            ),
            Err(e) => println!("{s}\n  error: {e}"),
        }
    }
}
