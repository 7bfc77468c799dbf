// Written by hand to match both migration folders (diesel print-schema would
// give SQLite's Integer for ids; both backends store 64-bit ids).

diesel::table! {
    accounts (id) {
        id -> BigInt,
        name -> Text,
        is_free -> Bool,
        auto_delete_enabled -> Bool,
        auto_delete_days -> Integer,
        auto_delete_warn -> Bool,
        created_at -> Timestamp,
        time_zone -> Text,
    }
}

diesel::table! {
    custom_roles (id) {
        id -> BigInt,
        account_id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    role_privileges (role_id, privilege) {
        role_id -> BigInt,
        privilege -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        account_id -> BigInt,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        first_lc -> Text,
        last_lc -> Text,
        role -> Text,
        custom_role_id -> Nullable<BigInt>,
        status -> Text,
        user_type -> Text,
        webinar_license -> Bool,
        phone_license -> Bool,
        large_meeting_license -> Bool,
        is_external -> Bool,
        is_room -> Bool,
        deactivated_at -> Nullable<Timestamp>,
        password_hash -> Nullable<Text>,
        settings -> Text,
        language -> Nullable<Text>,
        session_epoch -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    managed_domains (id) {
        id -> BigInt,
        account_id -> BigInt,
        domain -> Text,
    }
}

diesel::table! {
    meetings (id) {
        id -> BigInt,
        owner_id -> BigInt,
        topic -> Text,
        uses_pmi -> Bool,
        start_at -> Timestamp,
    }
}

diesel::table! {
    webinars (id) {
        id -> BigInt,
        owner_id -> BigInt,
        topic -> Text,
        start_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        owner_id -> BigInt,
        title -> Text,
        start_at -> Timestamp,
    }
}

diesel::table! {
    cloud_recordings (id) {
        id -> BigInt,
        owner_id -> BigInt,
        topic -> Text,
        size_bytes -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    phone_records (id) {
        id -> BigInt,
        account_id -> BigInt,
        user_id -> Nullable<BigInt>,
        user_email -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        account_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_email -> Text,
        action -> Text,
        target_id -> Nullable<BigInt>,
        target_email -> Text,
        source -> Text,
        job_id -> Nullable<BigInt>,
        transfer_to_email -> Nullable<Text>,
        meetings_transferred -> Integer,
        webinars_transferred -> Integer,
        events_transferred -> Integer,
        recordings_transferred -> Integer,
        detail -> Text,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(meetings -> users (owner_id));
diesel::joinable!(webinars -> users (owner_id));
diesel::joinable!(events -> users (owner_id));
diesel::joinable!(cloud_recordings -> users (owner_id));
diesel::joinable!(role_privileges -> custom_roles (role_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    custom_roles,
    role_privileges,
    users,
    managed_domains,
    meetings,
    webinars,
    events,
    cloud_recordings,
    phone_records,
    audit_log,
);

diesel::table! {
    bulk_runs (token) {
        token -> Text,
        account_id -> BigInt,
        actor_id -> BigInt,
        action -> Text,
        user_ids -> Text,
        state -> Text,
        done -> Integer,
        skipped -> Integer,
        failed -> Integer,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(bulk_runs, users);

diesel::table! {
    import_jobs (id) {
        id -> BigInt,
        account_id -> BigInt,
        actor_id -> BigInt,
        actor_email -> Text,
        action -> Text,
        filename -> Text,
        headers -> Text,
        state -> Text,
        total -> Integer,
        valid -> Integer,
        done -> Integer,
        skipped -> Integer,
        failed -> Integer,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        lang -> Text,
        error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        applied_through -> BigInt,
    }
}

diesel::table! {
    import_rows (job_id, line) {
        job_id -> BigInt,
        line -> BigInt,
        email -> Text,
        cells -> Text,
        user_id -> Nullable<BigInt>,
        transfer_to -> Nullable<Text>,
        transfer_meetings -> Bool,
        transfer_webinars -> Bool,
        transfer_events -> Bool,
        transfer_recordings -> Bool,
        state -> Text,
        reason -> Text,
        due_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(import_rows -> import_jobs (job_id));
diesel::allow_tables_to_appear_in_same_query!(import_jobs, import_rows);

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        account_id -> BigInt,
        dedupe_key -> Text,
        to_email -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        failed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    signin_throttle (key) {
        key -> Text,
        attempts -> Integer,
        window_start -> Timestamp,
        lockouts -> Integer,
        blocked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(sessions, users);

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        account_id -> BigInt,
        url -> Text,
        events -> Text,
        secret -> Text,
        old_secret -> Nullable<Text>,
        old_secret_until -> Nullable<Timestamp>,
        state -> Text,
        created_by_email -> Text,
        created_at -> Timestamp,
        validated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> BigInt,
        account_id -> BigInt,
        event -> Text,
        body -> Text,
        created_at -> Timestamp,
        fanned_out -> Bool,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        event_id -> BigInt,
        endpoint_id -> BigInt,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        given_up -> Bool,
        last_status -> Nullable<Integer>,
        last_ms -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_deliveries, webhook_events, webhook_endpoints);

diesel::table! {
    scheduled_acts (id) {
        id -> BigInt,
        account_id -> BigInt,
        user_id -> BigInt,
        user_email -> Text,
        action -> Text,
        transfer_to -> Nullable<Text>,
        transfer_meetings -> Bool,
        transfer_webinars -> Bool,
        transfer_events -> Bool,
        transfer_recordings -> Bool,
        due_at -> Timestamp,
        scheduled_by_id -> BigInt,
        scheduled_by_email -> Text,
        state -> Text,
        outcome -> Text,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(scheduled_acts, users);
diesel::allow_tables_to_appear_in_same_query!(scheduled_acts, accounts);

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        account_id -> BigInt,
        name -> Text,
        scopes -> Text,
        token_hash -> Text,
        last4 -> Text,
        created_by -> Nullable<BigInt>,
        created_by_email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(api_tokens, users);

diesel::table! {
    /// Users per account and status, kept by triggers (issue 18).
    user_counts (account_id, status) {
        account_id -> BigInt,
        status -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    /// Audit rows per account, day (UTC, `YYYY-MM-DD`) and action, kept by a trigger (issue 18).
    audit_counts (account_id, day, action) {
        account_id -> BigInt,
        day -> Text,
        action -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    scim_users (user_id) {
        user_id -> BigInt,
        account_id -> BigInt,
        external_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
        manager_email -> Nullable<Text>,
        deprovisioned_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_settings (account_id) {
        account_id -> BigInt,
        delete_action -> Text,
        transfer_to -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_requests (id) {
        id -> BigInt,
        account_id -> BigInt,
        at -> Timestamp,
        token_name -> Text,
        method -> Text,
        path -> Text,
        status -> Integer,
        detail -> Text,
    }
}

diesel::joinable!(scim_users -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(scim_users, users);
