//! Pure policy logic with no database and no actors: business-hours schedules and routing-rule
//! conditions. Everything here is a plain function over plain data, so the actors and the HTTP
//! handlers can call it and the unit tests can cover it without a runtime.

pub mod routing;
pub mod schedule;
