//! tidepool: bounded, observable buffers for agent and product-analytics events.
//!
//! `core` is pure Rust (no wasm-bindgen, no JS types) and is what `cargo test` covers.
//! `wasm` holds the wasm-bindgen bindings; it is compiled for wasm32 only and is the only
//! code that knows about `JsValue`.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod wasm;
