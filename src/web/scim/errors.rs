//! The one place where SCIM failures become answers: every [`ScimError`]
//! is an Error resource (RFC 7644 §3.12) in `application/scim+json`, and
//! every service failure is first mapped to one. Only a database failure
//! is a 500 ("something went wrong", logged); client input never is.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::domain::scim::ScimError;
use crate::services::scim::ScimFailure;
use crate::services::ServiceError;

pub const CONTENT_TYPE: &str = "application/scim+json";

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = json(self.status_code(), &self.body());
        if matches!(self, ScimError::Unauthorized) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        if matches!(self, ScimError::Busy) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        resp
    }
}

/// A SCIM answer.
pub fn json(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .body(body.to_string())
}

impl From<ScimFailure> for ScimError {
    fn from(f: ScimFailure) -> Self {
        match f {
            ScimFailure::Scim(e) => e,
            ScimFailure::Service(e) => e.into(),
        }
    }
}

impl From<ServiceError> for ScimError {
    fn from(e: ServiceError) -> Self {
        match e {
            // The rule's own words, with its number: "R3: an admin must first be changed into a member".
            ServiceError::Refused(r) => ScimError::Refused(r.to_string()),
            ServiceError::NotFound => ScimError::NotFound("no such user in this account".into()),
            ServiceError::Conflict => ScimError::Uniqueness("the userName belongs to another user".into()),
            ServiceError::Invalid(text) => ScimError::InvalidValue(text),
            ServiceError::File(e) => ScimError::InvalidValue(e.to_string()),
            ServiceError::Busy | ServiceError::ChangedUnderUs => ScimError::Busy,
            ServiceError::Db(e) => {
                tracing::error!(error = %e, "SCIM request failed");
                ScimError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Refusal;

    #[test]
    fn refusals_name_their_rule_and_are_400() {
        let e: ScimError = ServiceError::Refused(Refusal::AdminMustBeMember).into();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("admin must first be changed into a member"));
        let e: ScimError = ServiceError::Conflict.into();
        assert_eq!(e.scim_type(), Some("uniqueness"));
    }
}
