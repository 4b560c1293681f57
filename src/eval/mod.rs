//! Evaluation built into the product: retrieval quality of a knowledge base on labelled
//! queries (run through the same code as the Search RPC), language-detection accuracy, and
//! translation-memory retrieval on parallel text.

pub mod langid;
pub mod retrieval;
pub mod tm;
