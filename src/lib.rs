//! samplemix

pub mod diversity;
