//! The pure-Rust cores. Nothing here depends on wasm-bindgen or JS types.

pub mod activity;
pub mod describe;
pub mod durable;
pub mod event_buffer;
pub mod event_log;
pub mod json;
pub mod number;
pub mod payload;
pub mod redis;
