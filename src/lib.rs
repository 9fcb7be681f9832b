//! samplemix
