//! The integration tests, one binary (one link): each module is one area, `common` the harness
//! (the binary as a command or a process, the in-process sandbox, send runs, TLS and proxy
//! servers on loopback, temporary folders, the test data inside this repository).

mod common;
mod conformance;
mod csv_limit;
mod dead_letters;
mod dry_run;
mod gdpr;
mod generated;
mod hostile;
mod input;
mod input_formats;
mod layout;
mod ledger;
mod lock;
mod net_faults;
mod parquet;
mod progress;
mod read_containers;
mod readme;
mod resume;
mod rudder_corpus;
mod rudder_mapping;
mod safety;
mod sandbox;
mod sandbox_app_api;
mod send;
mod send_faults;
mod stops;
mod transform;
mod validate;
mod verify;
