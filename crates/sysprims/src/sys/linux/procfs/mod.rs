//! `/proc`: pure parsers ([`parse`]) and the I/O around them ([`read`]).

pub(crate) mod net;
pub(crate) mod parse;
pub(crate) mod read;
