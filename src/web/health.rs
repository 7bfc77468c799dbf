//! Health checks for a load balancer (SPEC B9): `/healthz` says the process
//! answers; `/readyz` that it can serve, i.e. its database answers and has
//! exactly the schema this binary was built for. Plain text, no session.

use actix_web::{web, HttpResponse};

use super::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// How long `/readyz` waits for a pooled connection: a load balancer's
/// check times out after a few seconds, and a pool starved for that long
/// is as good as down for new requests.
const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let checked = web::block(move || -> Result<(), String> {
        let mut conn = pool.get_timeout(READY_WAIT).map_err(|e| format!("database: {e}"))?;
        crate::db::schema_current(&mut conn).map_err(|e| e.to_string())
    })
    .await;
    match checked {
        Ok(Ok(())) => HttpResponse::Ok().content_type("text/plain").body("ready\n"),
        Ok(Err(why)) => {
            tracing::warn!(%why, "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body(format!("not ready: {why}\n"))
        }
        Err(_) => HttpResponse::ServiceUnavailable().body("not ready\n"),
    }
}
