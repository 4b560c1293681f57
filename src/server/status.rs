//! The one table that maps engine errors to gRPC status codes. Internal details are logged
//! here once and never sent to the client.

use crate::engine::EngineError;
use tonic::Status;

/// Longest status message sent, in UTF-8 bytes: a message can quote a caller's value, which
/// can be megabytes long, and a default client refuses a grpc-message of 8 KiB or more
/// (percent-encoded, a byte outside ASCII takes three). (It was 120 characters, which cut
/// the hint off messages about a dump's encoding or format: user trial.)
const MAX_MESSAGE_BYTES: usize = 2_000;

/// Most invalid records a refused re-index or edit logs (the client is sent ten).
const LOGGED_RECORDS: usize = 100;

/// Returns the status for an engine error.
pub fn to_status(e: &EngineError) -> Status {
    match e {
        EngineError::InvalidArgument { .. } => Status::invalid_argument(clip(e.to_string())),
        // Bounded by construction: each record's problem is cut, and at most ten listed. The
        // server's log lists more, so an operator sees them where the call was refused.
        EngineError::InvalidRecords { problems, .. } => {
            let logged: Vec<String> = problems
                .iter()
                .take(LOGGED_RECORDS)
                .map(|p| crate::lang::start(p, crate::engine::RECORD_CHARS))
                .collect();
            tracing::warn!(
                records = problems.len(),
                problems = %logged.join("; "),
                "invalid records refused; nothing was changed"
            );
            Status::invalid_argument(e.to_string())
        }
        EngineError::NotFound(_) => Status::not_found(clip(e.to_string())),
        EngineError::UnsupportedLanguage(_) | EngineError::Precondition(_) => {
            Status::failed_precondition(clip(e.to_string()))
        }
        EngineError::StorageFull(_) => Status::resource_exhausted(e.to_string()),
        EngineError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            Status::internal("internal error")
        }
    }
}

/// Cuts a message to [`MAX_MESSAGE_BYTES`] at a character boundary, marking the cut with an
/// ellipsis.
fn clip(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES - '…'.len_utf8();
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_invalid_value_is_clipped_in_the_message() {
        let e = EngineError::InvalidArgument {
            field: "agent_language",
            message: format!("unknown language tag {:?}", "x".repeat(3_000_000)),
        };
        let s = to_status(&e);
        assert_eq!(s.code(), tonic::Code::InvalidArgument);
        assert_eq!(s.message().len(), MAX_MESSAGE_BYTES);
        assert!(s.message().ends_with('…'));
        assert!(s
            .message()
            .starts_with("agent_language: unknown language tag \"xxx"));
        // Cut at a character boundary, within the bytes (a Korean id of 3,000 characters).
        let id = "출".repeat(3_000);
        let s = to_status(&EngineError::missing(&[&id], None));
        assert!(
            s.message().len() <= MAX_MESSAGE_BYTES,
            "{}",
            s.message().len()
        );
        assert!(s.message().starts_with("article \"출출"), "{}", s.message());
        let short = to_status(&EngineError::missing(&["faq-1"], None));
        assert_eq!(short.message(), "article \"faq-1\" not found");
    }
}
