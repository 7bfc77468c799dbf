//! What a transfer of data needs (R50-R52).

use super::{Refusal, Status};

/// Which kinds of data go to the target before unlink or delete (R50).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferChoice {
    pub meetings: bool,
    pub webinars: bool,
    pub events: bool,
    pub recordings: bool,
}

impl TransferChoice {
    pub fn any(&self) -> bool {
        self.meetings || self.webinars || self.events || self.recordings
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TransferTarget {
    pub id: i64,
    pub status: Status,
    pub same_account: bool,
    pub licensed: bool,
    pub webinar_license: bool,
}

/// Checks the target of a transfer. `batch` holds the ids removed in the
/// same bulk action or CSV file (R51); a single action passes just its user.
pub fn check_transfer(
    removed_id: i64,
    choice: &TransferChoice,
    target: Option<&TransferTarget>,
    batch: &[i64],
) -> Result<(), Refusal> {
    if !choice.any() {
        return Ok(());
    }
    let target = target.ok_or(Refusal::TargetMissing)?;
    if !target.same_account || target.status != Status::Active {
        return Err(Refusal::TargetNotActive);
    }
    if target.id == removed_id {
        return Err(Refusal::TargetIsRemoved);
    }
    if batch.contains(&target.id) {
        return Err(Refusal::TargetInBatch);
    }
    if choice.recordings && !target.licensed {
        return Err(Refusal::RecordingsNeedLicense);
    }
    if choice.webinars && !target.webinar_license {
        return Err(Refusal::WebinarsNeedLicense);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: TransferChoice = TransferChoice {
        meetings: true,
        webinars: true,
        events: true,
        recordings: true,
    };

    fn target() -> TransferTarget {
        TransferTarget {
            id: 20,
            status: Status::Active,
            same_account: true,
            licensed: true,
            webinar_license: true,
        }
    }

    #[test]
    fn nothing_chosen_needs_no_target() {
        assert_eq!(check_transfer(10, &TransferChoice::default(), None, &[10]), Ok(()));
    }

    #[test]
    fn r51_target_is_an_active_user_of_this_account_not_removed() {
        let t = target();
        assert_eq!(check_transfer(10, &ALL, Some(&t), &[10]), Ok(()));
        assert_eq!(check_transfer(10, &ALL, None, &[10]), Err(Refusal::TargetMissing));
        assert_eq!(check_transfer(20, &ALL, Some(&t), &[20]), Err(Refusal::TargetIsRemoved));
        assert_eq!(
            check_transfer(10, &ALL, Some(&t), &[10, 20]),
            Err(Refusal::TargetInBatch)
        );
        for status in [Status::Pending, Status::Deactivated] {
            assert_eq!(
                check_transfer(10, &ALL, Some(&TransferTarget { status, ..t }), &[10]),
                Err(Refusal::TargetNotActive)
            );
        }
        assert_eq!(
            check_transfer(
                10,
                &ALL,
                Some(&TransferTarget {
                    same_account: false,
                    ..t
                }),
                &[10]
            ),
            Err(Refusal::TargetNotActive)
        );
    }

    #[test]
    fn r52_recordings_need_a_license_and_webinars_a_webinar_license() {
        let basic = TransferTarget {
            licensed: false,
            webinar_license: false,
            ..target()
        };
        let meetings = TransferChoice {
            meetings: true,
            events: true,
            ..Default::default()
        };
        assert_eq!(check_transfer(10, &meetings, Some(&basic), &[10]), Ok(()));
        let recordings = TransferChoice {
            recordings: true,
            ..Default::default()
        };
        assert_eq!(
            check_transfer(10, &recordings, Some(&basic), &[10]),
            Err(Refusal::RecordingsNeedLicense)
        );
        let webinars = TransferChoice {
            webinars: true,
            ..Default::default()
        };
        let licensed = TransferTarget {
            licensed: true,
            ..basic
        };
        assert_eq!(
            check_transfer(10, &webinars, Some(&licensed), &[10]),
            Err(Refusal::WebinarsNeedLicense)
        );
        assert_eq!(check_transfer(10, &recordings, Some(&licensed), &[10]), Ok(()));
    }
}
