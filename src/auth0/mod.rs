//! Talking to Auth0: the Management API client with retries and rate-limit
//! pacing, the token grant, log ids and the event model.

pub mod client;
pub mod event;
pub mod log_id;
pub mod pacing;
