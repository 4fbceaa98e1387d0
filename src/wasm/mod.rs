//! wasm-bindgen bindings: the only code that knows about `JsValue`.
//!
//! One module per exported class or function group, plus `convert`, the one place where
//! values cross the boundary. Classes here are internal (`*Core`): the public JS classes in
//! `js/` wrap them to add bound methods, callbacks and error classes.

mod activity;
mod convert;
mod event_buffer;
mod event_log;
mod payload;
mod redis_buffer;
mod slots;
