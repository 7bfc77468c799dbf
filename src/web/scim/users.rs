//! `/Users`: list (filter, paging, attribute projection), get, create,
//! replace, patch and delete. Each calls one function of `services::scim`.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::domain::scim::filter::{self, Condition};
use crate::domain::scim::project::Projection;
use crate::domain::scim::resource::{self, get_ci};
use crate::domain::scim::{ScimError, DEFAULT_COUNT, LIST_SCHEMA, MAX_COUNT};
use crate::services::scim::{self as service, ScimUser};
use crate::services::{self};

use super::errors::json as answer;
use super::{base_url, db, json_body, Scim};
use crate::web::AppState;

/// What a list asks for, from the query string or a `.search` body.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub conditions: Vec<Condition>,
    pub start_index: i64,
    pub count: i64,
    pub projection: Projection,
}

fn integer(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::InvalidValue(format!("{name} must be an integer")))
}

impl ListQuery {
    /// startIndex below 1 counts as 1; count below 0 as 0, above the cap as the cap.
    fn new(
        filter: Option<&str>,
        start: Option<i64>,
        count: Option<i64>,
        projection: Projection,
    ) -> Result<Self, ScimError> {
        let conditions = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => filter::parse(f)?,
            None => Vec::new(),
        };
        Ok(ListQuery {
            conditions,
            start_index: start.unwrap_or(1).max(1),
            count: count.unwrap_or(DEFAULT_COUNT).clamp(0, MAX_COUNT),
            projection,
        })
    }

    fn from_params(params: &HashMap<String, String>) -> Result<Self, ScimError> {
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let start = param("startIndex").map(|s| integer("startIndex", s)).transpose()?;
        let count = param("count").map(|s| integer("count", s)).transpose()?;
        let projection = Projection::parse(param("attributes"), param("excludedAttributes"));
        ListQuery::new(param("filter"), start, count, projection)
    }

    fn from_search(body: &Value) -> Result<Self, ScimError> {
        let Value::Object(map) = body else {
            return Err(ScimError::InvalidSyntax(
                "the body must be a SearchRequest object".into(),
            ));
        };
        let list = |name: &str| -> Result<Option<String>, ScimError> {
            match get_ci(map, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .map(|v| Some(v.join(",")))
                    .ok_or_else(|| ScimError::InvalidValue(format!("{name} must be a list of names"))),
                Some(_) => Err(ScimError::InvalidValue(format!("{name} must be a list of names"))),
            }
        };
        let number = |name: &str| match get_ci(map, name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ScimError::InvalidValue(format!("{name} must be an integer"))),
        };
        let filter = match get_ci(map, "filter") {
            None | Some(Value::Null) => None,
            Some(Value::String(f)) => Some(f.as_str()),
            Some(_) => return Err(ScimError::InvalidFilter("filter must be a string".into())),
        };
        let projection = Projection::parse(list("attributes")?.as_deref(), list("excludedAttributes")?.as_deref());
        ListQuery::new(filter, number("startIndex")?, number("count")?, projection)
    }
}

fn params(req: &HttpRequest) -> Result<HashMap<String, String>, ScimError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .map(|pairs| pairs.into_iter().collect())
        .map_err(|_| ScimError::InvalidSyntax("the query string could not be read".into()))
}

fn rendered(user: &ScimUser, base: &str, projection: &Projection) -> Value {
    projection.apply(resource::to_json(&user.fields(), &user.meta(), base))
}

async fn run_list(state: &AppState, caller: &Scim, query: ListQuery) -> Result<HttpResponse, ScimError> {
    let account_id = caller.0.by.account_id;
    let (conditions, start, count) = (query.conditions, query.start_index, query.count);
    let page = super::read(state, move |conn| {
        Ok(service::list(conn, account_id, &conditions, start, count)?)
    })
    .await?;
    let base = base_url(state);
    let resources: Vec<Value> = page
        .users
        .iter()
        .map(|u| rendered(u, &base, &query.projection))
        .collect();
    Ok(answer(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": page.total,
            "startIndex": page.start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

pub async fn list(caller: Scim, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ScimError> {
    let query = ListQuery::from_params(&params(&req)?)?;
    run_list(&state, &caller, query).await
}

/// `POST /.search` and `POST /Users/.search` (only users are served).
pub async fn search(
    caller: Scim,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let query = ListQuery::from_search(&json_body(payload).await?)?;
    run_list(&state, &caller, query).await
}

/// An id that is no number names no user.
fn user_id(path: &str) -> Result<i64, ScimError> {
    path.parse::<i64>()
        .map_err(|_| ScimError::NotFound(format!("no user with id {path}")))
}

fn one(state: &AppState, user: &ScimUser, status: StatusCode, projection: &Projection) -> HttpResponse {
    let base = base_url(state);
    let mut resp = answer(status, &rendered(user, &base, projection));
    if let Ok(v) = header::HeaderValue::from_str(&format!("{base}/Users/{}", user.user.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub async fn get(
    caller: Scim,
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&path)?;
    let p = params(&req)?;
    let param = |n: &str| p.get(n).map(String::as_str);
    let projection = Projection::parse(param("attributes"), param("excludedAttributes"));
    let account_id = caller.0.by.account_id;
    let user = super::read(&state, move |conn| Ok(service::get(conn, account_id, id)?)).await?;
    Ok(one(&state, &user, StatusCode::OK, &projection))
}

pub async fn create(
    caller: Scim,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let fields = resource::from_resource(&json_body(payload).await?, true)?;
    let by = caller.0.by;
    let user = db(&state, move |conn| service::create(conn, &by, &fields, services::now())).await?;
    Ok(one(&state, &user, StatusCode::CREATED, &Projection::default()))
}

pub async fn replace(
    caller: Scim,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&path)?;
    let body = json_body(payload).await?;
    let by = caller.0.by;
    let user = db(&state, move |conn| {
        service::replace(conn, &by, id, &body, services::now())
    })
    .await?;
    Ok(one(&state, &user, StatusCode::OK, &Projection::default()))
}

pub async fn patch(
    caller: Scim,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&path)?;
    let body = json_body(payload).await?;
    let by = caller.0.by;
    let user = db(&state, move |conn| {
        service::patch(conn, &by, id, &body, services::now())
    })
    .await?;
    Ok(one(&state, &user, StatusCode::OK, &Projection::default()))
}

pub async fn delete(
    caller: Scim,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&path)?;
    let by = caller.0.by;
    db(&state, move |conn| service::delete(conn, &by, id, services::now())).await?;
    Ok(HttpResponse::NoContent().finish())
}
