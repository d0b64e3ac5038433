//! What the fuzz targets share: the little format a session is written in, so that the
//! fuzzer mutates what clients send rather than how the target reads it.

pub mod session;
