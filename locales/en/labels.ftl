# Labels for data the pages show: licenses, the audit log's details and
# export columns, the request id on error pages. Audit details are stored
# in English and translated when shown (src/web/audit_detail.rs).
error-request-id = Request id: { $id }
license-large-meetings = Large meetings
license-webinar = Webinar
license-phone = Phone
detail-licenses-removed = licenses removed: { $list }
detail-reactivated = reactivated as Basic; licenses not restored
detail-unlinked = moved to a new free account with { $meetings } meetings, { $webinars } webinars, { $events } events, { $recordings } recordings
detail-deleted = deleted { $meetings } meetings ({ $pmi } on the PMI), { $webinars } webinars, { $events } events, { $recordings } recordings; kept { $phone } phone records
detail-custom-role = custom role: { $name }
detail-no-custom-role = none
detail-auto-delete = { $state } after { $days } days, warning { $warning }
detail-on = on
detail-off = off
audit-col-id = id
audit-col-at = at (UTC)
audit-col-actor = actor
audit-col-action = action
audit-col-target = target
audit-col-source = source
audit-col-job = job
audit-col-transfer-to = transferred to
audit-col-meetings = meetings
audit-col-webinars = webinars
audit-col-events = events
audit-col-recordings = recordings
audit-col-detail = detail
