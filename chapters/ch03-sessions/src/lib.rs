//! ch03-sessions: to be written.
