//! Webhooks (B6) against a real HTTP receiver on 127.0.0.1: the validation
//! handshake, signed events from the outbox written with each act, retries
//! with back-off, and at-least-once delivery with one event id.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use offboard::db::schema::{webhook_deliveries, webhook_events};
use offboard::domain::webhooks::{hmac_hex, signature, EventKind};
use offboard::services::webhooks as hooks;
use offboard::webhooks::{deliver_once, WebhookSettings};

use crate::support::*;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver: answers the challenge with `secret`, and every event
/// with `status`; records what it got.
pub(crate) struct Receiver {
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    pub(crate) secret: Arc<Mutex<String>>,
    status: Arc<Mutex<u16>>,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        Receiver::on(TcpListener::bind("127.0.0.1:0").expect("bind"))
    }

    /// A receiver on a listener of the caller's (a port chosen before).
    fn on(listener: TcpListener) -> Receiver {
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let (seen, secret, status) = (
            Arc::default(),
            Arc::new(Mutex::new(String::new())),
            Arc::new(Mutex::new(200)),
        );
        let r = Receiver {
            url,
            seen,
            secret,
            status,
        };
        let (seen, secret, status) = (r.seen.clone(), r.secret.clone(), r.status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &seen, &secret, &status);
            }
        });
        r
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn answer(
    mut stream: std::net::TcpStream,
    seen: &Mutex<Vec<Seen>>,
    secret: &Mutex<String>,
    status: &Mutex<u16>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let (code, reply) = if json["event"] == "endpoint.url_validation" {
        let plain = json["payload"]["plainToken"].as_str().unwrap_or("").to_string();
        let encrypted = hmac_hex(&secret.lock().expect("lock"), &plain);
        (
            200,
            serde_json::json!({"plainToken": plain, "encryptedToken": encrypted}).to_string(),
        )
    } else {
        (*status.lock().expect("lock"), String::new())
    };
    seen.lock().expect("lock").push(Seen { headers, body });
    write!(
        stream,
        "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    )
}

fn settings() -> WebhookSettings {
    WebhookSettings {
        allow_private: true,
        ..Default::default()
    }
}

/// An endpoint of the Acme account for `events`, validated against `r`.
fn validated_endpoint(app: &TestApp, r: &Receiver, events: &[EventKind]) -> i64 {
    let mut conn = app.conn();
    let (by, _) = offboard::services::users::actor_by_email(&mut conn, "owner@acme.test").expect("owner");
    let e = hooks::add_endpoint(&mut conn, &by, &r.url, events, offboard::services::now()).expect("add");
    *r.secret.lock().expect("lock") = e.secret.clone();
    offboard::webhooks::validate(&e.url, &e.secret, true).expect("the receiver answers the challenge");
    hooks::set_validated(&mut conn, e.id, true, offboard::services::now()).expect("validated");
    e.id
}

fn secret_of(app: &TestApp, id: i64) -> String {
    hooks::find_endpoint(&mut app.conn(), app.account_id, id)
        .expect("endpoint")
        .secret
}

#[actix_web::test]
async fn an_act_sends_one_signed_event_after_the_handshake() {
    let app = TestApp::new();
    let r = Receiver::start();
    let id = validated_endpoint(&app, &r, &[EventKind::Deactivated, EventKind::Deleted]);
    let member = app.user(UserSpec::member("leaver@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    let resp = c.post(&format!("/users/{member}/deactivate"), &[]).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    let sent = deliver_once(&app.state.pool, &settings(), offboard::services::now(), 100).expect("deliver");
    assert_eq!(sent, 1);
    let seen = r.seen();
    assert_eq!(seen.len(), 2, "the challenge, then the event");
    let event = &seen[1];
    let ts: i64 = event
        .header("x-zm-request-timestamp")
        .expect("timestamp")
        .parse()
        .expect("secs");
    assert_eq!(
        event.header("x-zm-signature"),
        Some(signature(&secret_of(&app, id), ts, &event.body).as_str()),
        "signed with the endpoint's secret"
    );
    assert!(event
        .header("x-offboard-event-id")
        .is_some_and(|v| v.starts_with("evt_")));
    let json: serde_json::Value = serde_json::from_str(&event.body).expect("json");
    assert_eq!(json["event"], "user.deactivated");
    assert_eq!(json["payload"]["object"]["email"], "leaver@acme.test");
    assert_eq!(json["payload"]["operator"], "owner@acme.test");
    assert!(json["event_ts"].as_i64().is_some());
    // Delivered: nothing goes out again.
    assert_eq!(
        deliver_once(&app.state.pool, &settings(), offboard::services::now(), 100).expect("again"),
        0
    );
}

#[actix_web::test]
async fn a_refused_act_and_an_unwanted_event_write_nothing() {
    let app = TestApp::new();
    let r = Receiver::start();
    validated_endpoint(&app, &r, &[EventKind::Deleted]);
    let member = app.user(UserSpec::member("m@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    // Refused (the owner cannot be deactivated): rolled back, no event.
    let resp = c.htmx_post(&format!("/users/{}/deactivate", app.owner_id), &[]).await;
    assert!(resp.status.is_client_error());
    // Applied, but the endpoint does not subscribe to deactivations.
    c.post(&format!("/users/{member}/deactivate"), &[]).await;
    let events: i64 = webhook_events::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(events, 0);
}

#[actix_web::test]
async fn a_failing_receiver_is_retried_with_backoff_and_a_refusal_is_not() {
    let app = TestApp::new();
    let r = Receiver::start();
    validated_endpoint(&app, &r, &[EventKind::Deactivated]);
    *r.status.lock().expect("lock") = 503;
    let a = app.user(UserSpec::member("a@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.post(&format!("/users/{a}/deactivate"), &[]).await;
    let now = offboard::services::now();
    let pool = &app.state.pool;
    assert_eq!(deliver_once(pool, &settings(), now, 10).expect("first"), 1);
    assert_eq!(
        deliver_once(pool, &settings(), now, 10).expect("not yet"),
        0,
        "waits 5 minutes"
    );
    *r.status.lock().expect("lock") = 200;
    let later = now + chrono::Duration::minutes(6);
    assert_eq!(deliver_once(pool, &settings(), later, 10).expect("retry"), 1);
    let ids: Vec<String> = r.seen()[1..]
        .iter()
        .map(|s| s.header("x-offboard-event-id").unwrap_or("").to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "the retry carries the same event id");
    // A 4xx other than 408/429: given up at once.
    *r.status.lock().expect("lock") = 410;
    let b = app.user(UserSpec::member("b@acme.test"));
    c.post(&format!("/users/{b}/deactivate"), &[]).await;
    assert_eq!(deliver_once(pool, &settings(), later, 10).expect("refused"), 1);
    let far = later + chrono::Duration::hours(3);
    assert_eq!(deliver_once(pool, &settings(), far, 10).expect("no retry"), 0);
    let given_up: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::given_up.eq(true))
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(given_up, 1);
}

#[actix_web::test]
async fn a_delivery_claimed_by_a_sender_that_died_goes_out_once_its_lease_ends() {
    let app = TestApp::new();
    let r = Receiver::start();
    validated_endpoint(&app, &r, &[EventKind::Deactivated]);
    let a = app.user(UserSpec::member("a@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.post(&format!("/users/{a}/deactivate"), &[]).await;
    let now = offboard::services::now();
    let mut conn = app.conn();
    hooks::fan_out(&mut conn, now, 100).expect("fan out");
    // A sender claims it and dies before recording anything.
    let claimed = hooks::claim_due(&mut conn, now, 10, chrono::Duration::seconds(60)).expect("claim");
    assert_eq!(claimed.len(), 1);
    drop(conn);
    let pool = &app.state.pool;
    assert_eq!(
        deliver_once(pool, &settings(), now, 10).expect("leased"),
        0,
        "not while the lease holds"
    );
    let after = now + chrono::Duration::seconds(61);
    assert_eq!(deliver_once(pool, &settings(), after, 10).expect("taken over"), 1);
    let event = &r.seen()[1];
    assert_eq!(
        event.header("x-offboard-event-id"),
        Some(format!("evt_{}", claimed[0].event_id).as_str())
    );
}

#[actix_web::test]
async fn a_bulk_deactivation_writes_one_event_per_user_in_its_transaction() {
    let app = TestApp::new();
    let r = Receiver::start();
    validated_endpoint(&app, &r, &[EventKind::Deactivated]);
    let ids: Vec<String> = (0..30)
        .map(|i| app.user(UserSpec::member(&format!("b{i}@acme.test"))).to_string())
        .collect();
    let c = app.signed_in("owner@acme.test").await;
    let mut fields: Vec<(&str, &str)> = ids.iter().map(|id| ("user_ids", id.as_str())).collect();
    fields.push(("action", "deactivate"));
    let preview = c.htmx_post("/users/bulk/preview", &fields).await;
    let token = preview
        .body
        .split("/users/bulk/")
        .nth(1)
        .and_then(|t| t.split('/').next())
        .expect("token")
        .to_string();
    let done = c
        .htmx_post(
            &format!("/users/bulk/{token}/apply"),
            &[("action", "deactivate"), ("mode", "now")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let events: i64 = webhook_events::table
        .count()
        .get_result(&mut *app.conn())
        .expect("count");
    assert_eq!(events, 30);
    let pool = &app.state.pool;
    assert_eq!(
        deliver_once(pool, &settings(), offboard::services::now(), 100).expect("deliver"),
        30
    );
}

#[actix_web::test]
async fn the_webhooks_page_refuses_private_destinations_and_shows_the_secret_once() {
    let app = TestApp::new();
    let c = app.signed_in("owner@acme.test").await;
    let page = c.get("/webhooks").await;
    assert_eq!(page.status, StatusCode::OK);
    let resp = c
        .post(
            "/webhooks",
            &[("url", "http://127.0.0.1:9/hook"), ("events", "user.deactivated")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{}", resp.body);
    assert!(resp.body.contains("private"), "{}", resp.body);
    // Members have no Webhooks page.
    app.user(UserSpec::member("m@acme.test"));
    let m = app.signed_in("m@acme.test").await;
    assert!(m.get("/webhooks").await.status.is_client_error());
}

#[actix_web::test]
async fn a_receiver_that_is_down_gets_the_event_once_it_is_back() {
    let app = TestApp::new();
    let first = Receiver::start();
    let id = validated_endpoint(&app, &first, &[EventKind::Deactivated]);
    // The receiver dies: its port stops answering.
    let port_holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = port_holder.local_addr().expect("addr");
    drop(port_holder);
    let url = format!("http://{addr}/hook");
    diesel::update(offboard::db::schema::webhook_endpoints::table.find(id))
        .set(offboard::db::schema::webhook_endpoints::url.eq(&url))
        .execute(&mut *app.conn())
        .expect("moved");
    let a = app.user(UserSpec::member("a@acme.test"));
    let c = app.signed_in("owner@acme.test").await;
    c.post(&format!("/users/{a}/deactivate"), &[]).await;
    let now = offboard::services::now();
    let pool = &app.state.pool;
    assert_eq!(deliver_once(pool, &settings(), now, 10).expect("refused connection"), 1);
    let (attempts, given_up, error): (i32, bool, Option<String>) = webhook_deliveries::table
        .select((
            webhook_deliveries::attempts,
            webhook_deliveries::given_up,
            webhook_deliveries::last_error,
        ))
        .first(&mut *app.conn())
        .expect("delivery");
    assert_eq!((attempts, given_up), (1, false), "kept for a retry");
    assert!(error.is_some());
    // Back up on the same address; the retry gets through.
    let back = Receiver::on(TcpListener::bind(addr).expect("the same port again"));
    *back.secret.lock().expect("lock") = secret_of(&app, id);
    let later = now + chrono::Duration::minutes(6);
    assert_eq!(deliver_once(pool, &settings(), later, 10).expect("retry"), 1);
    assert_eq!(back.seen().len(), 1);
    let ts: i64 = back.seen()[0]
        .header("x-zm-request-timestamp")
        .expect("ts")
        .parse()
        .expect("secs");
    assert_eq!(
        back.seen()[0].header("x-zm-signature"),
        Some(signature(&secret_of(&app, id), ts, &back.seen()[0].body).as_str())
    );
}

#[actix_web::test]
async fn deliveries_waiting_for_a_paused_endpoint_go_out_in_order_once_it_is_resumed() {
    let app = TestApp::new();
    let r = Receiver::start();
    let id = validated_endpoint(&app, &r, &[EventKind::Deactivated]);
    let c = app.signed_in("owner@acme.test").await;
    for email in ["a@acme.test", "b@acme.test", "d@acme.test"] {
        let u = app.user(UserSpec::member(email));
        c.post(&format!("/users/{u}/deactivate"), &[]).await;
    }
    let now = offboard::services::now();
    let mut conn = app.conn();
    let (by, _) = offboard::services::users::actor_by_email(&mut conn, "owner@acme.test").expect("owner");
    hooks::fan_out(&mut conn, now, 100).expect("fan out");
    hooks::set_paused(&mut conn, &by, id, true, now).expect("pause");
    let lease = chrono::Duration::seconds(60);
    assert!(
        hooks::claim_due(&mut conn, now, 10, lease).expect("claim").is_empty(),
        "nothing is claimed for a paused endpoint"
    );
    hooks::set_paused(&mut conn, &by, id, false, now).expect("resume");
    let first = hooks::claim_due(&mut conn, now, 2, lease).expect("claim");
    let rest = hooks::claim_due(&mut conn, now, 10, lease).expect("claim");
    let ids: Vec<i64> = first.iter().chain(&rest).map(|d| d.delivery_id).collect();
    assert_eq!(
        (first.len(), rest.len()),
        (2, 1),
        "the limit holds and a claimed delivery is not claimed twice"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    let secret = secret_of(&app, id);
    assert!(first
        .iter()
        .chain(&rest)
        .all(|d| d.secret == secret && d.url == r.url && d.body.contains("user.deactivated")));
}

/// On PostgreSQL the sender's claim walks the pending index in id order
/// (`db::plan_claim`): a plain index scan marks the entries of deliveries
/// already made as dead, so the next claim skips them. Planned on the
/// statistics of an empty outbox, the same claim is a bitmap scan and a
/// sort (the control below), which visits every such entry and its heap
/// page again at each claim until a vacuum (168,000 of them after a
/// 90,000-event job: up to 2.2 s a claim, twice a second; issue 20).
#[test]
fn the_sender_claims_in_index_order_past_deliveries_already_made() {
    let app = TestApp::new();
    let Some(mut conn) = pg_connection(&app) else {
        return;
    };
    let a = app.account_id;
    conn.batch_execute(&format!(
        "ANALYZE webhook_deliveries; \
         INSERT INTO webhook_endpoints (account_id, url, events, secret, state, created_by_email, created_at) \
         VALUES ({a}, 'http://127.0.0.1:9/hook', 'user.deactivated', 's', 'active', 'owner@acme.test', now()); \
         INSERT INTO webhook_events (account_id, event, body, created_at) \
         SELECT {a}, 'user.deactivated', '{{}}', now() FROM generate_series(1, 3000); \
         INSERT INTO webhook_deliveries (event_id, endpoint_id, next_attempt_at) \
         SELECT e.id, (SELECT max(id) FROM webhook_endpoints), now() FROM webhook_events e; \
         UPDATE webhook_deliveries SET delivered_at = now();"
    ))
    .unwrap();
    let claim = "SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND NOT given_up \
                 AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now()) \
                 AND (endpoint_id + 0) = ANY('{1,2,3}') ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED";
    let control = explain(&mut conn, claim);
    assert!(
        control.contains("Sort"),
        "the control: planned as a bitmap scan and a sort\n{control}"
    );
    let walked = conn
        .transaction(|c| {
            offboard::db::plan_claim(c)?;
            Ok::<_, diesel::result::Error>(explain(c, claim))
        })
        .unwrap();
    assert!(!walked.contains("Sort"), "{walked}");
    assert!(
        walked.contains("Index Scan using webhook_deliveries_pending"),
        "{walked}"
    );
}

/// The sweeper removes events past the keeping days once every delivery of
/// theirs is made or given up, with those deliveries; an old event still
/// waiting for its receiver, and a recent one, stay.
#[actix_web::test]
async fn the_sweeper_purges_finished_deliveries_past_their_keeping_time() {
    let app = TestApp::new();
    let r = Receiver::start();
    validated_endpoint(&app, &r, &[EventKind::Deactivated]);
    let c = app.signed_in("owner@acme.test").await;
    let mut ids = Vec::new();
    for who in ["delivered", "given-up", "waiting", "recent"] {
        let member = app.user(UserSpec::member(&format!("{who}@acme.test")));
        c.post(&format!("/users/{member}/deactivate"), &[]).await;
        ids.push(member);
    }
    let now = offboard::services::now();
    assert_eq!(
        deliver_once(&app.state.pool, &settings(), now, 100).expect("deliver"),
        4
    );
    let mut pooled = app.conn();
    let conn = &mut *pooled;
    let events: Vec<i64> = webhook_events::table
        .order(webhook_events::id)
        .select(webhook_events::id)
        .load(conn)
        .unwrap();
    let old = now - chrono::Duration::days(31);
    diesel::update(webhook_events::table.filter(webhook_events::id.eq_any(&events[..3])))
        .set(webhook_events::created_at.eq(old))
        .execute(conn)
        .unwrap();
    let of = |e: i64| webhook_deliveries::table.filter(webhook_deliveries::event_id.eq(e));
    diesel::update(of(events[1]))
        .set((
            webhook_deliveries::delivered_at.eq(None::<chrono::NaiveDateTime>),
            webhook_deliveries::given_up.eq(true),
        ))
        .execute(conn)
        .unwrap();
    diesel::update(of(events[2]))
        .set(webhook_deliveries::delivered_at.eq(None::<chrono::NaiveDateTime>))
        .execute(conn)
        .unwrap();
    assert_eq!(hooks::purge_delivered(conn, now, 30).expect("purge"), 2);
    let left: Vec<i64> = webhook_events::table
        .order(webhook_events::id)
        .select(webhook_events::id)
        .load(conn)
        .unwrap();
    assert_eq!(
        left,
        vec![events[2], events[3]],
        "the waiting and the recent event stay"
    );
    let deliveries: Vec<i64> = webhook_deliveries::table
        .order(webhook_deliveries::event_id)
        .select(webhook_deliveries::event_id)
        .load(conn)
        .unwrap();
    assert_eq!(deliveries, vec![events[2], events[3]]);
    // Nothing more to do on a second sweep; at 0 keeping days the recent one goes too.
    assert_eq!(hooks::purge_delivered(conn, now, 30).expect("again"), 0);
    assert_eq!(
        hooks::purge_delivered(conn, now + chrono::Duration::seconds(1), 0).expect("all"),
        1
    );
}
