//! ch01-znode: to be written.
