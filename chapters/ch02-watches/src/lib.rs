//! ch02-watches: to be written.
