//! samplemix

pub mod score;
