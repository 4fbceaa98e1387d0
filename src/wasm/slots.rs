//! Slot indices for values kept on the JS heap; the allocator is pure Rust and lives in the core.

pub use crate::core::slots::SlotAllocator;
