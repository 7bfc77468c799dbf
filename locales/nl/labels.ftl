# Labels for data the pages show: licenses, the audit log's details and
# export columns, the request id on error pages. Audit details are stored
# in English and translated when shown (src/web/audit_detail.rs).
error-request-id = Kenmerk van je verzoek: { $id }
license-large-meetings = Grote vergaderingen
license-webinar = Webinar
license-phone = Telefoon
detail-licenses-removed = licenties verwijderd: { $list }
detail-reactivated = opnieuw geactiveerd als Basis; licenties niet hersteld
detail-unlinked = verplaatst naar een nieuw gratis account met { $meetings } vergaderingen, { $webinars } webinars, { $events } evenementen en { $recordings } opnames
detail-deleted = { $meetings } vergaderingen ({ $pmi } met de persoonlijke vergadering-ID), { $webinars } webinars, { $events } evenementen en { $recordings } opnames verwijderd; { $phone } gespreksopnames bewaard
detail-custom-role = aangepaste rol: { $name }
detail-no-custom-role = geen
detail-auto-delete = { $state } na { $days } dagen, waarschuwing { $warning }
detail-on = aan
detail-off = uit
audit-col-id = id
audit-col-at = tijdstip (UTC)
audit-col-actor = uitgevoerd door
audit-col-action = actie
audit-col-target = gebruiker
audit-col-source = bron
audit-col-job = taak
audit-col-transfer-to = overgedragen aan
audit-col-meetings = vergaderingen
audit-col-webinars = webinars
audit-col-events = evenementen
audit-col-recordings = opnames
audit-col-detail = details
