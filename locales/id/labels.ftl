# Labels for data the pages show: licenses, the audit log's details and
# export columns, the request id on error pages. Audit details are stored
# in English and translated when shown (src/web/audit_detail.rs).
error-request-id = ID permintaan: { $id }
license-large-meetings = Rapat besar
license-webinar = Webinar
license-phone = Telepon
detail-licenses-removed = lisensi dihapus: { $list }
detail-reactivated = diaktifkan kembali sebagai Dasar; lisensi tidak dipulihkan
detail-unlinked = dipindahkan ke akun gratis baru dengan { $meetings } rapat, { $webinars } webinar, { $events } acara, { $recordings } rekaman
detail-deleted = { $meetings } rapat ({ $pmi } dengan ID Rapat Pribadi), { $webinars } webinar, { $events } acara, { $recordings } rekaman dihapus; { $phone } rekaman telepon disimpan
detail-custom-role = peran kustom: { $name }
detail-no-custom-role = tidak ada
detail-auto-delete = { $state } setelah { $days } hari, peringatan { $warning }
detail-on = aktif
detail-off = nonaktif
audit-col-id = id
audit-col-at = waktu (UTC)
audit-col-actor = dilakukan oleh
audit-col-action = tindakan
audit-col-target = pengguna
audit-col-source = sumber
audit-col-job = tugas
audit-col-transfer-to = ditransfer ke
audit-col-meetings = rapat
audit-col-webinars = webinar
audit-col-events = acara
audit-col-recordings = rekaman
audit-col-detail = detail
