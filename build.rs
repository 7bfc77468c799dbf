// `embed_migrations!` reads `migrations/` at compile time, but cargo does not
// know it: without this a new migration directory alone would not rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
