//! Any bytes through the Update-users CSV reader: a clear error or rows, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offboard::csv_import;
use offboard::domain::Action;

fuzz_target!(|data: &[u8]| {
    for action in [Action::Deactivate, Action::Unlink, Action::Delete] {
        if let Ok(file) = csv_import::read(data, action) {
            for row in file.rows() {
                assert!(row.line >= 2, "data rows come after the header");
                let _ = csv_import::safe_cell(&row.email);
            }
        }
    }
});
