//! CSV output written atomically (placeholder until implemented).
