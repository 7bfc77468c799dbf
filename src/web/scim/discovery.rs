//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` and `/Groups`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::domain::scim::{discovery, ScimError};

use super::errors::json;
use super::{base_url, Scim};
use crate::web::AppState;

pub async fn service_provider_config(_: Scim, state: web::Data<AppState>) -> HttpResponse {
    json(StatusCode::OK, &discovery::service_provider_config(&base_url(&state)))
}

pub async fn resource_types(_: Scim, state: web::Data<AppState>) -> HttpResponse {
    json(
        StatusCode::OK,
        &discovery::list(vec![discovery::user_resource_type(&base_url(&state))]),
    )
}

pub async fn resource_type(
    _: Scim,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    if path.eq_ignore_ascii_case("User") {
        Ok(json(StatusCode::OK, &discovery::user_resource_type(&base_url(&state))))
    } else {
        Err(ScimError::NotFound(format!("no resource type {}", path.as_str())))
    }
}

pub async fn schemas(_: Scim, state: web::Data<AppState>) -> HttpResponse {
    json(StatusCode::OK, &discovery::list(discovery::schemas(&base_url(&state))))
}

pub async fn schema(_: Scim, state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ScimError> {
    discovery::schema(&base_url(&state), &path)
        .map(|s| json(StatusCode::OK, &s))
        .ok_or_else(|| ScimError::NotFound(format!("no schema {}", path.as_str())))
}

/// Groups are not offered: an empty list, whatever the filter, so a
/// provider's connection test that looks a group up passes.
pub async fn groups(_: Scim) -> HttpResponse {
    json(StatusCode::OK, &discovery::list(Vec::new()))
}
