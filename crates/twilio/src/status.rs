//! Twilio's call statuses (`CallStatus` of a status callback) in Frontdesk's terms.

use frontdesk_core::call::CallStatus;

/// The final status a Twilio `CallStatus` reports (`completed`, `busy`, `no-answer`,
/// `failed`, `canceled`); `None` while the call goes on (`queued`, `initiated`,
/// `ringing`, `in-progress`, `answered`).
#[must_use]
pub fn final_status(reported: &str) -> Option<CallStatus> {
    match reported {
        "completed" => Some(CallStatus::Completed),
        "busy" => Some(CallStatus::Busy),
        "no-answer" => Some(CallStatus::NoAnswer),
        "failed" => Some(CallStatus::Failed),
        "canceled" => Some(CallStatus::Canceled),
        _ => None,
    }
}

/// Whether a progress status means the phone is ringing (a queued call moves on).
#[must_use]
pub fn is_ringing(reported: &str) -> bool {
    matches!(reported, "initiated" | "ringing")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(final_status("no-answer"), Some(CallStatus::NoAnswer));
        assert_eq!(final_status("completed"), Some(CallStatus::Completed));
        assert_eq!(final_status("in-progress"), None);
        assert!(is_ringing("initiated") && is_ringing("ringing") && !is_ringing("answered"));
    }
}
