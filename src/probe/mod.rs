//! The reachability probe of `aistack verify`: a helper container built
//! locally from aistack's own executable (`image.rs`, ELF facts in
//! `elf.rs`) joins a source service's network namespace and runs the agent
//! (`agent.rs`, the hidden `aistack __probe` command), which looks names up
//! and connects to addresses and answers in JSON (`protocol.rs`); `run.rs`
//! drives one such container through the `Engine`.
//!
//! Must not: decide what to probe or what to expect (that is `verify`).

pub mod agent;
pub mod elf;
pub mod image;
pub mod protocol;
pub mod run;
