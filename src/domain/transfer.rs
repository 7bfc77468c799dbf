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
