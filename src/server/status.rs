//! The one table that maps engine errors to gRPC status codes. Internal details are logged
//! here once and never sent to the client.

use crate::engine::EngineError;
use tonic::Status;

/// Returns the status for an engine error.
pub fn to_status(e: &EngineError) -> Status {
    match e {
        EngineError::InvalidArgument { .. } => Status::invalid_argument(e.to_string()),
        EngineError::NotFound(_) => Status::not_found(e.to_string()),
        EngineError::UnsupportedLanguage(_) | EngineError::Precondition(_) => {
            Status::failed_precondition(e.to_string())
        }
        EngineError::StorageFull(_) => Status::resource_exhausted(e.to_string()),
        EngineError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            Status::internal("internal error")
        }
    }
}
