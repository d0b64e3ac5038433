//! ch05-election: to be written.
