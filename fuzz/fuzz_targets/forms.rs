//! Any form body through the bulk form's parser, and any text through the
//! email check: a clear refusal or a well-formed request, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offboard::web::bulk::Fields;

fuzz_target!(|data: &[u8]| {
    if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) {
        let fields = Fields(pairs);
        let _ = fields.action();
        let _ = fields.transfer();
        let _ = fields.user_ids();
    }
    let _ = offboard::email::parse(&String::from_utf8_lossy(data));
});
