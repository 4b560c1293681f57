//! Evaluation built into the product: retrieval quality of a knowledge base on labelled
//! queries (run through the same code as the Search RPC), and language-detection accuracy.

pub mod langid;
pub mod retrieval;
